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
draw from the free space, keep the draw only if it obeys the constraints and builds.
Samplers take a ``random.Random`` so that network i of a space is the same on every run.
"""
from ..regnet import RegNetXConfig

STAGES = 3
DEPTHS = (1, 2, 3)
WIDTHS = (8, 16, 24, 32, 40, 48, 56, 64)
BOT_MULS = (1.0, 0.5, 0.25)
GROUP_WIDTHS = (1, 2, 4, 8, 16)
STEM_CHANNELS = 16
MAX_TRIES = 10_000

# Each space adds one constraint to the previous one (the paper's A -> E).
ANYNETX_CONSTRAINTS = {
    "A": (),
    "B": ("shared_bot_mul",),
    "C": ("shared_bot_mul", "shared_groups"),
    "D": ("shared_bot_mul", "shared_groups", "increasing_widths"),
    "E": ("shared_bot_mul", "shared_groups", "increasing_widths", "increasing_depths"),
}


class SamplingError(RuntimeError):
    """No valid network was found; the space's constraints leave (almost) nothing."""


def block_ok(width, groups, bot_mul):
    """True when ``ResNeXtBlock(width, groups, bot_mul)`` builds: g divides the bottleneck."""
    b = int(round(width * bot_mul))
    return b >= 1 and groups <= b and b % groups == 0


def obeys(arch, constraints):
    """True when ``arch`` ((d, w, g, k), ...) satisfies every named constraint."""
    depths, widths, groups, bot_muls = zip(*arch)
    checks = {
        "shared_bot_mul": len(set(bot_muls)) == 1,
        "shared_groups": len(set(groups)) == 1,
        "increasing_widths": all(a <= b for a, b in zip(widths, widths[1:])),
        "increasing_depths": all(a <= b for a, b in zip(depths, depths[1:])),
    }
    unknown = set(constraints) - set(checks)
    if unknown:
        raise ValueError(f"unknown constraints {sorted(unknown)}; expected some of "
                         f"{sorted(checks)}")
    return all(checks[c] for c in constraints)


def _reject(rng, draw, accept, what):
    for _ in range(MAX_TRIES):
        x = draw(rng)
        if accept(x):
            return x
    raise SamplingError(f"{what}: no valid network in {MAX_TRIES} draws")


def sample_anynetx(rng, space):
    """One network of AnyNetX space ``space`` ("A".."E") as ``{"arch", "stem_channels"}``."""
    if space not in ANYNETX_CONSTRAINTS:
        raise ValueError(f"AnyNetX space {space!r}: expected one of "
                         f"{', '.join(ANYNETX_CONSTRAINTS)}")
    constraints = ANYNETX_CONSTRAINTS[space]

    def draw(r):
        shared_k, shared_g = r.choice(BOT_MULS), r.choice(GROUP_WIDTHS)
        return tuple((r.choice(DEPTHS), r.choice(WIDTHS),
                      shared_g if "shared_groups" in constraints else r.choice(GROUP_WIDTHS),
                      shared_k if "shared_bot_mul" in constraints else r.choice(BOT_MULS))
                     for _ in range(STAGES))

    def accept(arch):
        return all(block_ok(w, g, k) for _, w, g, k in arch) and obeys(arch, constraints)

    arch = _reject(rng, draw, accept, f"AnyNetX {space}")
    return {"arch": [list(s) for s in arch], "stem_channels": STEM_CHANNELS}


# The RegNetX space: (depth, w_0, w_a, w_m, group width), k = 1, scaled like AnyNetX
# above (at most 3 stages, widths <= 64) so the two spaces' EDFs compare like for like.
REGNET_DEPTHS = range(3, 10)
REGNET_W0 = (8, 16, 24, 32)
REGNET_WA = (2.0, 24.0)
REGNET_WM = (1.5, 3.0)


def sample_regnetx(rng):
    """One RegNetX: the five numbers plus the stages they generate."""
    def draw(r):
        return RegNetXConfig(depth=r.choice(REGNET_DEPTHS), w_0=r.choice(REGNET_W0),
                             w_a=round(r.uniform(*REGNET_WA), 2),
                             w_m=round(r.uniform(*REGNET_WM), 3),
                             group_width=r.choice(GROUP_WIDTHS))

    def accept(cfg):
        widths, _, _ = cfg.stages()
        return len(widths) <= STAGES and max(widths) <= max(WIDTHS)

    cfg = _reject(rng, draw, accept, "RegNetX")
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
VIONET_GROUPS_KEYS = ("ok", "d", "c", "g", "b")


def sample_vionet(rng, violate="ok"):
    """Keyword arguments of ``VioNet`` that break exactly principle ``violate`` (or none)."""
    if violate not in VIONET_GROUPS_KEYS:
        raise ValueError(f"violate={violate!r}: expected one of {VIONET_GROUPS_KEYS}")

    def draw(r):
        return {"depths": [r.choice(VIONET_DEPTHS) for _ in range(2)],
                "channels": [r.choice(VIONET_CHANNELS) for _ in range(2)],
                "groups": [r.choice(VIONET_GROUPS) for _ in range(2)],
                "bot_mul": [r.choice(VIONET_BOT_MULS) for _ in range(2)]}

    def accept(kw):
        (d1, d2), (c1, c2) = kw["depths"], kw["channels"]
        (g1, g2), (k1, k2) = kw["groups"], kw["bot_mul"]
        broken = {"d": d1 > d2, "c": c1 > c2, "g": g1 != g2, "b": k1 != k2}
        wanted = {key: key == violate for key in broken}
        return broken == wanted and all(block_ok(c, g, k) for c, g, k in
                                        zip(kw["channels"], kw["groups"], kw["bot_mul"]))

    kw = _reject(rng, draw, accept, f"VioNet violating {violate!r}")
    return {"stem_channels": 32, **kw}
