"""Exercise 3: RegNetX32 against each VioNet member over seeds, plus sampled VioNets that
break exactly one principle each (in one complexity band, so size does not decide)."""
import numpy as np

from ... import principles
from .. import report as r
from .. import sources
from ..edf import dominance, edf
from ..spaces import VIONET_GROUPS_KEYS, Band, sample_vionet
from ..stats import mean_ci, welch_diff, within_noise
from ..study import Study, Trial, band_of, rng

MODULE = "ex3_vionet"
SAMPLED = tuple(f"sampled-{k}" for k in VIONET_GROUPS_KEYS)


class VioNetStudy(Study):
    name = "vionet"
    summary = ("exercise 3: RegNetX32 vs each VioNet member over seeds, plus N sampled "
               "networks breaking each principle")
    order = 30
    default_n = 4
    default_seeds = 4
    uses_source = True
    # two-stage VioNets with a 32-channel stem are larger than AnyNetX's: 2.16-2.40
    # MFLOPs keeps the paper's 0.9-1.0 ratio and 2-9% of each group's free draws
    band = Band("flops", 2_160_000, 2_400_000)

    def trials(self, n, seeds, settings, source="solutions", args=None):
        seed, band = settings["seed"], band_of(settings)
        members = sorted(sources.call(source, MODULE, "vionet_family"))
        out = []
        for s in range(seed, seed + seeds):
            out.append(Trial(f"RegNetX32/s{s}", "RegNetX32", "model", {"model": "RegNetX32"}, s))
            for m in members:
                out.append(Trial(f"VioNet-{m}/s{s}", f"VioNet-{m}", "source",
                                 {"module": MODULE, "member": m}, s))
        for g in VIONET_GROUPS_KEYS:
            for i in range(n):
                out.append(Trial(f"sampled-{g}/{i:03d}", f"sampled-{g}", "source",
                                 {"module": MODULE, "class": "VioNet",
                                  "kwargs": sample_vionet(rng(seed, self.name, g, i), g, band)},
                                 seed + i))
        return out

    def banded(self, records):
        return [x for x in records if x["group"] in SAMPLED]

    def command_flags(self, groups):
        return [f"--seeds {len(groups.get('RegNetX32', []))}",
                f"--n {len(groups.get('sampled-ok', []))}"]

    def report(self, settings, records, context):
        words = principles.PRINCIPLES
        g = r.by_group(records)
        base = g.get("RegNetX32", [])
        members = sorted(k for k in g if k.startswith("VioNet-"))
        lines = ["# Exercise 3: which RegNetX principle matters most? (VioNet)", "",
                 r.budget(settings, records, self) + " Recorded with "
                 + r.command(self, settings, records) + ".", ""]
        costs = {m: r.paired_cost(g[m], base) for m in members}
        ranked = sorted(members, key=lambda m: -costs[m]["mean"] if costs[m] else 0)
        lines += ["## The VioNet family over seeds", "",
                  "Cost = member's error minus RegNetX32's on the same seed (same data "
                  "order); positive means the violation hurts. 95% interval from Student's t "
                  "over seeds.", "",
                  "| rank | network | breaks | n seeds | error % mean ± sd | params | MFLOPs "
                  "| cost (pp) mean ± 95% | verdict |", "|---|---|---|---|---|---|---|---|---|"]
        if base:
            e = mean_ci(r.errors(base))
            lines.append(f"| - | RegNetX32 | nothing | {e['n']} | {r.pct(e['mean'])} ± "
                         f"{r.pct(e['sd']) if e['n'] > 1 else '-'} | {base[0]['params']:,} "
                         f"| {base[0]['flops'] / 1e6:.1f} | 0 | baseline |")
        for rank, m in enumerate(ranked, 1):
            e, c = mean_ci(r.errors(g[m])), costs[m]
            key = m.split("-", 1)[1]
            lines.append(f"| {rank} | {m} | {words.get(key, key)} | {e['n']} | "
                         f"{r.pct(e['mean'])} ± {r.pct(e['sd']) if e['n'] > 1 else '-'} | "
                         f"{g[m][0]['params']:,} | {g[m][0]['flops'] / 1e6:.1f} | "
                         + (f"{100 * c['mean']:+.1f} ± {100 * c['ci95']:.1f} | "
                            f"{r.noise_words(c)} |" if c and c["n"] > 1 else "- | one seed |"))
        sampled = [k for k in SAMPLED if k in g]
        ok = r.errors(g["sampled-ok"]) if "sampled-ok" in g else None
        if ok is not None and len(sampled) > 1:
            lines += ["", "## Sampled networks per violated principle", "",
                      f"Each group draws networks {r.band_words(settings)} that break exactly "
                      "one principle (ok: none). Cost = group's mean error minus the ok "
                      "group's, Welch's 95% interval; D+ = how far ok's EDF lies above the "
                      "group's (exact one-sided KS p).", "",
                      "| group | breaks | n | median error % | cost (pp) [95% CI] | D+ | p "
                      "| verdict |", "|---|---|---|---|---|---|---|---|"]
            for k in sampled:
                e = r.errors(g[k])
                if k == "sampled-ok":
                    lines.append(f"| ok | nothing | {len(e)} | {r.pct(np.median(e))} | 0 | - "
                                 "| - | reference |")
                    continue
                d, dom = welch_diff(e, ok), dominance(ok, e)
                key = k.split("-", 1)[1]
                lines.append(f"| {key} | {words.get(key, key)} | {len(e)} | "
                             f"{r.pct(np.median(e))} | {100 * d['mean']:+.1f} "
                             f"[{100 * d['low']:+.1f}, {100 * d['high']:+.1f}] | "
                             f"{dom['d_plus']:.2f} | {dom['p_plus']:.3f} | "
                             f"{r.noise_words(d)} |")
        if ranked:
            lines += [""] + r.snippet("finding", [self.answer(g, costs, ranked, sampled, ok)])
        figure = context.figure("vionet.png")
        if figure:
            self.figure(figure, g, base, ranked, sampled, settings, records)
        return lines

    @staticmethod
    def answer(g, costs, ranked, sampled, ok):
        """One answer from both measurements: the family over seeds and the sampled
        groups, saying where they disagree instead of ranking from one of them."""
        fam = [m for m in ranked if costs[m] and costs[m]["n"] > 1]
        beyond = [m for m in fam if not within_noise(costs[m])]
        widths = [100 * costs[m]["ci95"] for m in fam]
        text = ("**Answer.** The family over seeds (cost against RegNetX32): "
                + ", ".join(f"{m} {100 * costs[m]['mean']:+.1f} pp" for m in ranked) + "; "
                + (", ".join(f"{m} {r.noise_words(costs[m])}" for m in beyond)
                   + ", the rest within seed-to-seed noise" if beyond else
                   "every one within seed-to-seed noise"))
        if widths:
            text += (f" (95% intervals ±{min(widths):.1f} to ±{max(widths):.1f} pp with "
                     f"{max(costs[m]['n'] for m in fam)} seeds; they shrink as "
                     "1/sqrt(seeds))")
        text += "."
        if ok is None or len(sampled) < 2:
            return text
        diffs = {k.split("-", 1)[1]: welch_diff(r.errors(g[k]), ok) for k in sampled[1:]}
        told = [k for k, d in diffs.items() if not within_noise(d)]
        text += (f" The sampled groups ({r.sizes(g, sampled, 'group')}, cost against ok): "
                 + ", ".join(f"{k} {100 * d['mean']:+.1f} pp ({r.noise_words(d)})"
                             for k, d in diffs.items()) + ".")
        # opposite signs matter only where at least one of the two is told from noise
        clash = [k for k in diffs if f"VioNet-{k}" in costs and costs[f"VioNet-{k}"]
                 and (costs[f"VioNet-{k}"]["mean"] > 0) != (diffs[k]["mean"] > 0)
                 and not (within_noise(costs[f"VioNet-{k}"]) and within_noise(diffs[k]))]
        if clash:
            text += (" The two measurements point in opposite directions for "
                     + ", ".join(clash) + ", so at this budget they do not rank the four "
                     "principles")
            agree = [k for k in told if k not in clash]
            text += ("; told from noise in the sampled groups and pointing the same way in "
                     "the family: " + ", ".join(agree) + "." if agree else ".")
        elif told:
            text += " Both measurements agree in direction for every principle."
        return text

    @staticmethod
    def figure(path, g, base, ranked, sampled, settings, records):
        plt = r.pyplot()
        # stacked, so that it reads on a phone as well as the one-panel figures
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(6.4, 9.6))
        names = (["RegNetX32"] if base else []) + ranked
        for i, m in enumerate(names):
            e = np.array(r.errors(g[m])) * 100
            ax1.scatter(np.full(len(e), i), e, alpha=0.7)
            ax1.errorbar(i + 0.15, e.mean(), yerr=e.std(ddof=1) if len(e) > 1 else 0,
                         fmt="k_", capsize=4)
        ax1.set_xticks(range(len(names)), [n.replace("VioNet-", "VioNet-\n") for n in names])
        ax1.set_ylabel("test error (%)")
        ax1.set_title("VioNet family: dots = seeds, bar = mean ± sd")
        ax1.grid(alpha=0.3)
        for k in sampled:
            e, F = edf(r.errors(g[k]))
            ax2.step(np.concatenate([[e[0]], e]) * 100, np.concatenate([[0], F]), where="post",
                     label=f"{k.split('-', 1)[1]} (n={len(e)})",
                     lw=2.5 if k == "sampled-ok" else 1.4)
        ax2.set_xlabel("test error (%)")
        ax2.set_ylabel("F(e)")
        ax2.set_title("sampled VioNets breaking one principle")
        ax2.grid(alpha=0.3)
        if sampled:
            ax2.legend(loc="lower right")
        family = [x for m in names for x in g[m]]
        drawn = [x for k in sampled for x in g[k]]
        what = (f"top: {len(family)} runs of RegNetX32 and {len(ranked)} VioNets over seeds "
                f"({r.mflops_range(family)}); bottom: {len(drawn)} sampled VioNets "
                + r.band_words(settings).replace("in the band ", "in "))
        fig.text(0.01, 0.01, r.short_budget(settings, records, what), fontsize=8.5,
                 wrap=True)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        r.save(fig, path)


STUDY = VioNetStudy()
