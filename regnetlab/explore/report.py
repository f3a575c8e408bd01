"""Tables and figures from recorded results files (``regnetlab explore report``).

Everything shown in the docs is re-made here from ``results/*.jsonl``: one markdown file
per study in ``results/summary/`` and the EDF figures in ``docs/figures/explore/``, each
stating its budget (networks, epochs, images, device, seed).
"""
from collections import defaultdict
from pathlib import Path

import numpy as np

from .edf import dominance, edf
from .results import read_results
from .stats import mean_ci, spearman, t975, within_noise

ANYNETX_SPACES = ("A", "B", "C", "D", "E")


# -- helpers ---------------------------------------------------------------------------
def by_group(records):
    groups = defaultdict(list)
    for r in sorted(records, key=lambda r: r["key"]):
        groups[r["group"]].append(r)
    return dict(groups)


def errors(recs):
    return [r["test_error"] for r in recs]


def budget(settings, records, n_text=None):
    """One line that states what the numbers cost: networks, epochs, images, device, seed."""
    devices = sorted({r["device"] for r in records}) or ["-"]
    diverged = sum(r.get("diverged", False) for r in records)
    return (f"Budget: {n_text or f'{len(records)} networks'}, each trained {settings['epochs']} "
            f"epochs on the first {settings['train_images']:,} Fashion-MNIST training images "
            f"(batch {settings['batch_size']}, peak lr {settings['lr']}, regnetlab recipe), "
            f"error on the first {settings['test_images']:,} test images; device "
            f"{', '.join(devices)}; seed {settings['seed']}"
            + (f"; {diverged} diverged (counted at error 0.9)" if diverged else "") + ".")


def command(study, settings, records):
    """The ``regnetlab explore`` command that records these networks (sizes read off them)."""
    counts = {g: len(v) for g, v in by_group(records).items()}
    n = counts.get
    sizes = {"anynetx": ("--n", max(counts.values(), default=0)),
             "regnetx": ("--n", n("RegNetX", 0)),
             "vionet": ("--seeds", n("RegNetX32", 0), "--n", n("sampled-ok", 0)),
             "mlp": ("--n", n("small/none", 0), "--seeds", n("PerfectMLP", 0)),
             "exercises": ("--seeds", n("RegNetX32", 0))}[study]
    flags = [f"{a} {b}" for a, b in zip(sizes[::2], sizes[1::2])]
    if study == "anynetx" and set(counts) != set(ANYNETX_SPACES):
        flags.append("--spaces " + ",".join(sorted(counts)))
    flags += [f"--{k.replace('_', '-')} {settings[k]}" for k in
              ("epochs", "train_images", "test_images", "batch_size", "lr", "seed", "source",
               "scale") if k in settings]
    return f"`regnetlab explore {study} {' '.join(flags)}`"


def pct(x):
    return f"{100 * x:.1f}"


def group_row(name, recs):
    e = np.array(errors(recs))
    p = np.array([r["params"] for r in recs])
    f = np.array([r["flops"] for r in recs])
    t = np.array([r["wall_time_s"] for r in recs])
    return (f"| {name} | {len(e)} | {pct(np.median(e))} | {pct(e.mean())} ± {pct(e.std(ddof=1)) if len(e) > 1 else '-'} "
            f"| {pct(e.min())} | {np.median(p) / 1e3:.1f}k | {np.median(f) / 1e6:.2f} | {t.mean():.1f} |")


GROUP_HEADER = ("| space | n | median error % | mean ± sd % | best % | median params "
                "| median MFLOPs | s / network |\n|---|---|---|---|---|---|---|---|")


def compare(pairs, groups):
    """``(X, Y, dominance, winner)`` for each pair present; winner is X, Y, or None."""
    out = []
    for a, b in pairs:
        if a not in groups or b not in groups:
            continue
        d = dominance(errors(groups[a]), errors(groups[b]))
        plus, minus = d["p_plus"] < 0.05, d["p_minus"] < 0.05
        out.append((a, b, d, a if plus and not minus else b if minus and not plus else None))
    return out


