"""Design spaces and their samplers, scaled down for 28x28 Fashion-MNIST on a CPU.

The paper (Radosavovic et al. 2020, section 3) samples AnyNetX networks with 4 stages,
depths d_i <= 16, widths w_i <= 1024 (multiples of 8), bottleneck ratios in {1, 2, 4}
and group widths in {1, ..., 32}, and narrows the space step by step:

- A: every stage free (d_i, w_i, g_i, b_i)
- B: shared bottleneck ratio     b_i = b
- C: also shared group width     g_i = g
- D: also non-decreasing widths  w_i <= w_{i+1}
- E: also non-decreasing depths  d_i <= d_{i+1}

Here a network has 3 stages (28 -> 14 after the stem -> 7 -> 4 -> 2), depths 1..3 and
widths 8..64, so that one trains in seconds. As in d2l, ``bot_mul`` k is the inverse of
the paper's ratio (bottleneck = w * k) and ``groups`` is the group *width*.

Every sampler draws uniformly from its constrained space by rejection, as the paper does:
draw from the free space, keep the draw only if it obeys the constraints (the principles
of :mod:`regnetlab.principles`), builds, and lies in the complexity band. The band is
what makes spaces comparable: the paper compares networks of 360-400 MF (a 0.9-1.0
ratio), because a constraint that merely shrinks networks would otherwise look like a
worse space. pycls does the same (``SETUP.CONSTRAINTS.CX``, checked by rejection).
Samplers take a ``random.Random`` so that network i of a space is the same on every run.
"""
from dataclasses import dataclass

from ..blocks import conv_groups
from ..principles import PRINCIPLES, Design, holds, violated
from ..regnet import RegNetXConfig

STAGES = 3
MAX_STAGES = 4  # 28 -> 14 (stem) -> 7 -> 4 -> 2 -> 1
DEPTHS = (1, 2, 3)
WIDTHS = (8, 16, 24, 32, 40, 48, 56, 64)
BOT_MULS = (1.0, 0.5, 0.25)
GROUP_WIDTHS = (1, 2, 4, 8, 16)
STEM_CHANNELS = 16
MAX_TRIES = 100_000  # a narrow band keeps ~1 in 200 draws of E

# Each space adds one principle to the previous one (the paper's A -> E).
ANYNETX_PRINCIPLES = {
    "A": (),
    "B": ("b",),
    "C": ("b", "g"),
    "D": ("b", "g", "c"),
    "E": ("b", "g", "c", "d"),
}


class SamplingError(RuntimeError):
    """No valid network was found; the space's constraints leave (almost) nothing."""


@dataclass(frozen=True)
class Band:
    """A complexity band: ``low <= measure <= high`` for one image of ``size`` x ``size``.

    ``measure`` is ``"flops"`` (torch's count: a multiply-add is 2 FLOPs, so the paper's
    400 MF is 800 MFLOPs here) or ``"params"``.
    """
    measure: str
    low: float
    high: float
    size: int = 28

    def __post_init__(self):
        if self.measure not in ("flops", "params"):
            raise ValueError(f"band measure {self.measure!r}: expected flops or params")
        if not 0 <= self.low < self.high:
            raise ValueError(f"band {self.low:g}..{self.high:g}: expected 0 <= low < high")

    def __contains__(self, value):
        return self.low <= value <= self.high

    def as_dict(self):
        return {"measure": self.measure, "low": self.low, "high": self.high, "size": self.size}

    @classmethod
    def from_dict(cls, d):
        return cls(d["measure"], d["low"], d["high"], d.get("size", 28))

    def describe(self):
        """'0.54-0.60 MFLOPs at 28x28' or '100k-150k parameters'."""
        if self.measure == "flops":
            return (f"{self.low / 1e6:.2f}-{self.high / 1e6:.2f} MFLOPs per "
                    f"{self.size}x{self.size} image")
        return f"{self.low / 1e3:.0f}k-{self.high / 1e3:.0f}k parameters"


