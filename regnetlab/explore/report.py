"""Tables and figures from recorded results files (``regnetlab explore report``).

Everything shown in the docs is re-made here from ``results/*.jsonl``: one markdown file
per study in ``results/summary/`` and its figures in ``docs/figures/explore/``, each
stating its budget (networks, epochs, images, device, seed) and its complexity band.
Each study writes its own section (its module in :mod:`regnetlab.explore.studies`); the
helpers they share are here.
"""
from collections import defaultdict
from pathlib import Path

import numpy as np

from .edf import dominance, edf
from .results import read_results
from .stats import ks_resolution, mean_ci, mean_resolution, welch_diff, within_noise
from .study import Context, band_of

# The paper's design-space comparisons (Radosavovic et al. 2020, section 3): n = 500
# networks per space, 360-400 MF (multiply-adds), 10 ImageNet epochs each.
PAPER_N = 500

# The paper's verdicts on the same comparisons (section 3, figures 5-9, ImageNet, 400MF),
# with what is known about why ours may differ: set beside every verdict we print.
PAPER_VERDICTS = {
    ("A", "B"): ("no change", None),
    ("B", "C"): ("no change", None),
    ("C", "D"): ("D better", None),
    ("D", "E"): ("E better", None),
    ("A", "E"): ("E better", None),
    ("RegNetX", "AnyNetXA"): ("RegNetX better", None),
    ("RegNetX", "AnyNetXE"): ("RegNetX better", None),
}
# Why a verdict may differ, where one is known (keyed like PAPER_VERDICTS).
PAPER_REASONS = {
    ("B", "C"): "no reason is established; a candidate: at our widths (8-64) one shared "
                "group width of 8 or 16 is a large share of a narrow stage's bottleneck, "
                "which it never is at the paper's widths (up to 1024)",
}


def shown(text, figure=False):
    """Group names as the book writes them: AnyNetXE -> AnyNetX with subscript E."""
    for s in "ABCDE":
        text = text.replace(f"AnyNetX{s}", f"AnyNetX$_{s}$" if figure
                            else f"AnyNetX<sub>{s}</sub>")
    return text


def paper_verdict(a, b):
    """The paper's verdict on ``a vs b`` (same wording as ours), or None."""
    return PAPER_VERDICTS.get((a, b), (None, None))[0]


def our_verdict(d, winner):
    if winner:
        return f"{winner} better"
    return ("no significant difference (p >= 0.05)"
            if max(d["p_plus"], d["p_minus"]) >= 0.05 else "EDFs cross")


def agrees(ours, paper):
    """Ours says what the paper says ("no change" = no significant difference)."""
    return ours == paper or (paper == "no change" and ours.startswith("no significant"))


def paper_sentence(pairs, groups):
    """Every verdict that differs from the paper's, set beside it, with the reason where
    one is known; or that all agree."""
    differ, same = [], []
    for a, b, d, winner in compare(pairs, groups):
        paper = paper_verdict(a, b)
        if paper is None:
            continue
        ours = our_verdict(d, winner)
        if agrees(ours, paper):
            same.append(f"{a} vs {b}")
            continue
        why = PAPER_REASONS.get((a, b))
        differ.append(f"{a} vs {b}: ours {ours}, the paper {paper}"
                      + (f" ({why})" if why else ""))
    if not differ and not same:
        return ""
    text = "**Beside the paper.** "
    text += (("Where our verdict differs from the paper's (ImageNet, 4 stages, 360-400 "
              "million multiply-adds, 10 epochs): " + "; ".join(differ) + ". ")
             if differ else "")
    if same:
        text += ("It agrees on " + ", ".join(same) + "." if differ else
                 "Every verdict here agrees with the paper's (" + ", ".join(same) + ").")
    return text


# One colour per design space in every figure (matplotlib's tab10 cycle).
COLORS = {"A": "C0", "B": "C1", "C": "C2", "D": "C3", "E": "C4", "RegNetX": "C5",
          "RegNetX-4": "C6",
          "AnyNetXA": "C0", "AnyNetXE": "C4"}


# -- records ------------------------------------------------------------------------------
def by_group(records):
    groups = defaultdict(list)
    for r in sorted(records, key=lambda r: r["key"]):
        groups[r["group"]].append(r)
    return dict(groups)


def errors(recs):
    return [r["test_error"] for r in recs]


def pct(x):
    return f"{100 * x:.1f}"


# -- what the numbers cost ----------------------------------------------------------------
def band_words(settings):
    """'in the band 0.54-0.60 MFLOPs per 28x28 image' or 'with no complexity band'."""
    band = band_of(settings)
    return f"in the band {band.describe()}" if band else "with no complexity band"