def dominance_rows(pairs, groups):
    rows = ["| X vs Y | n_X, n_Y | D+ (X's EDF above Y's) | p | D- (Y's above X's) | p | verdict |",
            "|---|---|---|---|---|---|---|"]
    for a, b, d, winner in compare(pairs, groups):
        if winner:
            verdict = f"{winner} better"
        else:
            verdict = "no significant difference (p >= 0.05)" if max(
                d["p_plus"], d["p_minus"]) >= 0.05 else "EDFs cross"
        rows.append(f"| {a} vs {b} | {d['n']}, {d['m']} | {d['d_plus']:.2f} | "
                    f"{d['p_plus']:.3f} | {d['d_minus']:.2f} | {d['p_minus']:.3f} | {verdict} |")
    return rows


def snippet(name, lines):
    """``lines`` between pymdownx.snippets section markers: a docs page includes them with
    ``--8<-- "results/summary/STUDY.md:NAME"`` instead of retyping their numbers."""
    return [f"<!-- --8<-- [start:{name}] -->", *lines, f"<!-- --8<-- [end:{name}] -->"]


def sizes(groups, names, unit):
    """'n = 20 per space' when the groups are equal in size, else 'n = 20, 18, ...'."""
    ns = [len(groups[k]) for k in names]
    return (f"n = {ns[0]} per {unit}" if len(set(ns)) == 1 else
            "n = " + ", ".join(f"{n} ({k})" for n, k in zip(ns, names)))


def dominance_finding(results, what):
    """One sentence on a list of :func:`compare` results: the significant ones, or none."""
    wins = [(a, b, d, w) for a, b, d, w in results if w]
    if not wins:
        p = min(min(d["p_plus"], d["p_minus"]) for _, _, d, _ in results)
        return (f"no {what} differs significantly: every one-sided KS p >= {p:.3f}"
                if len(results) > 1 else f"they do not differ significantly: both one-sided "
                f"KS p >= {p:.3f}")
    said = [f"{w} better than {b if w == a else a} (D{'+' if w == a else '-'} = "
            f"{d['d_plus' if w == a else 'd_minus']:.2f}, p = "
            f"{d['p_plus' if w == a else 'p_minus']:.3f}, n = {d['n']} + {d['m']})"
            for a, b, d, w in wins]
    rest = len(results) - len(wins)
    return "; ".join(said) + (f"; the other {rest} comparison{'s' if rest > 1 else ''} "
                              "show no significant difference" if rest else "")


def paired_cost(recs, base_recs):
    """Error of a model minus the baseline's, paired by seed (the same data order)."""
    base = {r["seed"]: r["test_error"] for r in base_recs}
    diffs = [r["test_error"] - base[r["seed"]] for r in recs if r["seed"] in base]
    return mean_ci(diffs) if diffs else None