def parse_band(text, measure):
    """``--band 0.54,0.6`` (MFLOPs) or ``--band 100,150`` (thousands of parameters);
    ``--band none`` samples without a band (None)."""
    if text.strip().lower() == "none":
        return None
    scale = 1e6 if measure == "flops" else 1e3
    try:
        low, high = (float(x) * scale for x in text.split(","))
    except ValueError:
        unit = "MFLOPs" if measure == "flops" else "thousand parameters"
        raise ValueError(f"--band {text!r}: expected LOW,HIGH in {unit}, e.g. "
                         f"{'0.54,0.6' if measure == 'flops' else '100,150'}, or none") from None
    return Band(measure, round(low), round(high))


# AnyNetX and RegNetX share one band, so their EDFs compare like for like: 0.54-0.60
# MFLOPs has the paper's 0.9-1.0 ratio, and each space keeps 4-10% of its free draws.
FLOPS_BAND = Band("flops", 540_000, 600_000)


def block_ok(width, groups, bot_mul):
    """True when ``ResNeXtBlock(width, groups, bot_mul)`` builds: g divides the bottleneck."""
    b = int(round(width * bot_mul))
    return b >= 1 and groups <= b and b % groups == 0


def anynet_flops(arch, stem_channels, size=28, in_channels=1, num_classes=10):
    """FLOPs of ``AnyNet(arch, stem_channels)`` on one image, as ``summary.complexity``
    counts them (convs and the head; 2 per multiply-add), without building the network:
    rejection sampling tries hundreds of draws per accepted network."""
    h = (size - 1) // 2 + 1  # 3x3 conv, stride 2, padding 1
    flops, c_in = 2 * stem_channels * h * h * in_channels * 9, stem_channels
    for depth, c, g, k in arch:
        for i in range(depth):
            n_groups, b = conv_groups(c, g, k)
            out = (h - 1) // 2 + 1 if i == 0 else h
            flops += (2 * b * h * h * c_in + 2 * b * out * out * (b // n_groups) * 9
                      + 2 * c * out * out * b)
            if i == 0:  # the 1x1 stride-2 shortcut
                flops += 2 * c * out * out * c_in
            h, c_in = out, c
    return flops + 2 * c_in * num_classes


def in_band(band, arch, stem_channels):
    return band is None or anynet_flops(arch, stem_channels, band.size) in band


def _reject(rng, draw, accept, what):
    for _ in range(MAX_TRIES):
        x = draw(rng)
        if accept(x):
            return x
    raise SamplingError(f"{what}: no valid network in {MAX_TRIES} draws")


def sample_anynetx(rng, space, band=None):
    """One network of AnyNetX space ``space`` ("A".."E") as ``{"arch", "stem_channels"}``."""
    if space not in ANYNETX_PRINCIPLES:
        raise ValueError(f"AnyNetX space {space!r}: expected one of "
                         f"{', '.join(ANYNETX_PRINCIPLES)}")
    keys = ANYNETX_PRINCIPLES[space]

    def draw(r):
        # a shared value drawn once is uniform over the tuples that share it, and far
        # cheaper than waiting for equal draws
        shared_k, shared_g = r.choice(BOT_MULS), r.choice(GROUP_WIDTHS)
        return tuple((r.choice(DEPTHS), r.choice(WIDTHS),
                      shared_g if "g" in keys else r.choice(GROUP_WIDTHS),
                      shared_k if "b" in keys else r.choice(BOT_MULS))
                     for _ in range(STAGES))

    def accept(arch):
        design = Design.from_arch(arch)
        return (all(holds(k, design) for k in keys)
                and all(block_ok(w, g, k) for _, w, g, k in arch)
                and in_band(band, arch, STEM_CHANNELS))

    arch = _reject(rng, draw, accept, f"AnyNetX {space}")
    return {"arch": [list(s) for s in arch], "stem_channels": STEM_CHANNELS}


# The RegNetX space: (depth, w_0, w_a, w_m, group width), k = 1, scaled like AnyNetX
# above (widths <= 64). The quantized rule may give fewer stages than asked for; a space
# compared with AnyNetX keeps only draws with exactly its 3 stages, since a 1- or 2-stage
# network is a different network family and the EDFs would not compare like for like.
REGNET_DEPTHS = range(3, 10)
REGNET_W0 = (8, 16, 24, 32)
REGNET_WA = (2.0, 24.0)
REGNET_WM = (1.5, 3.0)


def sample_regnetx(rng, band=None, stages=None):
    """One RegNetX: the five numbers plus the stages they generate.

    ``stages``: keep only draws that generate exactly this many stages, each of
    AnyNetX's depths (1..3 blocks), so the space is a subset of AnyNetX's as the paper's
    RegNetX is (None: any number of stages up to ``STAGES`` and any depth, as the first
    recordings did).
    """
    if stages is not None and (isinstance(stages, bool) or not isinstance(stages, int)
                               or not 1 <= stages <= MAX_STAGES):
        raise ValueError(f"stages={stages!r}: expected a whole number from 1 to {MAX_STAGES} "
                         "(a 28x28 image halves to 1x1 after the stem and 4 stages)")
    def draw(r):
        return RegNetXConfig(depth=r.choice(REGNET_DEPTHS), w_0=r.choice(REGNET_W0),
                             w_a=round(r.uniform(*REGNET_WA), 2),
                             w_m=round(r.uniform(*REGNET_WM), 3),
                             group_width=r.choice(GROUP_WIDTHS))

    def accept(cfg):
        widths, depths, gws = cfg.stages()
        n_ok = (len(widths) <= STAGES if stages is None else
                len(widths) == stages and max(depths) <= max(DEPTHS))
        return (n_ok and max(widths) <= max(WIDTHS)
                and in_band(band, tuple(zip(depths, widths, gws, (1.0,) * len(widths))),
                            STEM_CHANNELS))

    cfg = _reject(rng, draw, accept,
                  "RegNetX" if stages is None else f"RegNetX with {stages} stages")
    widths, depths, gws = cfg.stages()
    return {"depth": cfg.depth, "w_0": cfg.w_0, "w_a": cfg.w_a, "w_m": cfg.w_m,
            "group_width": cfg.group_width, "stem_channels": STEM_CHANNELS,
            "arch": [[d, w, g, 1.0] for w, d, g in zip(widths, depths, gws)]}


# VioNet variants: two stages like RegNetX32; "ok" obeys all four RegNetX principles,
# each other group breaks exactly one of them (d2l's d_i, c_i, g_i, b_i).
VIONET_DEPTHS = (1, 2, 3, 4, 5)
VIONET_CHANNELS = (16, 32, 48, 64, 80)
VIONET_GROUPS = (4, 8, 16)
VIONET_BOT_MULS = (0.5, 1.0)
VIONET_GROUPS_KEYS = ("ok", *PRINCIPLES)
VIONET_STEM = 32


def sample_vionet(rng, violate="ok", band=None):
    """Keyword arguments of ``VioNet`` that break exactly principle ``violate`` (or none)."""
    if violate not in VIONET_GROUPS_KEYS:
        raise ValueError(f"violate={violate!r}: expected one of {VIONET_GROUPS_KEYS}")

    def draw(r):
        return {"depths": [r.choice(VIONET_DEPTHS) for _ in range(2)],
                "channels": [r.choice(VIONET_CHANNELS) for _ in range(2)],
                "groups": [r.choice(VIONET_GROUPS) for _ in range(2)],
                "bot_mul": [r.choice(VIONET_BOT_MULS) for _ in range(2)]}

    def accept(kw):
        arch = tuple(zip(kw["depths"], kw["channels"], kw["groups"], kw["bot_mul"]))
        return (violated(Design.from_arch(arch)) == ({violate} - {"ok"})
                and all(block_ok(c, g, k) for _, c, g, k in arch)
                and in_band(band, arch, VIONET_STEM))

    kw = _reject(rng, draw, accept, f"VioNet violating {violate!r}")
    return {"stem_channels": VIONET_STEM, **kw}
