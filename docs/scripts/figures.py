"""The chapter pages' figures, drawn with matplotlib from regnetlab itself.

Every number on these figures is read off the library (a built model, the output of
``generate_regnet``, ``conv_groups``); none is typed here. The EDF figure is the one
illustration: it uses synthetic errors from a seeded generator and says so on its face.
The explorer's figures (docs/figures/explore/) come from recorded runs, see explorer.md.

Run through ``python docs/scripts/build_assets.py`` (which also writes the snippets).
"""
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from regnetlab import RegNetX32, generate_regnet  # noqa: E402
from regnetlab.blocks import conv_groups  # noqa: E402
from regnetlab.explore.edf import edf, edf_at  # noqa: E402
from regnetlab.regnet import REGNETX_CONFIGS, adjust_widths_groups  # noqa: E402

FIG_DIR = Path(__file__).resolve().parents[1] / "figures"
DPI = 110
INK, STEM, STAGE, HEAD = "#263238", "#90caf9", "#ffcc80", "#a5d6a7"


def stage_numbers(stage):
    """(depth, channels, group width, bottleneck ratio) of a built stage of ResNeXt blocks."""
    first = stage[0]
    c = first.conv3.out_channels
    b = first.conv2.out_channels
    return len(stage), c, b // first.conv2.groups, b / c


def _box(ax, x, y, w, h, color, title, lines):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor=INK, linewidth=1.2))
    ax.text(x + w / 2, y + h - 0.18, title, ha="center", va="top", fontsize=10,
            fontweight="bold", color=INK)
    ax.text(x + w / 2, y + h - 0.52, "\n".join(lines), ha="center", va="top", fontsize=8,
            color=INK, linespacing=1.35)


def _arrow(ax, x0, x1, y, label=""):
    ax.annotate("", xy=(x1, y), xytext=(x0, y),
                arrowprops=dict(arrowstyle="->", color=INK, lw=1.2))
    if label:
        ax.text((x0 + x1) / 2, y + 0.12, label, ha="center", va="bottom", fontsize=7,
                color=INK)


def anynet_structure(path):
    """AnyNet = stem, stages, head; top row the design space, bottom row RegNetX32 as built."""
    model = RegNetX32().eval()
    x = torch.zeros(1, model.in_channels, 28, 28)
    shapes = {}
    with torch.no_grad():
        for name, module in model.net.named_children():
            x = module(x)
            shapes[name] = tuple(x.shape[1:])
    names = list(shapes)
    stages = [n for n in names if n.startswith("stage")]

    fig, ax = plt.subplots(figsize=(10.5, 4.6))
    ax.set_xlim(0, 10.5)
    ax.set_ylim(0, 4.6)
    ax.axis("off")
    w, h, gap = 1.45, 1.55, 0.33
    # Top row: the design space, symbols only (the book's AnyNet has four stages).
    y = 2.5
    xs = [0.1 + i * (w + gap) for i in range(6)]
    _box(ax, xs[0], y, w, h, STEM, "stem", ["3x3 conv, stride 2", "BN, ReLU", r"width $c_0$"])
    for i in range(4):
        _box(ax, xs[i + 1], y, w, h, STAGE, f"stage {i + 1}",
             [f"$d_{i + 1}$ ResNeXt blocks", f"width $c_{i + 1}$",
              f"group width $g_{i + 1}$", f"bottleneck $k_{i + 1}$"])
    _box(ax, xs[5], y, w, h, HEAD, "head", ["global avg pool", "flatten", "linear -> 10"])
    for a, b in zip(xs[:-1], xs[1:]):
        _arrow(ax, a + w, b, y + h / 2)
    ax.text(0.1, 4.5, "The AnyNet design space: stem width + 4 stages x (d, c, g, k) "
            "= 17 free parameters", fontsize=10, va="top", color=INK)

    # Bottom row: RegNetX32 as regnetlab builds it, output shapes from a forward pass.
    y = 0.15
    xs = [0.1 + i * (w + gap) for i in range(len(names) + 1)]
    _box(ax, xs[0], y, w, h, "#eceff1", "input", ["1x28x28"])
    stem_c = shapes[names[0]][0]
    _box(ax, xs[1], y, w, h, STEM, "stem", [f"width {stem_c}", "out " + _shape(shapes[names[0]])])
    for i, name in enumerate(stages):
        d, c, g, k = stage_numbers(getattr(model.net, name))
        _box(ax, xs[i + 2], y, w, h, STAGE, name,
             [f"d={d}, c={c}", f"g={g}, k={k:g}", "out " + _shape(shapes[name])])
    _box(ax, xs[len(names)], y, w, h, HEAD, "head", ["out " + _shape(shapes[names[-1]])])
    for a, b in zip(xs[:-1], xs[1:]):
        _arrow(ax, a + w, b, y + h / 2)
    ax.text(0.1, 2.0, f"RegNetX32 (the book's network, {len(stages)} stages), read off "
            "the model regnetlab builds", fontsize=10, va="bottom", color=INK)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _shape(shape):
    return "x".join(str(s) for s in shape)


