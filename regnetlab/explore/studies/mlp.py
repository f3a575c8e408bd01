"""Exercise 4: MLP design spaces under the principles, trained small and scaled up.

The small networks are sampled within a parameter band (an MLP's cost is its weights),
so a constraint cannot win by merely making networks larger; each is then trained again
with every width times ``--scale`` to test whether the small ranking extrapolates.
"""
import numpy as np

from .. import report as r
from .. import sources
from ..spaces import MAX_TRIES, Band, SamplingError
from ..stats import kendall, mean_ci, spearman
from ..study import Study, Trial, band_of, rng

MODULE = "ex4_perfect_mlp"


def scale_mlp(cfg, factor):
    """The same MLP with every width (stem and stages) multiplied by ``factor``."""
    return {"arch": [[d, int(w * factor), k] for d, w, k in cfg["arch"]],
            "stem_width": int(cfg["stem_width"] * factor)}


def sample_in_band(source, rand, constraints, band):
    """Draw with the exercise's ``sample_anymlp`` until the built MLP's parameter count
    lies in ``band`` (rejection, as for the CNN spaces)."""
    from ...summary import count_params

    for _ in range(MAX_TRIES if band else 1):
        cfg = sources.call(source, MODULE, "sample_anymlp", rand, constraints=constraints)
        cfg = {"arch": [list(s) for s in cfg["arch"]], "stem_width": cfg["stem_width"]}
        if band is None:
            return cfg
        model = sources.call(source, MODULE, "AnyMLP", tuple(map(tuple, cfg["arch"])),
                             cfg["stem_width"])
        if count_params(model) in band:
            return cfg
    raise SamplingError(f"MLP space {constraints or 'none'}: no network with "
                        f"{band.describe()} in {MAX_TRIES} draws")