def budget(settings, records, study=None):
    """One line that states what the numbers cost: networks (and the band a sampling study
    drew them in, or that it had none), epochs, images, device, seed."""
    devices = sorted({r["device"] for r in records}) or ["-"]
    diverged = sum(r.get("diverged", False) for r in records)
    sampled = band_of(settings) or (study is not None and study.band is not None)
    drawn = study.banded(records) if study is not None else records
    where = (f" sampled {band_words(settings)}" if len(drawn) == len(records) else
             f" ({len(drawn)} of them sampled {band_words(settings)})")
    return (f"Budget: {len(records)} networks"
            + (where if sampled else "")
            + f", each trained {settings['epochs']} epochs on the first "
            f"{settings['train_images']:,} Fashion-MNIST training images "
            f"(batch {settings['batch_size']}, peak lr {settings['lr']}, regnetlab recipe), "
            f"error on the first {settings['test_images']:,} test images; device "
            f"{', '.join(devices)}; seed {settings['seed']}"
            + (f"; {diverged} diverged (counted at error 0.9)" if diverged else "") + ".")


def short_budget(settings, records, what=None):
    """The caption under every figure: size, budget, band, device, seed. ``what`` names
    the networks drawn when they are not simply sampled in the study's band."""
    devices = ", ".join(sorted({r["device"] for r in records}))
    what = what or f"{len(records)} networks {band_words(settings)}"
    return (f"{what}; {settings['epochs']} epochs x {settings['train_images']:,} train "
            f"images, error on {settings['test_images']:,} test images, {devices}, "
            f"seed {settings['seed']}")


def mflops_range(records):
    """'6.5-11.9 MFLOPs' of the records (as measured: 2 FLOPs per multiply-add)."""
    f = [x["flops"] / 1e6 for x in records]
    return f"{min(f):.1f}-{max(f):.1f} MFLOPs" if f else "-"


def params_range(records):
    p = [x["params"] / 1e3 for x in records]
    return f"{min(p):.0f}k-{max(p):.0f}k parameters" if p else "-"


def command(study, settings, records):
    """The ``regnetlab explore`` command that records these networks (sizes read off them)."""
    flags = study.command_flags(by_group(records))
    band = band_of(settings)
    if band and band != study.band:
        scale = 1e6 if band.measure == "flops" else 1e3
        flags.append(f"--band {band.low / scale:g},{band.high / scale:g}")
    elif band is None and study.band is not None:
        flags.append("--band none")
    flags += [f"--{k.replace('_', '-')} {settings[k]}" for k in
              ("epochs", "train_images", "test_images", "batch_size", "lr", "seed", "source",
               "scale") if k in settings]
    return f"`regnetlab explore {study.name} {' '.join(flags)}`"


# -- tables ---------------------------------------------------------------------------------
def group_row(name, recs):
    e = np.array(errors(recs))
    p = np.array([r["params"] for r in recs])
    f = np.array([r["flops"] for r in recs])
    t = np.array([r["wall_time_s"] for r in recs])
    sd = pct(e.std(ddof=1)) if len(e) > 1 else "-"
    return (f"| {name} | {len(e)} | {pct(np.median(e))} | {pct(e.mean())} ± {sd} "
            f"| {pct(e.min())} | {np.median(p) / 1e3:.1f}k | {np.median(f) / 1e6:.2f} "
            f"| {t.mean():.1f} |")


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
    """One row per pair: both one-sided KS tests (exact p), the mean difference with its
    95% interval, and the smallest gap these sample sizes could resolve."""
    paper = any(paper_verdict(a, b) for a, b in pairs)
    rows = ["| X vs Y | n_X, n_Y | D+ (X's EDF above Y's) | p | D- (Y's above X's) | p "
            "| mean X - Y (pp) [95% CI] | resolvable: D, mean (pp) "
            + ("| the paper (ImageNet) " if paper else "") + "| verdict |",
            "|---|---|---|---|---|---|---|---|---|" + ("---|" if paper else "")]
    for a, b, d, winner in compare(pairs, groups):
        verdict = our_verdict(d, winner)
        if paper:
            theirs = paper_verdict(a, b)
            verdict = (f"{theirs or '-'} | " + verdict
                       + ("" if theirs is None or agrees(verdict, theirs)
                          else " (differs from the paper)"))
        ea, eb = errors(groups[a]), errors(groups[b])
        diff = welch_diff(ea, eb)
        res = mean_resolution(ea, eb)
        ci = (f"[{100 * diff['low']:+.1f}, {100 * diff['high']:+.1f}]"
              if diff["n"] > 1 else "-")
        rows.append(f"| {a} vs {b} | {d['n']}, {d['m']} | {d['d_plus']:.2f} | "
                    f"{d['p_plus']:.3f} | {d['d_minus']:.2f} | {d['p_minus']:.3f} | "
                    f"{100 * diff['mean']:+.1f} {ci} | {ks_resolution(d['n'], d['m']):.2f}, "
                    + (f"{100 * res:.1f}" if res == res else "-") + f" | {verdict} |")
    return rows


