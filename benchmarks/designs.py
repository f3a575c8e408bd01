"""Design spaces of valid answers, one per "learns" threshold: what the calibration trains.

A threshold set on the reference solution alone says nothing about the other answers
the rubric accepts (a valid 34-block RegNetX once sat at chance under it), so each
exercise module declares ``CALIBRATION = {key: name}``, naming a :class:`Space` here of
the networks its rubric accepts, and ``benchmarks/calibrate_thresholds.py`` trains its
``extremes`` plus random draws (``space(rng)``) over several seeds. A draw is a
:class:`Candidate`, a zero-argument builder of a library network; no student code and no
``solutions/`` file is involved. These spaces hold working answers (an MLP block, a
ResNet-block AnyNet), so they live here, beside the calibration, and never in the
package that students' templates and the grader's sandbox carry.

The bounds below are the rubric's where it has one (ex1's FLOP budget, ex3's baseline)
and the RegNet paper's AnyNetX bounds where it has none (Radosavovic et al. 2020, 3.1:
depths <= 16, widths multiples of 8, group widths 1..32, bottleneck ratios 1, 2, 4).
"""
import itertools
from dataclasses import dataclass, field

from torch import nn
from torch.nn import functional as F

from regnetlab.anynet import AnyNet
from regnetlab.blocks import Residual
from regnetlab.classifier import Classifier, init_cnn
from regnetlab.principles import MLP_PRINCIPLES, Design, mlp_holds, violated

MAX_TRIES = 20_000
# RegNetX32 (d2l 8.8.3), the baseline of ex2 and ex3 and the unit of ex1's budget
BASELINE = {"stem": 32, "depths": (4, 6), "widths": (32, 80), "groups": (16, 16),
            "bot_muls": (1.0, 1.0)}


class SpaceError(RuntimeError):
    """A space whose constraints leave no design (or a design outside its space)."""


@dataclass(frozen=True)
class Candidate:
    """One network: ``kind`` is ``anynet`` (arch of (d, c, g, k)), ``deanynet`` (arch of
    (d, c), ``variant`` picks the Residual block's implementation) or ``mlp`` (arch of
    (d, w, k)). Calling it builds the network."""
    label: str
    kind: str
    arch: tuple
    stem: int
    variant: str = ""

    def __call__(self, lr=0.1):
        if self.kind == "anynet":
            return AnyNet(self.arch, self.stem, lr)
        if self.kind == "deanynet":
            return DeAnyNet(self.arch, self.stem, lr, variant=self.variant)
        if self.kind == "mlp":
            return AnyMLP(self.arch, self.stem, lr)
        raise ValueError(f"design kind {self.kind!r}: expected anynet, deanynet or mlp")

    def as_json(self):
        return {"label": self.label, "kind": self.kind, "stem": self.stem,
                "arch": [list(s) for s in self.arch], "variant": self.variant}


@dataclass(frozen=True)
class Space:
    """A design space: ``space(rng)`` draws one valid design (uniformly, by rejection);
    ``reference`` (the reference solution's design, which the controls train) and the
    ``extremes`` are always trained; ``why_invalid`` is the rubric's acceptance."""
    name: str
    draw: object                 # rng -> Candidate (not yet checked)
    check: object                # Candidate -> None, or the reason it is not valid
    reference: Candidate
    extremes: tuple = field(default=())
    note: str = ""

    def __call__(self, rng):
        for _ in range(MAX_TRIES):
            d = self.draw(rng)
            if self.check(d) is None:
                return d
        raise SpaceError(f"{self.name}: no valid design in {MAX_TRIES} draws")

    def why_invalid(self, design):
        return self.check(design)


# -- library equivalents of the students' networks (ex2's DeAnyNet, ex4's AnyMLP) --------

class ShortcutBNResidual(Residual):
    """``Residual`` with batch norm on the 1x1 projection (as torchvision's ResNet has)."""

    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__(num_channels, use_1x1conv, strides)
        self.bn3 = nn.LazyBatchNorm2d() if use_1x1conv else None

    def forward(self, X):
        Y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(X)))))
        if self.conv3 is not None:
            X = self.bn3(self.conv3(X))
        return F.relu(Y + X)


