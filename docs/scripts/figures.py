"""The chapter pages' figures, drawn with matplotlib from regnetlab itself.

Every number on these figures is read off the library (a built model, the output of
``generate_regnet``, ``conv_groups``); none is typed here. The EDF figure is the one
illustration: it uses synthetic errors from a seeded generator and says so on its face.
The explorer's figures (docs/figures/explore/) come from recorded runs, see explorer.md.

Readable on a desktop and on a phone: each figure comes in a wide and a narrow version,
its text is set in points chosen for the width it is shown at, and ``save`` records the
smallest text in CSS pixels (tests/test_docs.py requires at least ``MIN_TEXT_PX``).
Colours of design spaces come from palette.py, the one palette of the site.

Run through ``python docs/scripts/build_assets.py`` (which also writes the snippets).
"""
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.text  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from regnetlab import RegNetX32, generate_regnet  # noqa: E402
from regnetlab.blocks import conv_groups  # noqa: E402
from regnetlab.explore.edf import edf, edf_at  # noqa: E402
from regnetlab.regnet import REGNETX_CONFIGS, adjust_widths_groups  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from palette import color  # noqa: E402

FIG_DIR = Path(__file__).resolve().parents[1] / "figures"
DPI = 150
INK = "#263238"
# Structure boxes: pale neutral tints, so that no box reads as one of the design-space
# colours of palette.py (those belong to the spaces on the EDF figures).
STEM, STAGE, HEAD, PLAIN = "#dfe6ee", "#f6ecd9", "#e3eee3", "#f4f4f4"
FONT = 9          # points: body text of every figure
TITLE_FONT = 10   # points: box titles and panel headings

# The text column a figure is shown in, in CSS pixels: at a 1280 px window
# (mkdocs-material's content column) and at a 390 px phone (the narrow variant, shown
# through <picture> below 600 px; see docs/hooks/regnetlab_docs.py).
COLUMN_PX = {"wide": 688, "narrow": 350}
MIN_TEXT_PX = 11  # tests/test_docs.py holds every figure to this, at its column width


def stage_numbers(stage):
    """(depth, channels, group width, bot_mul k) of a built stage of ResNeXt blocks."""
    first = stage[0]
    c = first.conv3.out_channels
    b = first.conv2.out_channels
    return len(stage), c, b // first.conv2.groups, b / c


def text_px(fig, column):
    """The smallest text on ``fig``, in CSS pixels, once scaled to the text column."""
    scale = COLUMN_PX[column] / (fig.get_figwidth() * 72)
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip()]
    return min(sizes) * scale


READABILITY = {}   # figure file name -> smallest text in px at its column, filled by save()


def save(fig, path, column="wide"):
    READABILITY[Path(path).name] = text_px(fig, column)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)


# -- boxes and arrows, in inches (each axes spans its figure, 1 data unit = 1 inch) -------
def _canvas(width, height):
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def _box(ax, cx, cy, w, h, color, title, lines=()):
    """A rounded box centred at (cx, cy): a bold title, then lines of text."""
    ax.add_patch(FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                boxstyle="round,pad=0,rounding_size=0.06",
                                facecolor=color, edgecolor=INK, linewidth=1.0))
    text = [title] + list(lines)
    n = len(text)
    step = 0.19
    top = cy + (n - 1) * step / 2
    for i, line in enumerate(text):
        ax.text(cx, top - i * step, line, ha="center", va="center", color=INK,
                fontsize=TITLE_FONT if i == 0 and title else FONT,
                fontweight="bold" if i == 0 and title else "normal")