class MLPStudy(Study):
    name = "mlp"
    summary = ("exercise 4: MLP spaces under constraints, N networks each, trained small "
               "and scaled up (extrapolation)")
    order = 40
    default_n = 6
    default_seeds = 3
    uses_source = True
    # around the median size of the reference sampler's MLPs; 0.9-1.0 as for the CNNs
    band = Band("params", 135_000, 150_000)

    def add_arguments(self, p):
        p.add_argument("--scale", type=_positive_int, default=4,
                       help="mlp only: width factor of the large networks (default 4)")

    def settings(self, args):
        return {**super().settings(args), "scale": getattr(args, "scale", 4)}

    def trials(self, n, seeds, settings, source="solutions", args=None):
        seed, band, scale = settings["seed"], band_of(settings), settings["scale"]
        names = tuple(sources.get(source, MODULE, "MLP_PRINCIPLES"))
        constraint_sets = {"none": (), **{p: (p,) for p in names}, "all": names}
        out = []
        for name, cons in constraint_sets.items():
            for i in range(n):
                cfg = sample_in_band(source, rng(seed, self.name, name, i), cons, band)
                for size, factor in (("small", 1), ("large", scale)):
                    out.append(Trial(f"{size}/{name}/{i:03d}", f"{size}/{name}", "source",
                                     {"module": MODULE, "class": "AnyMLP",
                                      "kwargs": scale_mlp(cfg, factor)}, seed + i))
        for s in range(seed, seed + seeds):
            out.append(Trial(f"PerfectMLP/s{s}", "PerfectMLP", "source",
                             {"module": MODULE, "class": "PerfectMLP"}, s))
        return out

    def banded(self, records):
        return [x for x in records if x["group"].startswith("small/")]

    def command_flags(self, groups):
        return [f"--n {len(groups.get('small/none', []))}",
                f"--seeds {len(groups.get('PerfectMLP', []))}"]

    def report(self, settings, records, context):
        g = r.by_group(records)
        spaces = sorted((k.split("/", 1)[1] for k in g if k.startswith("small/")),
                        key=lambda s: (s != "none", s == "all", s))  # none first, all last
        small_recs = [x for k in g if k.startswith("small/") for x in g[k]]
        lines = ["# Exercise 4: the perfect MLP", "", r.budget(settings, records, self)
                 + " Recorded with " + r.command(self, settings, records) + ".", "",
                 f"Small networks as sampled ({r.band_words(settings)}); large = the same "
                 f"networks with every width times {settings.get('scale')}.", "",
                 "## MLP design spaces (small networks)", "", r.GROUP_HEADER]
        lines += [r.group_row(s, g[f"small/{s}"]) for s in spaces]
        lines += ["", "Dominance of each constrained space over the unconstrained one:", ""]
        lines += r.dominance_rows([(f"small/{s}", "small/none") for s in spaces
                                   if s != "none"], g)
        sg = {s: g[f"small/{s}"] for s in spaces}
        vs_none = r.compare([(s, "none") for s in spaces if s != "none"], sg)
        if vs_none:
            lines += [""] + r.snippet("finding", [
                f"**Finding.** Small networks, {r.sizes(sg, spaces, 'space')}, sampled "
                f"{r.band_words(settings)}; against the unconstrained space none: "
                f"{r.dominance_finding(vs_none, 'constrained space')}."])
        if "PerfectMLP" in g:
            e = mean_ci(r.errors(g["PerfectMLP"]))
            lines += ["", f"PerfectMLP: error {r.pct(e['mean'])}% ± "
                      f"{r.pct(e['sd']) if e['n'] > 1 else '-'} (mean ± sd over {e['n']} "
                      f"seeds; {g['PerfectMLP'][0]['params']:,} parameters)."]
            for size in ("small", "large"):
                recs = [x for k in g if k.startswith(size + "/") for x in g[k]]
                errs = np.array([x["test_error"] for x in recs])
                if errs.size:
                    lines[-1] += (f" {int((errs < e['mean']).sum())} of the {errs.size} "
                                  f"sampled {size} MLPs ({r.params_range(recs)}) have a "
                                  "lower error.")
            lines[-1] += (" The small MLPs are not its size: at equal budget a bigger "
                          "network tends to win, as exercise 4 warns, so only the large ones "
                          "are near a like-for-like comparison.")
        lines += self.extrapolation(g, spaces, settings, context)
        figure = context.figure("mlp_edf.png")
        if figure:
            r.plot_edfs(figure, {s: r.errors(g[f"small/{s}"]) for s in spaces},
                        "MLP spaces, " + r.band_words(settings).replace("in the band ", ""),
                        r.short_budget(settings, small_recs,
                                       f"{len(small_recs)} small MLPs "
                                       + r.band_words(settings)))
        return lines

    def extrapolation(self, g, spaces, settings, context):
        """Does the ranking of the small networks predict the ranking scaled up?"""
        small = {x["key"].split("/", 1)[1]: x["test_error"] for k in g
                 if k.startswith("small/") for x in g[k]}
        large = {x["key"].split("/", 1)[1]: x["test_error"] for k in g
                 if k.startswith("large/") for x in g[k]}
        both = sorted(set(small) & set(large))
        lines = ["", "## Extrapolation: does the small ranking predict the large one?", ""]
        if len(both) < 3:
            return lines + ["Too few networks trained at both sizes (at least 3 needed)."]
        xs, ys = [small[k] for k in both], [large[k] for k in both]
        s_net, k_net = spearman(xs, ys), kendall(xs, ys)
        said = [f"- Networks: Spearman rho = {s_net['rho']:.2f} (p = {s_net['p']:.4f}) and "
                f"Kendall tau = {k_net['tau']:.2f} (p = {k_net['p']:.4f}) between each "
                f"network's error small and scaled up, n = {s_net['n']} networks."]
        med_s = {s: np.median([small[k] for k in both if k.startswith(s + "/")]) for s in spaces}
        med_l = {s: np.median([large[k] for k in both if k.startswith(s + "/")]) for s in spaces}
        if len(spaces) >= 3:
            s_sp = spearman([med_s[s] for s in spaces], [med_l[s] for s in spaces])
            said += [f"- Design spaces: Spearman rho = {s_sp['rho']:.2f} between the spaces' "
                     f"median errors small and large, n = {s_sp['n']} spaces, "
                     + ("exact" if s_sp["exact"] else "asymptotic")
                     + f" p = {s_sp['p']:.3f} (with n = {s_sp['n']} only a near-perfect "
                     "ranking can be significant)."]
        lines += r.snippet("extrapolation", said)
        lines += ["", "| space | median params small | median error % small | median params "
                  "large | median error % large | rank small | rank large |",
                  "|---|---|---|---|---|---|---|"]
        rs = {s: i for i, s in enumerate(sorted(spaces, key=lambda s: med_s[s]), 1)}
        rl = {s: i for i, s in enumerate(sorted(spaces, key=lambda s: med_l[s]), 1)}

        def params(size, s):
            return f"{np.median([x['params'] for x in g.get(f'{size}/{s}', [])]) / 1e3:.0f}k"
        lines += [f"| {s} | {params('small', s)} | {r.pct(med_s[s])} | {params('large', s)} | "
                  f"{r.pct(med_l[s])} | {rs[s]} | {rl[s]} |" for s in spaces]
        figure = context.figure("mlp_extrapolation.png")
        if figure:
            smalls = [x for k in g if k.startswith("small/") for x in g[k]]
            larges = [x for k in g if k.startswith("large/") for x in g[k]]
            what = (f"{len(both)} MLPs, each trained small ({r.params_range(smalls)}, "
                    f"sampled {r.band_words(settings).replace('in the band ', 'in ')}) and "
                    f"with widths x{settings.get('scale')} ({r.params_range(larges)})")
            self.scatter(figure, both, small, large, spaces, s_net, settings,
                         smalls + larges, what)
        return lines

    @staticmethod
    def scatter(path, both, small, large, spaces, s_net, settings, records, what=None):
        plt = r.pyplot()
        fig, ax = plt.subplots(figsize=(6.4, 5.2))
        for s in spaces:
            ks = [k for k in both if k.startswith(s + "/")]
            ax.scatter([100 * small[k] for k in ks], [100 * large[k] for k in ks], label=s,
                       alpha=0.75)
        lo = 100 * min(min(small.values()), min(large.values()))
        hi = 100 * max(max(small.values()), max(large.values()))
        ax.plot([lo, hi], [lo, hi], "k:", lw=0.8)
        ax.set_xlabel("error of the small network (%)")
        ax.set_ylabel(f"error scaled up x{settings.get('scale')} (%)")
        ax.set_title(f"MLP extrapolation: Spearman rho = {s_net['rho']:.2f} "
                     f"(n = {s_net['n']}, p = {s_net['p']:.2g})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
        fig.text(0.01, 0.01, r.short_budget(settings, records, what), fontsize=8.5, wrap=True)
        fig.tight_layout(rect=(0, 0.07, 1, 1))
        r.save(fig, path)


def _positive_int(text):
    from ...arguments import positive_int
    return positive_int(text)


STUDY = MLPStudy()