def welch_diff(a, b):
    """mean(a) - mean(b) with a conservative 95% half-width (t with min(n)-1 df)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    df = max(1, min(len(a), len(b)) - 1)
    return {"mean": float(a.mean() - b.mean()), "ci95": float(t975(df) * se),
            "n": min(len(a), len(b))}


def noise_words(s):
    return "within noise" if within_noise(s) else "beyond noise"


def plot_edfs(path, curves, title, note, styles=None):
    """Several EDFs on one figure, as in the paper's figures."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for name, errs in curves.items():
        e, F = edf(errs)
        ax.step(np.concatenate([[e[0]], e]) * 100, np.concatenate([[0], F]), where="post",
                label=f"{name} (n={len(errs)})", **(styles or {}).get(name, {}))
    ax.set_xlabel("test error (%)")
    ax.set_ylabel("cumulative prob. F(e)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title, fontsize=10)
    fig.text(0.01, 0.01, note, fontsize=6.5, wrap=True)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save(fig, path)


def save(fig, path):
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def short_budget(settings, records):
    devices = ", ".join(sorted({r["device"] for r in records}))
    return (f"{len(records)} networks, {settings['epochs']} epochs x "
            f"{settings['train_images']:,} train images, error on {settings['test_images']:,} "
            f"test images, {devices}, seed {settings['seed']}")


# -- the studies -------------------------------------------------------------------------
def anynetx_lines(settings, records, figure=None):
    g = by_group(records)
    lines = ["# AnyNetX design spaces A to E", "", budget(settings, records) + " Recorded with "
             + command("anynetx", settings, records) + ".", "",
             GROUP_HEADER]
    lines += [group_row(s, g[s]) for s in ANYNETX_SPACES if s in g]
    lines += ["", "Dominance, consecutive spaces (one-sided two-sample KS; D+ > 0 where the "
              "first space's EDF lies above, i.e. more of its networks reach low error):", ""]
    pairs = list(zip(ANYNETX_SPACES, ANYNETX_SPACES[1:])) + [("A", "E")]
    lines += dominance_rows(pairs, g)
    spaces = [s for s in ANYNETX_SPACES if s in g]
    flops = ", ".join(f"{s} {np.median([r['flops'] for r in g[s]]) / 1e6:.2f}" for s in spaces)
    lines += [""] + snippet("finding", [
        f"**Finding.** {len(records)} networks ({sizes(g, spaces, 'space')}). Of the "
        f"consecutive spaces and A against E, {dominance_finding(compare(pairs, g), 'pair')}. "
        f"The constraints also shift the networks' sizes (median MFLOPs: {flops})."])
    if figure:
        plot_edfs(figure, {s: errors(g[s]) for s in ANYNETX_SPACES if s in g},
                  "AnyNetX A to E (scaled to 28x28 Fashion-MNIST)", short_budget(settings, records))
    return lines


def regnetx_lines(settings, records, anynetx=None, figure=None):
    g = by_group(records)
    curves = {"RegNetX": errors(g["RegNetX"])} if "RegNetX" in g else {}
    lines = ["# The RegNetX design space", "", budget(settings, records) + " Recorded with "
             + command("regnetx", settings, records) + ".", ""]
    if anynetx is not None:
        a_settings, a_records = anynetx
        if a_settings == settings:
            ga = by_group(a_records)
            for s in ("A", "E"):
                if s in ga:
                    g[f"AnyNetX{s}"] = ga[s]
                    curves[f"AnyNetX{s}"] = errors(ga[s])
            lines += ["AnyNetX A and E come from the anynetx study, same budget.", ""]
        else:
            lines += ["(The anynetx results were recorded with another budget, so they are "
                      "not compared here.)", ""]
    lines += [GROUP_HEADER] + [group_row(k, v) for k, v in g.items()]
    lines += ["", "Dominance:", ""]
    lines += dominance_rows([("RegNetX", "AnyNetXA"), ("RegNetX", "AnyNetXE")], g)
    med = {k: pct(np.median(errors(v))) for k, v in g.items()}
    others = [k for k in g if k != "RegNetX"]
    results = compare([("RegNetX", k) for k in others], g)
    if "RegNetX" in g:
        lines += [""] + snippet("finding", [
            f"**Finding.** RegNetX's median error is {med['RegNetX']}% (n = "
            f"{len(g['RegNetX'])})" + (", against " + " and ".join(
                f"{med[k]}% for {k} (n = {len(g[k])})" for k in others)
                + "; " + dominance_finding(results, "comparison") if results else "") + "."])
    if figure and curves:
        shown = [r for k, v in g.items() for r in v]  # RegNetX plus AnyNetX A and E
        plot_edfs(figure, curves, "RegNetX vs AnyNetX A and E", short_budget(settings, shown))
    return lines


def vionet_lines(settings, records, principles=None, figure=None):
    g = by_group(records)
    principles = principles or {}
    base = g.get("RegNetX32", [])
    members = sorted(k for k in g if k.startswith("VioNet-"))
    lines = ["# Exercise 3: which RegNetX principle matters most? (VioNet)", "",
             budget(settings, records) + " Recorded with "
             + command("vionet", settings, records) + ".", ""]
    rows, costs = [], {}
    for m in members:
        c = paired_cost(g[m], base)
        costs[m] = c
    ranked = sorted(members, key=lambda m: -costs[m]["mean"] if costs[m] else 0)
    lines += ["## The VioNet family over seeds", "",
              "Cost = member's error minus RegNetX32's on the same seed (same data order); "
              "positive means the violation hurts. 95% interval from Student's t over seeds.", "",
              "| rank | network | breaks | n seeds | error % mean ± sd | params | cost (pp) "
              "mean ± 95% | verdict |", "|---|---|---|---|---|---|---|---|"]
    if base:
        e = mean_ci(errors(base))
        lines.append(f"| - | RegNetX32 | nothing | {e['n']} | {pct(e['mean'])} ± {pct(e['sd']) if e['n'] > 1 else '-'} "
                     f"| {base[0]['params']:,} | 0 | baseline |")
    for rank, m in enumerate(ranked, 1):
        e, c = mean_ci(errors(g[m])), costs[m]
        key = m.split("-", 1)[1]
        rows.append(f"| {rank} | {m} | {principles.get(key, key)} | {e['n']} | "
                    f"{pct(e['mean'])} ± {pct(e['sd']) if e['n'] > 1 else '-'} | "
                    f"{g[m][0]['params']:,} | "
                    + (f"{100 * c['mean']:+.1f} ± {100 * c['ci95']:.1f} | {noise_words(c)} |"
                       if c and c["n"] > 1 else "- | one seed |"))
    lines += rows
    sampled = [k for k in ("sampled-ok", "sampled-d", "sampled-c", "sampled-g", "sampled-b")
               if k in g]
    if "sampled-ok" in g and len(sampled) > 1:
        ok = errors(g["sampled-ok"])
        lines += ["", "## Sampled networks per violated principle", "",
                  "Each group draws networks that break exactly one principle (ok: none). "
                  "Cost = group's mean error minus the ok group's, 95% interval (Welch, "
                  "conservative df); D+ = how far ok's EDF lies above the group's.", "",
                  "| group | breaks | n | median error % | cost (pp) mean ± 95% | D+ | p | verdict |",
                  "|---|---|---|---|---|---|---|---|"]
        for k in sampled:
            e = errors(g[k])
            if k == "sampled-ok":
                lines.append(f"| ok | nothing | {len(e)} | {pct(np.median(e))} | 0 | - | - | reference |")
                continue
            d, dom = welch_diff(e, ok), dominance(ok, e)
            key = k.split("-", 1)[1]
            lines.append(f"| {key} | {principles.get(key, key)} | {len(e)} | {pct(np.median(e))} "
                         f"| {100 * d['mean']:+.1f} ± {100 * d['ci95']:.1f} | {dom['d_plus']:.2f} "
                         f"| {dom['p_plus']:.3f} | {noise_words(d)} |")
    if ranked:
        beyond = [m for m in ranked if costs[m] and costs[m]["n"] > 1
                  and not within_noise(costs[m]) and costs[m]["mean"] > 0]
        widths = [100 * costs[m]["ci95"] for m in ranked if costs[m] and costs[m]["n"] > 1]
        answer = ("**Answer.** Ranked by mean cost over seeds: "
                  + " > ".join(f"{m} ({100 * costs[m]['mean']:+.1f} pp)" for m in ranked) + ". "
                  + (f"Only {', '.join(beyond)} cost{'s' if len(beyond) == 1 else ''} more "
                     "than the seed-to-seed noise (95% interval excludes 0); "
                     "the other differences are within noise at this budget."
                     if beyond else "Every difference is within the seed-to-seed noise at "
                     "this budget: these runs cannot rank the four factors."))
        if widths:
            answer += (f" The 95% intervals are ±{min(widths):.1f} to ±{max(widths):.1f} pp "
                       f"wide with {max(costs[m]['n'] for m in ranked if costs[m])} seeds; "
                       "they shrink as 1/sqrt(seeds).")
        if len(sampled) > 1:
            cs = [welch_diff(errors(g[k]), ok)["mean"] * 100 for k in sampled[1:]]
            answer += (f" The sampled groups' mean costs against ok range from {min(cs):+.1f} "
                       f"to {max(cs):+.1f} pp ({sizes(g, sampled, 'group')}).")
        lines += [""] + snippet("finding", [answer])
    if figure:
        vionet_figure(figure, g, base, ranked, sampled, settings, records)
    return lines


def vionet_figure(path, g, base, ranked, sampled, settings, records):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    names = (["RegNetX32"] if base else []) + ranked
    for i, m in enumerate(names):
        e = np.array(errors(g[m])) * 100
        ax1.scatter(np.full(len(e), i), e, alpha=0.7)
        ax1.errorbar(i + 0.15, e.mean(), yerr=e.std(ddof=1) if len(e) > 1 else 0, fmt="k_",
                     capsize=4)
    ax1.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
    ax1.set_ylabel("test error (%)")
    ax1.set_title("VioNet family: one dot per seed, bar = mean ± sd", fontsize=9)
    ax1.grid(alpha=0.3)
    for k in sampled:
        e, F = edf(errors(g[k]))
        ax2.step(np.concatenate([[e[0]], e]) * 100, np.concatenate([[0], F]), where="post",
                 label=f"{k.split('-', 1)[1]} (n={len(e)})",
                 lw=2.5 if k == "sampled-ok" else 1.2)
    ax2.set_xlabel("test error (%)")
    ax2.set_ylabel("F(e)")
    ax2.set_title("sampled VioNets breaking one principle (ok = none)", fontsize=9)
    ax2.grid(alpha=0.3)
    if sampled:
        ax2.legend(fontsize=8, loc="lower right")
    fig.text(0.01, 0.01, short_budget(settings, records), fontsize=7)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    save(fig, path)


def mlp_lines(settings, records, figure=None, figure_extra=None):
    g = by_group(records)
    spaces = sorted((k.split("/", 1)[1] for k in g if k.startswith("small/")),
                    key=lambda s: (s != "none", s == "all", s))  # none first, all last
    lines = ["# Exercise 4: the perfect MLP", "", budget(settings, records) + " Recorded with "
             + command("mlp", settings, records) + ".", "",
             f"Small networks as sampled; large = the same networks with every width times "
             f"{settings.get('scale')}.", "", "## MLP design spaces (small networks)", "",
             GROUP_HEADER]
    lines += [group_row(s, g[f"small/{s}"]) for s in spaces]
    lines += ["", "Dominance of each constrained space over the unconstrained one:", ""]
    lines += dominance_rows([(f"small/{s}", "small/none") for s in spaces if s != "none"], g)
    sg = {s: g[f"small/{s}"] for s in spaces}
    vs_none = compare([(s, "none") for s in spaces if s != "none"], sg)
    if vs_none:
        lines += [""] + snippet("finding", [
            f"**Finding.** Small networks, {sizes(sg, spaces, 'space')}; against the "
            f"unconstrained space none: {dominance_finding(vs_none, 'constrained space')}."])
    if "PerfectMLP" in g:
        e = mean_ci(errors(g["PerfectMLP"]))
        lines += ["", f"PerfectMLP: error {pct(e['mean'])}% ± {pct(e['sd']) if e['n'] > 1 else '-'} "
                  f"(mean ± sd over {e['n']} seeds; {g['PerfectMLP'][0]['params']:,} params)."]
        for size in ("small", "large"):
            errs = np.array([r["test_error"] for k in g if k.startswith(size + "/")
                             for r in g[k]])
            if errs.size:
                lines[-1] += (f" {int((errs < e['mean']).sum())} of the {errs.size} sampled "
                              f"{size} MLPs have a lower error.")
    # Extrapolation: the same networks, small and large.
    small = {r["key"].split("/", 1)[1]: r["test_error"] for k in g if k.startswith("small/")
             for r in g[k]}
    large = {r["key"].split("/", 1)[1]: r["test_error"] for k in g if k.startswith("large/")
             for r in g[k]}
    both = sorted(set(small) & set(large))
    lines += ["", "## Extrapolation: does the small ranking predict the large one?", ""]
    if len(both) >= 3:
        s_net = spearman([small[k] for k in both], [large[k] for k in both])
        lines.append("<!-- --8<-- [start:extrapolation] -->")
        lines += [f"- Networks: Spearman rho = {s_net['rho']:.2f} between each network's error "
                  f"small and scaled up, n = {s_net['n']} networks, permutation p = "
                  f"{s_net['p']:.4f}."]
        med_s = {s: np.median([small[k] for k in both if k.startswith(s + "/")]) for s in spaces}
        med_l = {s: np.median([large[k] for k in both if k.startswith(s + "/")]) for s in spaces}
        if len(spaces) >= 3:
            s_sp = spearman([med_s[s] for s in spaces], [med_l[s] for s in spaces])
            lines += [f"- Design spaces: Spearman rho = {s_sp['rho']:.2f} between the spaces' "
                      f"median errors small and large, n = {s_sp['n']} spaces, permutation p = "
                      f"{s_sp['p']:.3f} (with n = {s_sp['n']} only a perfect ranking can be "
                      "significant)."]
        lines.append("<!-- --8<-- [end:extrapolation] -->")
        lines += ["", "| space | median error % small | median error % large | rank small "
                  "| rank large |", "|---|---|---|---|---|"]
        rs = {s: i for i, s in enumerate(sorted(spaces, key=lambda s: med_s[s]), 1)}
        rl = {s: i for i, s in enumerate(sorted(spaces, key=lambda s: med_l[s]), 1)}
        lines += [f"| {s} | {pct(med_s[s])} | {pct(med_l[s])} | {rs[s]} | {rl[s]} |"
                  for s in spaces]
        if figure_extra:
            sized = [r for k in g if k.startswith(("small/", "large/")) for r in g[k]]
            mlp_scatter(figure_extra, both, small, large, spaces, s_net, settings, sized)
    if figure:
        plot_edfs(figure, {s: errors(g[f"small/{s}"]) for s in spaces},
                  "MLP design spaces under constraints (small networks)",
                  short_budget(settings, [r for k in g if k.startswith("small/") for r in g[k]]))
    return lines


def mlp_scatter(path, both, small, large, spaces, s_net, settings, records):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 4.6))
    for s in spaces:
        ks = [k for k in both if k.startswith(s + "/")]
        ax.scatter([100 * small[k] for k in ks], [100 * large[k] for k in ks], label=s, alpha=0.75)
    lo = 100 * min(min(small.values()), min(large.values()))
    hi = 100 * max(max(small.values()), max(large.values()))
    ax.plot([lo, hi], [lo, hi], "k:", lw=0.8)
    ax.set_xlabel("error of the small network (%)")
    ax.set_ylabel(f"error scaled up x{settings.get('scale')} (%)")
    ax.set_title(f"MLP extrapolation: Spearman rho = {s_net['rho']:.2f} (n = {s_net['n']}, "
                 f"permutation p = {s_net['p']:.2g})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.text(0.01, 0.01, short_budget(settings, records), fontsize=6.5)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    save(fig, path)


def exercises_lines(settings, records):
    g = by_group(records)
    base = g.get("RegNetX32", [])
    lines = ["# Exercises 1 and 2: a deeper RegNetX, and RegNetX without ResNeXt blocks", "",
             budget(settings, records) + " Recorded with "
             + command("exercises", settings, records) + ".", "",
             "Difference = error minus RegNetX32's on the same seed; 95% interval from "
             "Student's t over seeds.", "",
             "| network | n seeds | error % mean ± sd | params | MFLOPs | s / network "
             "| difference (pp) mean ± 95% | verdict |", "|---|---|---|---|---|---|---|---|"]
    for m in ("RegNetX32", "DeepRegNetX", "DeResNeXt"):
        if m not in g:
            continue
        e = mean_ci(errors(g[m]))
        r0 = g[m][0]
        c = paired_cost(g[m], base) if m != "RegNetX32" else None
        tail = ("0 | baseline |" if m == "RegNetX32" else
                f"{100 * c['mean']:+.1f} ± {100 * c['ci95']:.1f} | {noise_words(c)} |"
                if c and c["n"] > 1 else "- | one seed |")
        lines.append(f"| {m} | {e['n']} | {pct(e['mean'])} ± {pct(e['sd']) if e['n'] > 1 else '-'} "
                     f"| {r0['params']:,} | {r0['flops'] / 1e6:.1f} | "
                     f"{np.mean([r['wall_time_s'] for r in g[m]]):.1f} | {tail}")
    said = []
    for m in ("DeepRegNetX", "DeResNeXt"):
        c = paired_cost(g[m], base) if m in g and base else None
        if c and c["n"] > 1:
            e, ratio = errors(g[m]), g[m][0]["flops"] / base[0]["flops"]
            said.append(f"{m} errs {pct(np.mean(e))}% ± {pct(np.std(e, ddof=1))} "
                        f"(difference {100 * c['mean']:+.1f} ± {100 * c['ci95']:.1f} pp, "
                        f"{noise_words(c)}; its {len(e)} seeds range from {pct(min(e))}% to "
                        f"{pct(max(e))}%) with {ratio:.2f} times RegNetX32's FLOPs")
    if said:
        b = errors(base)
        lines += [""] + snippet("finding", [
            f"**Finding.** Against RegNetX32's {pct(np.mean(b))}% ± {pct(np.std(b, ddof=1))} "
            f"(mean ± sd over {len(b)} seeds): " + "; ".join(said) + "."])
    return lines


def study_lines(study, settings, records, **kw):
    """The study's markdown lines (tables + the answer); figures too where paths are given."""
    if not records:
        return [f"# {study}", "", "No networks recorded yet."]
    if study == "anynetx":
        return anynetx_lines(settings, records, **kw)
    if study == "regnetx":
        return regnetx_lines(settings, records, **kw)
    if study == "vionet":
        return vionet_lines(settings, records, **kw)
    if study == "mlp":
        return mlp_lines(settings, records, **kw)
    if study == "exercises":
        return exercises_lines(settings, records)
    raise ValueError(f"unknown study {study!r}")


def make_all(results="results", summary="results/summary", figures="docs/figures/explore"):
    """Re-make every summary table and figure from the results files found in ``results``."""
    results, summary, figures = Path(results), Path(summary), Path(figures)
    found = {}
    for study in ("anynetx", "regnetx", "vionet", "mlp", "exercises"):
        path = results / f"{study}.jsonl"
        if path.is_file():
            header, records = read_results(path)
            if header.get("study") != study:
                raise ValueError(f"{path}: holds the {header.get('study')!r} study, "
                                 f"expected {study!r}")
            found[study] = (header["settings"], records)
    if not found:
        raise FileNotFoundError(f"{results}: no results files (anynetx.jsonl, ...); run "
                                "`regnetlab explore STUDY` first")
    out = []
    for study, (settings, records) in found.items():
        kw = {}
        if study == "anynetx":
            kw["figure"] = figures / "anynetx_edf.png"
        elif study == "regnetx":
            kw.update(figure=figures / "regnetx_edf.png", anynetx=found.get("anynetx"))
        elif study == "vionet":
            kw.update(figure=figures / "vionet.png", principles=principles(settings))
        elif study == "mlp":
            kw.update(figure=figures / "mlp_edf.png",
                      figure_extra=figures / "mlp_extrapolation.png")
        lines = study_lines(study, settings, records, **kw)
        summary.mkdir(parents=True, exist_ok=True)
        (summary / f"{study}.md").write_text("\n".join(lines) + "\n")
        out.append(f"{study}: {len(records)} networks -> {summary / (study + '.md')}"
                   + (f", {kw['figure']}" if "figure" in kw else ""))
    return out


def principles(settings):
    """The words for each VioNet key, from the exercise module when it can be loaded."""
    try:
        from . import sources
        return dict(sources.get(settings.get("source", "solutions"), "ex3_vionet", "PRINCIPLES"))
    except Exception:  # the table still works with the bare keys
        return {}