def _arrow(ax, p0, p1, label="", side="above", color=INK):
    ax.annotate("", xy=p1, xytext=p0,
                arrowprops=dict(arrowstyle="-|>", color=color, lw=1.1, shrinkA=0, shrinkB=0,
                                mutation_scale=10))
    if label:
        mx, my = (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2
        where = {"above": dict(xy=(mx, my + 0.06), ha="center", va="bottom"),
                 "below": dict(xy=(mx, my - 0.06), ha="center", va="top"),
                 "right": dict(xy=(mx + 0.07, my), ha="left", va="center"),
                 "left": dict(xy=(mx - 0.07, my), ha="right", va="center")}[side]
        xy = where.pop("xy")
        ax.text(*xy, label, fontsize=FONT, color=INK, **where)


def _chain(ax, boxes, labels, x0, y0, horizontal, box_w, box_h, gap, label_side):
    """Boxes joined by arrows, left to right or top to bottom, starting at (x0, y0).

    ``boxes``: (color, title, lines) each; ``labels``: one per arrow, the first arrow
    entering the first box and the last leaving the last box (len(boxes) + 1 labels).
    Returns the point where the chain ends.
    """
    if horizontal:
        # "alternate": labels above and below in turn, so that long ones never collide
        sides = ([("above", "below")[i % 2] for i in range(len(labels))]
                 if label_side == "alternate" else [label_side] * len(labels))
        x, y = x0, y0
        for (color, title, lines), label, side in zip(boxes, labels, sides):
            _arrow(ax, (x, y), (x + gap, y), label, side)
            x += gap
            _box(ax, x + box_w / 2, y, box_w, box_h, color, title, lines)
            x += box_w
        _arrow(ax, (x, y), (x + gap, y), labels[-1], sides[-1])
        return x + gap, y
    x, y = x0, y0
    for (color, title, lines), label in zip(boxes, labels):
        _arrow(ax, (x, y), (x, y - gap), label, label_side)
        y -= gap
        _box(ax, x, y - box_h / 2, box_w, box_h, color, title, lines)
        y -= box_h
    _arrow(ax, (x, y), (x, y - gap), labels[-1], label_side)
    return x, y - gap


def _legend(ax, wide, loc="lower right"):
    """Inside the axes on a desktop; below them on a phone, where it would hide the data."""
    if wide:
        ax.legend(fontsize=FONT, loc=loc)
    else:
        ax.legend(fontsize=FONT, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1,
                  frameon=False)


def _heading(ax, x, y, text):
    ax.text(x, y, text, fontsize=TITLE_FONT, fontweight="bold", color=INK, va="top")


# -- the AnyNet design space, as the book's figure shows it ---------------------------
NETWORK = [(STEM, "stem", ()), (STAGE, "stage 1", ()), (STAGE, "stage 2", ()),
           (STAGE, "stage 3", ()), (STAGE, "stage 4", ()), (HEAD, "head", ())]
NETWORK_LABELS = ["$(1, r)$", "$(c_0, r/2)$", "$(c_1, r/4)$", "$(c_2, r/8)$",
                  "$(c_3, r/16)$", "$(c_4, r/32)$", "logits"]
STAGE_BOXES = [(STAGE, "block 1", ("stride 2",)), (STAGE, "block 2", ()),
               (PLAIN, "...", ()), (STAGE, "block $d_i$", ())]
STAGE_LABELS = ["$(c_{i-1}, r)$", "$(c_i, r/2)$", "$(c_i, r/2)$", "$(c_i, r/2)$",
                "$(c_i, r/2)$"]


def _block(ax, cx, top, first, box_w, short_x):
    """One ResNeXt block, top to bottom, with its shortcut on the right at short_x."""
    s = 2 if first else 1
    r_out = "r/2" if first else "r"
    c_in = "c_{i-1}" if first else "c_i"
    gap, box_h = 0.42, 0.58
    ax.text(cx, top, f"in ${('(' + c_in + ', r)')}$", ha="center", va="bottom",
            fontsize=FONT, color=INK)
    boxes = [(STAGE, "1x1 conv", ("BN, ReLU",)),
             (STAGE, f"3x3 conv, stride {s}", ("groups of $g_i$ channels", "BN, ReLU")),
             (STAGE, "1x1 conv", ("BN",))]
    labels = ["", f"$(c_i k_i, r)$", f"$(c_i k_i, {r_out})$", f"$(c_i, {r_out})$"]
    x, y = cx, top
    for (color, title, lines), label in zip(boxes, labels):
        _arrow(ax, (x, y), (x, y - gap), label, "left")
        y -= gap
        h = box_h + 0.19 * (len(lines) - 1)
        _box(ax, x, y - h / 2, box_w, h, color, title, lines)
        y -= h
    _arrow(ax, (x, y), (x, y - gap), labels[-1], "left")
    y -= gap
    # the sum, the shortcut into it, the final ReLU
    ax.add_patch(plt.Circle((x, y - 0.12), 0.12, facecolor="white", edgecolor=INK, lw=1.0))
    ax.text(x, y - 0.12, "+", ha="center", va="center", fontsize=TITLE_FONT, color=INK)
    join = y - 0.12
    fork = top - 0.12
    ax.plot([x, short_x], [fork, fork], color=INK, lw=1.1)
    if first:
        mid = (fork + join) / 2
        ax.plot([short_x, short_x], [fork, mid + 0.4], color=INK, lw=1.1)
        _box(ax, short_x, mid, 1.25, 0.8, STAGE, "1x1 conv", (f"stride {s}", "BN"))
        ax.plot([short_x, short_x], [mid - 0.4, join], color=INK, lw=1.1)
    else:
        ax.plot([short_x, short_x], [fork, join], color=INK, lw=1.1)
        ax.text(short_x + 0.07, (fork + join) / 2, "identity", rotation=90, ha="left",
                va="center", fontsize=FONT, color=INK)
    _arrow(ax, (short_x, join), (x + 0.12, join))
    y = join - 0.12
    _arrow(ax, (x, y), (x, y - 0.36), "ReLU", "left")
    ax.text(x, y - 0.42, f"out $(c_i, {r_out})$", ha="center", va="top", fontsize=FONT,
            color=INK)


def _block_panel_height():
    return 0.42 * 4 + 0.58 * 3 + 0.19 * 1 + 0.24 + 0.36 + 0.55


def anynet_structure(path, layout="wide"):
    """The AnyNet design space as the book's figure draws it: network, stage, blocks.

    Symbols only (no network is built): $(c, r)$ on each arrow is the number of channels
    and the resolution there, as in the book's figure.
    """
    title = ("AnyNet: stem, 4 stages, head; free per stage $i$: depth $d_i$, width $c_i$, "
             "group width $g_i$, bot_mul $k_i$")
    block_h = _block_panel_height()
    if layout == "wide":
        W, H = 7.6, 1.45 + 1.25 + block_h + 0.45
        fig, ax = _canvas(W, H)
        y = H - 0.12
        _heading(ax, 0.1, y, "(a) the network: image $\\to$ stem $\\to$ body of 4 stages "
                 "$\\to$ head")
        _chain(ax, NETWORK, NETWORK_LABELS, 0.04, y - 0.8, True, 0.72, 0.46, 0.47,
               "alternate")
        y -= 1.45
        _heading(ax, 0.1, y, "(b) stage $i$: $d_i$ ResNeXt blocks; the first halves the "
                 "resolution")
        _chain(ax, STAGE_BOXES, STAGE_LABELS, 0.1, y - 0.65, True, 0.95, 0.55, 0.62,
               "above")
        y -= 1.25
        _heading(ax, 0.1, y, "(c) the blocks: block 1 of a stage (left), blocks 2 to $d_i$ "
                 "(right)")
        _block(ax, 1.45, y - 0.55, True, 1.7, 3.3)
        _block(ax, 5.2, y - 0.55, False, 1.7, 6.5)
    else:
        # Phones: (a) and (b) side by side as columns, then block 1 alone; the other
        # blocks differ only by stride 1 and an identity shortcut, which a note says.
        W = 3.5
        col_h = 0.3 + 6 * 0.42 + 7 * 0.36
        H = 0.35 + col_h + 0.45 + block_h + 0.75
        fig, ax = _canvas(W, H)
        y = H - 0.1
        _heading(ax, 0.05, y, "(a) network")
        _heading(ax, 1.8, y, "(b) stage $i$")
        _chain(ax, NETWORK, NETWORK_LABELS, 0.55, y - 0.3, False, 0.95, 0.42, 0.36, "right")
        _chain(ax, STAGE_BOXES, STAGE_LABELS, 2.3, y - 0.3, False, 0.95, 0.42, 0.36,
               "right")
        y -= 0.3 + col_h + 0.1
        _heading(ax, 0.05, y, "(c) block 1 of stage $i$")
        _block(ax, 1.05, y - 0.55, True, 1.6, 2.75)
        ax.text(0.05, 0.08, "Blocks 2 to $d_i$: the same with stride 1\nand an identity "
                "shortcut, at $(c_i, r/2)$.", fontsize=FONT, color=INK, va="bottom")
    save(fig, path, layout)


def regnetx32_built(path, layout="wide"):
    """RegNetX32 as regnetlab builds it: each part's numbers and output shape, read off
    the model and a forward pass of one 28x28 image."""
    model = RegNetX32().eval()
    x = torch.zeros(1, model.in_channels, 28, 28)
    shapes = {}
    with torch.no_grad():
        for name, module in model.net.named_children():
            x = module(x)
            shapes[name] = tuple(x.shape[1:])
    names = list(shapes)
    stages = [n for n in names if n.startswith("stage")]
    boxes = [(STEM, "stem", (f"$c_0$={shapes[names[0]][0]}",))]
    for name in stages:
        d, c, g, k = stage_numbers(getattr(model.net, name))
        boxes.append((STAGE, name.replace("stage", "stage "),
                      (f"d={d}, c={c}", f"g={g}, k={k:g}")))
    boxes.append((HEAD, "head", ("pool, linear",)))
    labels = ([_shape((model.in_channels, 28, 28))] + [_shape(shapes[n]) for n in names[:-1]]
              + [f"{_shape(shapes[names[-1]])} logits"])
    if layout == "wide":
        W, H = 7.6, 1.35
        fig, ax = _canvas(W, H)
        _chain(ax, boxes, labels, 0.1, 0.6, True, 1.05, 0.78, 0.68, "above")
    else:
        W, H = 3.5, 0.3 + len(boxes) * (0.78 + 0.42) + 0.5
        fig, ax = _canvas(W, H)
        _chain(ax, boxes, labels, 1.1, H - 0.2, False, 1.6, 0.78, 0.42, "right")
    save(fig, path, layout)


def _shape(shape):
    return "x".join(str(s) for s in shape)


def grouped_conv(path, layout="wide"):
    """The 3x3 conv of RegNetX32's stage 2, split into groups as the book's arithmetic does."""
    model = RegNetX32()
    _, c, g, k = stage_numbers(model.net.stage2)
    n_groups, b = conv_groups(c, g, k)
    wide = layout == "wide"
    fig, axes = plt.subplots(2, 1, figsize=(7.6, 2.7) if wide else (3.5, 4.2))
    shades = ("#5b7fa6", "#a9c1dc")   # alternate two tints: groups, not design spaces
    sep = " " if wide else "\n"   # the narrow version breaks its titles into short lines
    for ax, (groups, title) in zip(axes, [
            (n_groups, f"groups={g} as a group WIDTH (book, regnetlab):{sep}"
                       f"{b} channels // {g} = {n_groups} conv groups of {g} channels"),
            (g, f"misread as a group COUNT, nn.Conv2d(groups={g}):{sep}"
                f"{g} conv groups of {b // g} channels")]):
        width = b // groups
        for i in range(groups):
            ax.barh(0, width, left=i * width, color=shades[i % 2], edgecolor="white",
                    height=0.8)
        ax.set_xlim(0, b)
        ax.set_yticks([])
        ax.set_title(title, fontsize=FONT, loc="left")
        ax.tick_params(labelsize=FONT)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    axes[-1].set_xlabel(f"bottleneck channels of stage 2:{' ' if wide else chr(10)}"
                        f"c={c}, k={k:g}, round(c k)={b}", fontsize=FONT)
    fig.tight_layout()
    save(fig, path, layout)


def edf_illustration(path, layout="wide", n=100, seed=0):
    """How to read an error EDF, on synthetic errors (labelled as such on the figure)."""
    rng = np.random.default_rng(seed)
    spaces = {"X": rng.lognormal(math.log(0.14), 0.25, n),
              "Y": rng.lognormal(math.log(0.11), 0.15, n)}
    wide = layout == "wide"
    fig, ax = plt.subplots(figsize=(7.6, 4.2) if wide else (3.5, 4.4))
    probe = 0.12
    for i, (name, errors) in enumerate(spaces.items()):
        e, F = edf(errors)
        frac = float(edf_at(errors, probe))
        # The value read at the dotted line goes in the legend: no label over the curves.
        ax.step(e, F, where="post", lw=2, color=color(name), ls=("-", "--")[i],
                label=f"space {name} (synthetic), n={n}: F({probe:.2f}) = {frac:.2f}")
        ax.plot([probe], [frac], "o", color=color(name))
    ax.axvline(probe, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("error e", fontsize=FONT)
    ax.set_ylabel("F(e): share of models\nwith error <= e", fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Reading an EDF (synthetic errors, seed {seed}):\n"
                 "higher and further left is better", fontsize=FONT)
    _legend(ax, wide)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save(fig, path, layout)


def regnetx_widths(path, layout="wide", name="regnet_x_400mf"):
    """Per-block widths of a RegNetX: linear u_j, quantized w_j, and the final stage widths."""
    cfg = REGNETX_CONFIGS[name]
    j = np.arange(cfg.depth)
    u = cfg.w_0 + cfg.w_a * j
    # w_j of block j is the last stage width of the same rule cut after block j.
    w = [generate_regnet(cfg.w_0, cfg.w_a, cfg.w_m, int(i) + 1).widths[-1] for i in j]
    p = generate_regnet(cfg.w_0, cfg.w_a, cfg.w_m, cfg.depth)
    final, _ = adjust_widths_groups(p.widths, cfg.group_width, cfg.bot_mul)
    per_block_final = np.repeat(final, p.depths)

    wide = layout == "wide"
    fig, ax = plt.subplots(figsize=(7.6, 4.4) if wide else (3.5, 5.2))
    ax.plot(j, u, "--", color="grey", label=r"linear $u_j = w_0 + w_a j$")
    ax.step(j, w, where="mid", lw=2, color=INK, label=r"quantized $w_j$ (multiple of 8)")
    ax.plot(j, per_block_final, "o", ms=4, color="#c0392b",
            label=f"after group-width\nadjustment (g={cfg.group_width})")
    start = 0
    for s, (d, width) in enumerate(zip(p.depths, final)):
        # Stages as alternating grey bands: stages are not design spaces (palette.py).
        ax.axvspan(start - 0.5, start + d - 0.5, color="#000000", alpha=0.04 + 0.05 * (s % 2))
        ax.text(start + d / 2 - 0.5, max(u) * (1.3 - 0.27 * (s % 2)),
                f"stage {s + 1}\nd={d}\nw={width}", ha="center", va="top", fontsize=FONT)
        start += d
    ax.set_ylim(0, max(u) * 1.33)
    ax.set_xlabel("block index j", fontsize=FONT)
    ax.set_ylabel("width (channels)", fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.set_title(f"{name}: depth={cfg.depth}, w_0={cfg.w_0},\nw_a={cfg.w_a}, "
                 f"w_m={cfg.w_m}, q=8", fontsize=FONT)
    _legend(ax, wide)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save(fig, path, layout)


# Each figure in a wide version (figures/NAME.png) and a narrow one for phones
# (figures/NAME-narrow.png), which the docs hook serves below 600 px through <picture>.
FIGURES = {
    "anynet_structure.png": anynet_structure,
    "regnetx32_built.png": regnetx32_built,
    "grouped_conv.png": grouped_conv,
    "edf_illustration.png": edf_illustration,
    "regnetx_widths.png": regnetx_widths,
}
LAYOUTS = {"wide": "{stem}.png", "narrow": "{stem}-narrow.png"}


def outputs():
    """Every file main() writes: (file name, draw function, layout)."""
    return [(pattern.format(stem=Path(name).stem), draw, layout)
            for name, draw in FIGURES.items() for layout, pattern in LAYOUTS.items()]


def main(fig_dir=FIG_DIR):
    fig_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    for name, draw, layout in outputs():
        draw(fig_dir / name, layout)
        print(f"wrote {fig_dir / name} (smallest text {READABILITY[name]:.1f} px "
              f"in a {COLUMN_PX[layout]} px column)")
    return dict(READABILITY)


if __name__ == "__main__":
    main()