def _no_bias(block):
    """The block's convolutions without bias (batch norm follows them, a common choice)."""
    for name, m in list(block.named_children()):
        if isinstance(m, nn.LazyConv2d):
            setattr(block, name, nn.LazyConv2d(m.out_channels, m.kernel_size, m.stride,
                                               m.padding, bias=False))
    return block


# Implementation choices ex2's rubric accepts: projection with or without batch norm,
# convolutions with or without bias, AnyNet's Xavier init or torch's default (what the
# book's `net.apply(d2l.init_cnn)` on lazy layers amounts to).
DE_VARIANTS = ("book", "book+default-init", "shortcut-bn", "shortcut-bn+default-init",
               "no-bias", "shortcut-bn+no-bias+default-init")


class DeAnyNet(AnyNet):
    """AnyNet of ResNet blocks, ``arch`` of ``(depth, num_channels)`` (d2l 8.8.6, ex. 2)."""

    def __init__(self, arch, stem_channels, lr=0.1, num_classes=10, variant="book"):
        if variant not in DE_VARIANTS:
            raise ValueError(f"variant {variant!r}: expected one of {', '.join(DE_VARIANTS)}")
        self.variant = variant
        super().__init__(arch, stem_channels, lr, num_classes)

    def stage(self, depth, num_channels):
        block = ShortcutBNResidual if "shortcut-bn" in self.variant else Residual
        blk = [block(num_channels, use_1x1conv=i == 0, strides=2 if i == 0 else 1)
               for i in range(depth)]
        return nn.Sequential(*[_no_bias(b) if "no-bias" in self.variant else b for b in blk])

    def materialize_and_init(self):
        super().materialize_and_init()
        if "default-init" in self.variant:  # back to torch's own init, as the book gets
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    m.reset_parameters()


class MLPBlock(nn.Module):
    """Residual MLP block (the stub of exercise 4): two linears around ``width * bot_mul``."""

    def __init__(self, in_width, width, bot_mul):
        super().__init__()
        b = int(round(width * bot_mul))
        self.fc1, self.bn1 = nn.Linear(in_width, b), nn.BatchNorm1d(b)
        self.fc2, self.bn2 = nn.Linear(b, width), nn.BatchNorm1d(width)
        self.proj = None if in_width == width else nn.Sequential(
            nn.Linear(in_width, width), nn.BatchNorm1d(width))

    def forward(self, X):
        Y = self.bn2(self.fc2(F.relu(self.bn1(self.fc1(X)))))
        return F.relu(Y + (X if self.proj is None else self.proj(X)))