def resolution_sentence(groups, names, pairs):
    """Say plainly what this many networks can and cannot resolve, next to the paper's n."""
    ns = [len(groups[k]) for k in names if k in groups]
    if not ns or min(ns) < 2:
        return ""
    n = min(ns)
    d_us, d_paper = ks_resolution(n, n), ks_resolution(PAPER_N, PAPER_N)
    res = [mean_resolution(errors(groups[a]), errors(groups[b])) for a, b in pairs
           if a in groups and b in groups]
    res = [r for r in res if r == r]
    diffs = [welch_diff(errors(groups[a]), errors(groups[b])) for a, b in pairs
             if a in groups and b in groups]
    widest = max(diffs, key=lambda x: abs(x["mean"])) if diffs else None
    text = (f"**Resolution.** With {n} networks per space, a one-sided KS test at the 5% "
            f"level can only detect EDF gaps of D >= {d_us:.2f}; the paper's {PAPER_N} "
            f"networks per space (360-400 MF, 10 ImageNet epochs each) detect D >= "
            f"{d_paper:.2f}. ")
    text += ("This budget therefore resolves EDF differences as small as the paper's "
             "sample could. " if n >= PAPER_N else
             f"This budget cannot resolve an EDF gap smaller than {d_us:.2f}, "
             f"{d_us / d_paper:.1f} times the smallest the paper's sample resolves. ")
    if res:
        lo, hi = f"{100 * min(res):.1f}", f"{100 * max(res):.1f}"
        text += ("In error, it resolves (80% power, 5% two-sided) a mean difference of "
                 + (f"{lo}" if lo == hi else f"{lo} to {hi}")
                 + " percentage points between two spaces, and no smaller one")
        if widest is not None:
            text += (f"; the largest observed mean difference here is "
                     f"{100 * widest['mean']:+.1f} pp (95% CI {100 * widest['low']:+.1f} to "
                     f"{100 * widest['high']:+.1f})")
        text += "."
    return text


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
    return "; ".join(said) + ("" if not rest else
                              "; the other comparison shows no significant difference"
                              if rest == 1 else f"; the other {rest} comparisons show no "
                              "significant difference")


def paired_cost(recs, base_recs):
    """Error of a model minus the baseline's, paired by seed (the same data order)."""
    base = {r["seed"]: r["test_error"] for r in base_recs}
    diffs = [r["test_error"] - base[r["seed"]] for r in recs if r["seed"] in base]
    return mean_ci(diffs) if diffs else None


def noise_words(s):
    """Whether a cost (error minus the reference's) is told from noise, and which way."""
    if within_noise(s):
        return "within noise"
    return "worse, beyond noise" if s["mean"] > 0 else "better, beyond noise"


# -- figures -------------------------------------------------------------------------------
def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # large enough to read when the page shrinks a figure to a phone's width
    plt.rcParams.update({"font.size": 12, "axes.titlesize": 12, "legend.fontsize": 11})
    return plt


def plot_edfs(path, curves, title, note, styles=None):
    """Several EDFs on one figure, as in the paper's figures; ``note`` is the caption."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for name, errs in curves.items():
        e, F = edf(errs)
        style = {"color": COLORS[name]} if name in COLORS else {}
        style.update((styles or {}).get(name, {}))
        ax.step(np.concatenate([[e[0]], e]) * 100, np.concatenate([[0], F]), where="post",
                label=f"{shown(name, figure=True)} (n={len(errs)})", lw=1.8, **style)
    ax.set_xlabel("test error (%)")
    ax.set_ylabel("cumulative prob. F(e)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(shown(title, figure=True))
    fig.text(0.01, 0.01, note, fontsize=8.5, wrap=True)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    save(fig, path)


def save(fig, path):
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


# -- all studies ---------------------------------------------------------------------------
def study_lines(study, settings, records, context=None):
    """The study's markdown lines (tables + the answer); figures too if context has a folder."""
    from .studies import get

    s = get(study) if isinstance(study, str) else study
    if not records:
        return [f"# {s.name}", "", "No networks recorded yet."]
    context = context or Context(found={s.name: (settings, records)})
    return s.report(settings, records, context)


def make_all(results="results", summary="results/summary", figures="docs/figures/explore"):
    """Re-make every summary table and figure from the results files found in ``results``."""
    from .studies import STUDIES

    results, summary, figures = Path(results), Path(summary), Path(figures)
    found = {}
    for name in STUDIES:
        path = results / f"{name}.jsonl"
        if path.is_file():
            header, records = read_results(path)
            if header.get("study") != name:
                raise ValueError(f"{path}: holds the {header.get('study')!r} study, "
                                 f"expected {name!r}")
            found[name] = (header["settings"], records)
    if not found:
        raise FileNotFoundError(f"{results}: no results files ("
                                + ", ".join(f"{n}.jsonl" for n in STUDIES)
                                + "); run `regnetlab explore STUDY` first")
    context = Context(found=found, figures=figures)
    out = []
    for name, (settings, records) in found.items():
        context.written.clear()
        lines = study_lines(STUDIES[name], settings, records, context)
        summary.mkdir(parents=True, exist_ok=True)
        (summary / f"{name}.md").write_text("\n".join(lines) + "\n")
        out.append(f"{name}: {len(records)} networks -> {summary / (name + '.md')}"
                   + "".join(f", {p}" for p in context.written))
    return out
