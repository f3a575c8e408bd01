"""RegNet: generate per-stage widths and depths from the paper's quantized linear rule.

As in pycls, this file only *generates* (widths, depths); ``AnyNet`` builds the network.

The rule (Radosavovic et al. 2020, section 3.3), for blocks j = 0 .. depth-1:

    u_j = w_0 + w_a * j                      linear widths, slope w_a
    s_j = round(log(u_j / w_0) / log(w_m))   position on a geometric grid with ratio w_m
    w_j = q * round(w_0 * w_m ** s_j / q)    quantized to a multiple of q (8)

Consecutive blocks of equal width form a stage. A last step makes each stage width
compatible with the group width (the bottleneck must be a multiple of it); pycls and
torchvision round this step differently, see :func:`adjust_widths_groups`.
"""
import math
from dataclasses import dataclass

from .anynet import AnyNet


@dataclass(frozen=True)
class RegNetParams:
    """Per-stage widths and depths of a RegNet, stage 1 first."""
    widths: tuple
    depths: tuple


def generate_regnet(w_0, w_a, w_m, depth, q=8):
    """Per-stage (widths, depths) from the quantized linear parameterisation.

    ``w_0 > 0`` initial width, ``w_a >= 0`` slope, ``w_m >= 1`` width multiplier
    (``w_m == 1`` or ``w_a == 0`` gives one stage), ``depth >= 1`` blocks in all,
    ``q`` the quantum. The group-width adjustment is a separate step.
    """
    if not (w_0 > 0 and w_a >= 0 and w_m >= 1 and int(depth) == depth and depth >= 1
            and int(q) == q and q >= 1):
        raise ValueError(
            f"generate_regnet(w_0={w_0}, w_a={w_a}, w_m={w_m}, depth={depth}, q={q}): "
            "expected w_0 > 0, w_a >= 0, w_m >= 1, an integer depth >= 1 and q >= 1")
    widths = []
    for j in range(int(depth)):
        u = w_0 + w_a * j
        s = round(math.log(u / w_0) / math.log(w_m)) if w_m > 1 else 0
        widths.append(int(round(w_0 * w_m ** s / q) * q))
    stage_widths, stage_depths = [], []
    for w in widths:
        if stage_widths and stage_widths[-1] == w:
            stage_depths[-1] += 1
        else:
            stage_widths.append(w)
            stage_depths.append(1)
    return RegNetParams(tuple(stage_widths), tuple(stage_depths))


def adjust_widths_groups(widths, group_width, bot_mul=1.0, rule="pycls"):
    """Make each stage's bottleneck width a multiple of its group width.

    Returns ``(widths, group_widths)``. The group width is capped at the bottleneck
    width, then the bottleneck is rounded to a multiple of it:

    - ``rule="pycls"`` (default, the paper's reference code): ``round(v / g) * g``
      with Python's round-half-to-even, as numpy does in pycls;
    - ``rule="torchvision"``: ``_make_divisible``, which rounds halves up and never
      goes below 90% of ``v``.

    They differ on RegNetX-400MF's last stage: 392 / 16 = 24.5 rounds to 384 in pycls
    and to 400 in torchvision. We follow pycls by default.
    """
    if rule not in ("pycls", "torchvision"):
        raise ValueError(f"rule={rule!r}: expected 'pycls' or 'torchvision'")
    out_w, out_g = [], []
    for w in widths:
        v = max(1, int(w * bot_mul))
        g = min(group_width, v)
        if rule == "pycls":
            v = max(g, int(round(v / g) * g))
        else:
            new_v = max(g, int(v + g / 2) // g * g)
            v = new_v + g if new_v < 0.9 * v else new_v
        out_w.append(int(v / bot_mul))
        out_g.append(g)
    return tuple(out_w), tuple(out_g)


@dataclass(frozen=True)
class RegNetXConfig:
    """The five numbers that define a RegNetX model (paper, appendix; as in timm)."""
    depth: int
    w_0: int
    w_a: float
    w_m: float
    group_width: int
    bot_mul: float = 1.0

    def stages(self, rule="pycls"):
        """Per-stage (widths, depths, group_widths) after the group-width adjustment."""
        p = generate_regnet(self.w_0, self.w_a, self.w_m, self.depth)
        widths, gws = adjust_widths_groups(p.widths, self.group_width, self.bot_mul, rule)
        return widths, p.depths, gws


# The RegNetX models that torchvision ships (the paper's ImageNet models).
REGNETX_CONFIGS = {
    "regnet_x_400mf": RegNetXConfig(22, 24, 24.48, 2.54, 16),
    "regnet_x_800mf": RegNetXConfig(16, 56, 35.73, 2.28, 16),
    "regnet_x_1_6gf": RegNetXConfig(18, 80, 34.01, 2.25, 24),
    "regnet_x_3_2gf": RegNetXConfig(25, 88, 26.31, 2.25, 48),
    "regnet_x_8gf": RegNetXConfig(23, 80, 49.56, 2.88, 120),
    "regnet_x_16gf": RegNetXConfig(22, 216, 55.59, 2.1, 128),
    "regnet_x_32gf": RegNetXConfig(23, 320, 69.86, 2.0, 168),
}


class RegNetX(AnyNet):
    """An AnyNet whose stages come from :func:`generate_regnet` (one group width, one k).

    Example: ``RegNetX(depth=10, w_0=24, w_a=36, w_m=2.5, group_width=8)``.
    """

    def __init__(self, depth, w_0, w_a, w_m, group_width, bot_mul=1.0, stem_channels=32,
                 lr=0.1, num_classes=10, rule="pycls"):
        cfg = RegNetXConfig(depth, w_0, w_a, w_m, group_width, bot_mul)
        widths, depths, gws = cfg.stages(rule)
        arch = tuple((d, w, g, bot_mul) for w, d, g in zip(widths, depths, gws))
        super().__init__(arch, stem_channels, lr, num_classes)
        self.config = cfg