class AnyMLP(Classifier):
    """Stem (pool to 28x28, flatten, Linear, BN, ReLU), stages of ``MLPBlock``, head."""

    def __init__(self, arch, stem_width, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        layers = [("stem", nn.Sequential(nn.AdaptiveAvgPool2d(28), nn.Flatten(),
                                         nn.Linear(784, stem_width),
                                         nn.BatchNorm1d(stem_width), nn.ReLU()))]
        width = stem_width
        for i, (depth, w, k) in enumerate(arch, 1):
            layers.append((f"stage{i}", nn.Sequential(
                *[MLPBlock(width if j == 0 else w, w, k) for j in range(depth)])))
            width = w
        layers.append(("head", nn.Linear(width, num_classes)))
        self.net = nn.Sequential()
        for name, m in layers:
            self.net.add_module(name, m)
        self.net.apply(init_cnn)


# -- FLOPs at 28x28, as summary.complexity counts them (convs and linears, 2 per MAC) ------

def anynet_flops(arch, stem, size=28, num_classes=10):
    """FLOPs of ``AnyNet(arch, stem)`` on one ``size`` image (no network built: fast enough
    to reject thousands of draws; ``tests/test_calibration.py`` checks it against torch)."""
    r = (size - 1) // 2 + 1
    flops, c_in = 2 * r * r * stem * 9, stem
    for d, c, g, k in arch:
        b = int(round(c * k))
        gw = b // (b // g)                       # channels per group, as the block builds
        r_out = (r - 1) // 2 + 1
        for i in range(d):
            r_in, cin = (r, c_in) if i == 0 else (r_out, c)
            flops += 2 * (r_in * r_in * b * cin + r_out * r_out * b * gw * 9
                          + r_out * r_out * c * b)
            if i == 0:
                flops += 2 * r_out * r_out * c * c_in
        r, c_in = r_out, c
    return flops + 2 * c_in * num_classes


REGNETX32_FLOPS = anynet_flops(tuple((d, c, g, k) for d, c, g, k in zip(
    *(BASELINE[n] for n in ("depths", "widths", "groups", "bot_muls")))), BASELINE["stem"])


def buildable(c, g, k):
    """The group width divides the bottleneck ``int(round(c * k))`` (the rubric measures the
    group width as bottleneck / conv groups, so it must come out exact)."""
    b = int(round(c * k))
    return b >= 1 and g <= b and b % g == 0


def _label(arch, stem, names, extra=""):
    """``d(1, 1, 2, 2) c(32, 64, 80, 128) g16 k1.0 stem32``: shared choices written once."""
    parts = [f"{n}{v[0]}" if n in "gk" and len(set(v)) == 1 else f"{n}{v}"
             for n, v in zip(names, zip(*arch))]
    return " ".join(parts + [f"stem{stem}"] + ([extra] if extra else []))


def _anynet(arch, stem, extra=""):
    arch = tuple(tuple(s) for s in arch)
    return Candidate(_label(arch, stem, "dcgk", extra), "anynet", arch, stem)


# -- ex1: four-stage RegNetX within twice RegNetX32's FLOPs -------------------------------

EX1_DEPTHS = range(1, 17)
EX1_WIDTHS = range(8, 1025, 8)
EX1_GROUPS = (1, 2, 4, 8, 16, 32)
EX1_BOT_MULS = (1.0, 0.5, 0.25)
EX1_STEMS = (8, 16, 32, 64)
EX1_BUDGET = 2 * REGNETX32_FLOPS


def ex1_invalid(design):
    arch = design.arch
    if design.kind != "anynet" or len(arch) != 4:
        return "not a four-stage AnyNet"
    broken = violated(Design.from_arch(arch))
    if broken:
        return f"breaks principle(s) {sorted(broken)}"
    if not all(buildable(c, g, k) for _, c, g, k in arch):
        return "a group width does not divide its bottleneck"
    flops = anynet_flops(arch, design.stem)
    if flops > EX1_BUDGET:
        return f"{flops / 1e6:.1f} MFLOPs, over the budget {EX1_BUDGET / 1e6:.1f}"
    if not all(d in EX1_DEPTHS and c in EX1_WIDTHS for d, c, _, _ in arch):
        return "depths or widths outside the space's bounds"
    return None


def _ex1_draw(rng):
    """Uniform over the principled space: non-decreasing sequences drawn as sorted
    multisets, one shared g and k; the checks then reject what breaks or overspends."""
    ds = sorted(rng.choice(EX1_DEPTHS) for _ in range(4))
    cs = sorted(rng.choice(EX1_WIDTHS) for _ in range(4))
    g, k = rng.choice(EX1_GROUPS), rng.choice(EX1_BOT_MULS)
    return _anynet([(d, c, g, k) for d, c in zip(ds, cs)], rng.choice(EX1_STEMS))


def _widest(depths, g, k, stem, shape=(1, 2, 4, 8)):
    """The widest widths ``c * shape`` (multiples of 8) within the budget at these depths."""
    best = None
    for c in EX1_WIDTHS:
        arch = [(d, min(1024, c * s), g, k) for d, s in zip(depths, shape)]
        if not all(buildable(w, g, k) for _, w, _, _ in arch):
            continue
        if anynet_flops(arch, stem) > EX1_BUDGET:
            break
        best = arch
    return _anynet(best, stem)


EX1_REFERENCE = _anynet([(1, 32, 16, 1.0), (1, 64, 16, 1.0), (2, 80, 16, 1.0),
                         (2, 128, 16, 1.0)], 32)
EX1_EXTREMES = (
    # narrowest: width 8 everywhere, bottleneck of 2 channels, depthwise, smallest stem
    _anynet([(1, 8, 1, 0.25)] * 4, 8),
    # deepest (16 blocks a stage, the bound) at the narrowest widths
    _anynet([(16, 8, 1, 0.25)] * 4, 8),
    # deepest at the widest widths the budget allows with them
    _widest((16, 16, 16, 16), 16, 1.0, 32),
    # shallowest at the widest widths the budget allows
    _widest((1, 1, 1, 1), 16, 1.0, 32),
)

DEEP_REGNETX = Space("ex1.DeepRegNetX", _ex1_draw, ex1_invalid, EX1_REFERENCE, EX1_EXTREMES,
                     note=(
    "four stages obeying d, c, g, b (principles.py); depths 1..16, widths 8..1024 in "
    "steps of 8, group widths 1..32 (powers of 2), k in 1, 1/2, 1/4, stem 8..64; group "
    "width divides the bottleneck; at most twice RegNetX32's FLOPs at 28x28"))


# -- ex2: RegNetX32's layout with ResNet blocks; the implementation choices vary ----------

def _de(variant):
    arch = tuple(zip(BASELINE["depths"], BASELINE["widths"]))
    return Candidate(f"DeResNeXt [{variant}]", "deanynet", arch, BASELINE["stem"], variant)


def ex2_invalid(design):
    if design.kind != "deanynet" or design.variant not in DE_VARIANTS:
        return "not a DeAnyNet implementation variant"
    if design.arch != tuple(zip(BASELINE["depths"], BASELINE["widths"])) \
            or design.stem != BASELINE["stem"]:
        return "not RegNetX32's layout (the rubric fixes it)"
    return None


DE_RESNEXT = Space("ex2.DeResNeXt", lambda rng: _de(rng.choice(DE_VARIANTS)), ex2_invalid,
                   _de(DE_VARIANTS[0]), tuple(_de(v) for v in DE_VARIANTS[1:]), note=(
    "the rubric fixes the layout (RegNetX32's stem 32, depths (4, 6), widths (32, 80), "
    "ResNet blocks); what varies is how a student may implement the block: "
    + ", ".join(DE_VARIANTS)))


# -- ex3: RegNetX32 with exactly one principle broken ------------------------------------

EX3_DEPTHS = range(1, 9)
EX3_WIDTHS = range(16, 161, 16)      # multiples of the group width 16, up to twice 80
EX3_GROUPS = (1, 2, 4, 5, 8, 10, 16, 20, 32, 40, 80)
EX3_BOT_MULS = tuple(sorted({b / c for c in BASELINE["widths"] for b in range(16, 161, 16)}))


def _member(key, value):
    """RegNetX32 with the choice of principle ``key`` replaced by ``value`` (two stages)."""
    cols = {k: list(BASELINE[n]) for k, n in
            (("d", "depths"), ("c", "widths"), ("g", "groups"), ("b", "bot_muls"))}
    cols[key] = list(value)
    arch = tuple(zip(cols["d"], cols["c"], cols["g"], cols["b"]))
    return _anynet(arch, BASELINE["stem"], extra=f"[breaks {key}]")


def ex3_invalid(design):
    arch = design.arch
    if design.kind != "anynet" or len(arch) != 2 or design.stem != BASELINE["stem"]:
        return "not a two-stage AnyNet with RegNetX32's stem"
    broken = violated(Design.from_arch(arch))
    if len(broken) != 1:
        return f"breaks {sorted(broken) or 'no principle'}; a member breaks exactly one"
    (key,) = broken
    names = {"d": "depths", "c": "widths", "g": "groups", "b": "bot_muls"}
    cols = dict(zip("dcgb", zip(*arch)))
    for other, name in names.items():
        if other != key and tuple(cols[other]) != tuple(BASELINE[name]):
            return f"changes the {name} too (a member keeps RegNetX32's other choices)"
    if not all(buildable(c, g, k) for _, c, g, k in arch):
        return "a group width does not divide its bottleneck"
    return None


def _ex3_draw(rng):
    key = rng.choice("dcgb")
    pool = {"d": EX3_DEPTHS, "c": EX3_WIDTHS, "g": EX3_GROUPS, "b": EX3_BOT_MULS}[key]
    return _member(key, (rng.choice(pool), rng.choice(pool)))


EX3_REFERENCE = _member("d", (6, 4))   # the reference solution's member "d"
EX3_EXTREMES = (
    _member("d", (8, 1)),         # deepest first stage, one block last
    _member("c", (160, 16)),      # widest first stage, narrowest last
    _member("g", (1, 80)),        # depthwise, then one dense group
    _member("b", (2.0, 0.2)),     # widest bottleneck, then the narrowest (16 channels)
)

VIONET = Space("ex3.VioNet", _ex3_draw, ex3_invalid, EX3_REFERENCE, EX3_EXTREMES, note=(
    "RegNetX32 with exactly one of d, c, g, b broken and the other choices kept; depths "
    "1..8, widths 16..160 in steps of 16, group widths dividing the bottleneck, "
    "bottlenecks 16..160 channels"))


# -- ex4: AnyMLPs following the three MLP principles ------------------------------------

EX4_STAGES = (2, 3)
EX4_DEPTHS = (1, 2, 3, 4)
EX4_WIDTHS = (32, 64, 128, 256, 512)
EX4_BOT_MULS = (0.25, 0.5, 1.0)        # the stub's sample_anymlp values
EX4_STEMS = (32, 64, 128, 256, 512)


def ex4_invalid(design):
    arch = design.arch
    if design.kind != "mlp" or len(arch) < 2:
        return "not an AnyMLP of at least two stages"
    broken = [name for name in MLP_PRINCIPLES if not mlp_holds(name, arch)]
    if broken:
        return f"breaks {broken}"
    if not all(d in EX4_DEPTHS and w in EX4_WIDTHS and k in EX4_BOT_MULS
               and int(round(w * k)) >= 1 for d, w, k in arch):
        return "a stage outside the space's bounds"
    return None


def _mlp(arch, stem):
    arch = tuple(tuple(s) for s in arch)
    return Candidate(_label(arch, stem, "dck"), "mlp", arch, stem)


def _ex4_draw(rng):
    n = rng.choice(EX4_STAGES)
    pick = lambda values: rng.choice(list(itertools.combinations_with_replacement(  # noqa: E731
        values, n)))
    k = rng.choice(EX4_BOT_MULS)
    return _mlp([(d, w, k) for d, w in zip(pick(EX4_DEPTHS), pick(EX4_WIDTHS))],
                rng.choice(EX4_STEMS))


EX4_REFERENCE = _mlp([(1, 256, 1.0), (1, 512, 1.0)], 256)   # the reference solution's
EX4_EXTREMES = (
    _mlp([(1, 32, 0.25), (1, 32, 0.25)], 32),        # narrowest: 8-unit bottlenecks
    _mlp([(4, 32, 0.25)] * 3, 32),                   # deepest at the narrowest widths
    _mlp([(4, 512, 1.0)] * 3, 512),                  # deepest and widest
)

PERFECT_MLP = Space("ex4.PerfectMLP", _ex4_draw, ex4_invalid, EX4_REFERENCE, EX4_EXTREMES,
                    note=(
    "AnyMLPs following shared_bottleneck, increasing_widths and increasing_depths; 2 or "
    "3 stages, depths 1..4, widths and stem 32..512 (powers of 2), k in 1/4, 1/2, 1"))


def draws(space, n, rng):
    """The reference design, the extremes, then random draws (no repeats) up to ``n``
    designs in all (fewer only when the space has fewer)."""
    out = [space.reference, *space.extremes]
    for d in out:
        why = space.why_invalid(d)
        if why:
            raise SpaceError(f"{space.name}: {d.label} is not a valid design: {why}")
    seen = {d.label for d in out}
    for _ in range(MAX_TRIES):
        if len(out) >= n:
            break
        d = space(rng)
        if d.label not in seen:
            seen.add(d.label)
            out.append(d)
    return out