def grouped_conv(path):
    """The 3x3 conv of RegNetX32's stage 2, split into groups as the book's arithmetic does."""
    model = RegNetX32()
    _, c, g, k = stage_numbers(model.net.stage2)
    n_groups, b = conv_groups(c, g, k)
    fig, axes = plt.subplots(2, 1, figsize=(9, 2.6))
    cmap = plt.get_cmap("tab10")
    for ax, (groups, title) in zip(axes, [
            (n_groups, f"groups={g} is the group WIDTH: {b} channels // {g} = {n_groups} "
                       f"conv groups of {g} channels (book, regnetlab)"),
            (g, f"misread as a group COUNT: {g} conv groups of {b // g} channels "
                f"(nn.Conv2d(groups={g}))")]):
        width = b // groups
        for i in range(groups):
            ax.barh(0, width, left=i * width, color=cmap(i % 10), edgecolor="white", height=0.8)
        ax.set_xlim(0, b)
        ax.set_yticks([])
        ax.set_title(title, fontsize=9, loc="left")
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    axes[-1].set_xlabel(f"bottleneck channels of stage 2 (c={c}, k={k:g}, b={b})")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def edf_illustration(path, n=100, seed=0):
    """How to read an error EDF, on synthetic errors (labelled as such on the figure)."""
    rng = np.random.default_rng(seed)
    spaces = {"design space A (synthetic)": rng.lognormal(math.log(0.14), 0.25, n),
              "design space B (synthetic)": rng.lognormal(math.log(0.11), 0.15, n)}
    fig, ax = plt.subplots(figsize=(6.4, 3.9))
    probe = 0.12
    for i, (label, errors) in enumerate(spaces.items()):
        e, F = edf(errors)
        ax.step(e, F, where="post", label=f"{label}, n={n}", lw=2, color=f"C{i}")
        frac = float(edf_at(errors, probe))
        ax.plot([probe], [frac], "o", color=f"C{i}")
        ax.annotate(f"F({probe:.2f}) = {frac:.2f}", (probe, frac), xytext=(8, -4 - 10 * i),
                    textcoords="offset points", fontsize=8, color=f"C{i}")
    ax.axvline(probe, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("error e")
    ax.set_ylabel("F(e) = fraction of models with error <= e")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Reading an EDF (synthetic errors, seed {seed}): higher and further "
                 "left is better", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def regnetx_widths(path, name="regnet_x_400mf"):
    """Per-block widths of a RegNetX: linear u_j, quantized w_j, and the final stage widths."""
    cfg = REGNETX_CONFIGS[name]
    j = np.arange(cfg.depth)
    u = cfg.w_0 + cfg.w_a * j
    # w_j of block j is the last stage width of the same rule cut after block j.
    w = [generate_regnet(cfg.w_0, cfg.w_a, cfg.w_m, int(i) + 1).widths[-1] for i in j]
    p = generate_regnet(cfg.w_0, cfg.w_a, cfg.w_m, cfg.depth)
    final, _ = adjust_widths_groups(p.widths, cfg.group_width, cfg.bot_mul)
    per_block_final = np.repeat(final, p.depths)

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(j, u, "--", color="grey", label=r"linear $u_j = w_0 + w_a j$")
    ax.step(j, w, where="mid", lw=2, label=r"quantized $w_j$ (multiple of 8)")
    ax.plot(j, per_block_final, "o", ms=4, color="C3",
            label=f"after group-width adjustment (g={cfg.group_width})")
    start = 0
    for s, (d, width) in enumerate(zip(p.depths, final)):
        ax.axvspan(start - 0.5, start + d - 0.5, color=f"C{s}", alpha=0.08)
        # Alternate heights so that the labels of one-block stages do not overlap.
        ax.text(start + d / 2 - 0.5, max(u) * (1.3 - 0.13 * (s % 2)),
                f"stage {s + 1}\nd={d}, w={width}", ha="center", va="top", fontsize=8)
        start += d
    ax.set_ylim(0, max(u) * 1.33)
    ax.set_xlabel("block index j")
    ax.set_ylabel("width (channels)")
    ax.set_title(f"{name}: depth={cfg.depth}, w_0={cfg.w_0}, w_a={cfg.w_a}, "
                 f"w_m={cfg.w_m}, q=8", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


FIGURES = {
    "anynet_structure.png": anynet_structure,
    "grouped_conv.png": grouped_conv,
    "edf_illustration.png": edf_illustration,
    "regnetx_widths.png": regnetx_widths,
}


def main(fig_dir=FIG_DIR):
    fig_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    for name, draw in FIGURES.items():
        draw(fig_dir / name)
        print(f"wrote {fig_dir / name}")


if __name__ == "__main__":
    main()
