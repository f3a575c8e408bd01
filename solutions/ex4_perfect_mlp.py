# %% [markdown]
# # Exercise 4: the "perfect" MLP
#
# > 4. Your goal is to design the "perfect" MLP. Can you use the design principles
# >    introduced above to find good architectures? Is it possible to extrapolate from
# >    small to large networks?
# >
# > — *Dive into Deep Learning*, section 8.8.6 (Exercises)
#
# We carry the chapter's recipe over to multilayer perceptrons: a design space shaped
# like AnyNet (section 8.8.1), a way to sample it under constraints (section 8.8.2), and
# a network chosen with the principles that survive (section 8.8.3). No convolutions
# anywhere: every layer is `nn.Linear`, a normalisation or a ReLU.
#
# **What you write.**
#
# * `MLPBlock(in_width, width, bot_mul)`: the MLP analogue of the ResNeXt block,
#   `Linear(in_width -> b) -> BatchNorm -> ReLU -> Linear(b -> width) -> BatchNorm`
#   with `b = int(round(width * bot_mul))`, plus a shortcut (a `Linear` projection with
#   batch norm when `in_width != width`), then ReLU.
# * `AnyMLP(arch, stem_width, lr=0.1, num_classes=10)`, where each entry of `arch` is a
#   stage `(depth, width, bot_mul)`: you write its `stem(width)` (flatten the image,
#   `Linear`, BatchNorm, ReLU) and `stage(depth, width, bot_mul)`.
# * `sample_anymlp(rng, constraints=(), ...)`: one network drawn uniformly from the
#   design space, restricted by the named `MLP_PRINCIPLES`.
# * `PerfectMLP(lr=0.1, num_classes=10)`: your best design.
#
# **What the autograder checks.** No convolution, not as a module and not as an operation
# in the forward pass; the stages, depths and widths `AnyMLP` builds from an `arch`;
# logits of shape `[batch, 10]`, finite; samples of `sample_anymlp` obey every constraint
# asked for and build; `PerfectMLP` follows the three `MLP_PRINCIPLES`; and `PerfectMLP`
# is trained briefly (seed 0) and its test accuracy must reach at least the threshold
# calibrated on MLPs that follow the principles, from the narrowest to the deepest: the
# training budget (CPU or GPU tier) and each exercise's threshold, with how they were
# set, are in `autograder/CALIBRATION.md` (the grader reads the thresholds from
# `autograder/calibration.json`).
#
# **Hints** (each one gives away a little more).
#
# 1. Read `AnyNet` in `regnetlab/anynet.py` side by side with `AnyMLP` below: the
#    structure is the same, with `nn.Linear` for the convolutions and `BatchNorm1d` for
#    `BatchNorm2d`. Images arrive as `[batch, 1, 28, 28]`: `nn.Flatten()` makes them
#    `[batch, 784]`.
# 2. A stage only knows its output width; `AnyMLP` keeps the width of the features a
#    stage receives in `self.width` (the stem sets it; each stage reads it, then sets
#    it to its own width). Only a stage's first block can change the width.
# 3. For `sample_anymlp`, the three constraints concern different quantities, so you can
#    draw depths, widths and bottleneck ratios independently; a uniform draw of a
#    non-decreasing sequence is one uniform choice among
#    `itertools.combinations_with_replacement(sorted(values), num_stages)`.

# %% tags=["setup"]
# Setup: run this cell first. Where regnetlab is missing (Colab), it installs it from the
# course repository and fetches Fashion-MNIST (30 MB) into ~/.cache; in a clone whose
# .venv has it, it only checks the data. (It does nothing when the grader imports this.)
if __name__ == "__main__":
    import importlib, importlib.util, os, subprocess, sys

    if importlib.util.find_spec("regnetlab") is None:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", os.environ.get(
            "REGNETLAB_INSTALL", 'regnetlab @ git+https://github.com/OWNER/regnetlab.git@v0.1.0')])
        importlib.invalidate_caches()
    from regnetlab.data import load_split, resolve_root

    load_split(train=True)
    print("regnetlab is ready; Fashion-MNIST in", resolve_root()[0])

# %%
import itertools

from torch import nn
from torch.nn import functional as F

from regnetlab import Classifier, init_cnn

# The chapter's principles, carried over to MLPs ("increasing" means non-decreasing).
MLP_PRINCIPLES = ("shared_bottleneck", "increasing_widths", "increasing_depths")


# %%
class MLPBlock(nn.Module):
    """Residual MLP block: two linear layers around a bottleneck of ``width * bot_mul``."""

    def __init__(self, in_width, width, bot_mul):
        super().__init__()
        # STUB: Exercise 4: write MLPBlock.__init__: fc1 = Linear(in_width, b), bn1,
        # STUB: fc2 = Linear(b, width), bn2 (BatchNorm1d) with b = int(round(width *
        # STUB: bot_mul)), and a projection shortcut (proj = Linear(in_width, width),
        # STUB: bn3) only when in_width != width, else proj = None (d2l 8.6.5 "ResNeXt"
        # STUB: for the block it mirrors).
        # BEGIN SOLUTION
        bot = int(round(width * bot_mul))
        if bot < 1:
            raise ValueError(f"MLPBlock: width={width} * bot_mul={bot_mul} gives {bot} "
                             "bottleneck units; expected at least 1")
        self.fc1, self.bn1 = nn.Linear(in_width, bot), nn.BatchNorm1d(bot)
        self.fc2, self.bn2 = nn.Linear(bot, width), nn.BatchNorm1d(width)
        if in_width != width:
            self.proj, self.bn3 = nn.Linear(in_width, width), nn.BatchNorm1d(width)
        else:
            self.proj = None
        # END SOLUTION

    def forward(self, X):
        # STUB: Exercise 4: write MLPBlock.forward: Y = bn2(fc2(relu(bn1(fc1(X))))), the
        # STUB: shortcut X (through bn3(proj(X)) when proj is not None), and return
        # STUB: relu(Y + X) (d2l 8.6.2 "Residual Blocks").
        # BEGIN SOLUTION
        Y = self.bn2(self.fc2(F.relu(self.bn1(self.fc1(X)))))
        if self.proj is not None:
            X = self.bn3(self.proj(X))
        return F.relu(Y + X)
        # END SOLUTION


# %%
class AnyMLP(Classifier):
    """One network of the AnyMLP design space: stem, stages of MLP blocks, head.

    Each entry of ``arch`` is a stage ``(depth, width, bot_mul)``. Images are first
    average-pooled to ``input_size x input_size`` (an MLP has one weight per pixel, so
    it needs a fixed input size): 28x28 images pass unchanged, the book's 96x96 ones
    are pooled down to 28x28 and so see the same network.
    """

    in_channels = 1
    input_size = 28

    def __init__(self, arch, stem_width, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(self.stem(stem_width))
        for i, s in enumerate(arch):
            self.net.add_module(f"stage{i + 1}", self.stage(*s))
        self.net.add_module("head", nn.Linear(self.width, num_classes))
        self.net.apply(init_cnn)  # no lazy layers, so the initialisation really runs

    def stem(self, width):
        """Pool to a fixed size, flatten, then Linear, BatchNorm1d, ReLU to ``width``."""
        # STUB: Exercise 4: write AnyMLP.stem(width): return nn.Sequential(
        # STUB: nn.AdaptiveAvgPool2d(self.input_size), nn.Flatten(),
        # STUB: nn.Linear(self.in_channels * self.input_size ** 2, width),
        # STUB: nn.BatchNorm1d(width), nn.ReLU()) and set self.width = width (d2l 8.8.1
        # STUB: "The AnyNet Design Space": the stem).
        # BEGIN SOLUTION
        self.width = width
        return nn.Sequential(
            nn.AdaptiveAvgPool2d(self.input_size), nn.Flatten(),
            nn.Linear(self.in_channels * self.input_size ** 2, width),
            nn.BatchNorm1d(width), nn.ReLU())
        # END SOLUTION

    def stage(self, depth, width, bot_mul):
        """``depth`` MLP blocks; the first goes from ``self.width`` to ``width``."""
        # STUB: Exercise 4: write AnyMLP.stage(depth, width, bot_mul): an nn.Sequential
        # STUB: of `depth` MLPBlocks, the first MLPBlock(self.width, width, bot_mul), the
        # STUB: others MLPBlock(width, width, bot_mul); then set self.width = width
        # STUB: (d2l 8.8.1 "The AnyNet Design Space": a stage).
        # BEGIN SOLUTION
        blk = [MLPBlock(self.width if i == 0 else width, width, bot_mul)
               for i in range(depth)]
        self.width = width
        return nn.Sequential(*blk)
        # END SOLUTION


# %%
def sample_anymlp(rng, constraints=(), num_stages=2, widths=(32, 64, 128, 256),
                  depths=(1, 2, 3, 4), bot_muls=(0.25, 0.5, 1.0), stem_widths=(32, 64, 128)):
    """One AnyMLP drawn uniformly from the space restricted by ``constraints``.

    ``rng`` is a ``random.Random`` (a ``numpy.random.Generator`` works too);
    ``constraints`` is a subset of ``MLP_PRINCIPLES``. Returns ``{"arch": ((depth,
    width, bot_mul), ...), "stem_width": s}``. Depths, widths, bottleneck ratios and
    the stem width are drawn in that order, each uniformly among the sequences the
    constraints allow, which is a uniform draw from the restricted space because each
    constraint concerns one quantity only.
    """
    # STUB: Exercise 4: write sample_anymlp: reject a constraint not in MLP_PRINCIPLES
    # STUB: with a ValueError naming it and the allowed ones, then draw `num_stages`
    # STUB: depths, widths and bot_muls and a stem width uniformly from the sequences
    # STUB: the constraints allow (d2l 8.8.2 "Distributions and Parameters of Design
    # STUB: Spaces").
    # BEGIN SOLUTION
    constraints = (constraints,) if isinstance(constraints, str) else tuple(constraints)
    unknown = [c for c in constraints if c not in MLP_PRINCIPLES]
    if unknown:
        raise ValueError(f"sample_anymlp: unknown constraint(s) {unknown}; expected a "
                         f"subset of {list(MLP_PRINCIPLES)}")
    if int(num_stages) != num_stages or num_stages < 1:
        raise ValueError(f"sample_anymlp: num_stages={num_stages!r}; expected an integer >= 1")

    def pick(options):  # works with random.Random and numpy.random.Generator alike
        options = list(options)
        return options[int(rng.choice(range(len(options))))]

    def draw(values, name, n, nondecreasing=False):
        values = sorted(set(values))
        if not values:
            raise ValueError(f"sample_anymlp: {name} is empty; expected at least one value")
        if nondecreasing:
            return pick(itertools.combinations_with_replacement(values, n))
        return tuple(pick(values) for _ in range(n))

    ds = draw(depths, "depths", num_stages, "increasing_depths" in constraints)
    ws = draw(widths, "widths", num_stages, "increasing_widths" in constraints)
    if "shared_bottleneck" in constraints:
        ks = draw(bot_muls, "bot_muls", 1) * num_stages
    else:
        ks = draw(bot_muls, "bot_muls", num_stages)
    (stem,) = draw(stem_widths, "stem_widths", 1)
    return {"arch": tuple(zip(ds, ws, ks)), "stem_width": stem}
    # END SOLUTION


# %%
class PerfectMLP(AnyMLP):
    """Our best MLP by the principles: shared bottleneck, growing widths and depths."""

    def __init__(self, lr=0.1, num_classes=10):
        # STUB: Exercise 4: write PerfectMLP.__init__: choose arch = ((depth, width,
        # STUB: bot_mul), ...) and stem_width by the principles in MLP_PRINCIPLES and
        # STUB: call super().__init__(arch, stem_width, lr, num_classes) (d2l 8.8.3
        # STUB: "RegNet").
        # BEGIN SOLUTION
        super().__init__(((1, 256, 1.0), (1, 512, 1.0)), 256, lr, num_classes)
        # END SOLUTION


# %% [markdown] tags=["solution"]
# ## How this design was chosen
#
# By the three principles, carried over from RegNetX: one shared bottleneck ratio,
# and 1 at that (the chapter found no bottleneck best for RegNetX: $k = 1$), widths
# that double from stage to stage (stem 256, stages 256 and 512), and depths that do
# not decrease (one block per stage: we expect a short run to leave too little time
# to train deep networks).
#
# ## What we measured
#
# The explorer's recorded run (`results/summary/mlp.md`; each network trained 2
# epochs on the first 4,000 training images, batch 128, peak lr 0.1, error on the
# first 2,000 test images, on a shared 2-core CPU), recorded from the repository root
# with
#
# ```bash
# export REGNETLAB_DATA=/path/to/fashion-mnist OMP_NUM_THREADS=1
# regnetlab explore mlp --n 6 --seeds 3 --scale 4 --epochs 2 --train-images 4000 \
#     --test-images 2000 --batch-size 128 --lr 0.1 --seed 0 --source solutions --workers 2
# regnetlab explore report    # re-makes results/summary/ from results/*.jsonl
# ```
#
# (see `results/README.md`), sampled 6 small networks from each of five design
# spaces (no constraint, each principle alone, all three) and trained each again with
# every width times 4. What it found:
#
# * `PerfectMLP`: test error 18.0% ± 0.5 (mean ± sd over 3 seeds; 868,106
#   parameters). None of the 30 sampled small MLPs had a lower error, and 1 of the 30
#   large ones did. It is also larger than the small ones (their median is 123k to
#   356k parameters per space), so this shows a good network, not that the
#   principles made it good.
# * The principles did not help the sampled small networks: no constrained space beat
#   the unconstrained one, and the space with all three constraints was worse (its EDF
#   lies below, p = 0.016, with 6 networks per space).
# * Extrapolation from small to large: each network's error small and scaled up had
#   Spearman rho = 0.68 (30 networks, permutation p = 0.0001), so a network's rank
#   mostly carries over; the ranking of the five spaces had rho = 0.82, which with
#   five spaces is not significant (p = 0.136).
#
# So, partly: at this budget, rankings of single networks extrapolate from small to
# large better than chance, but the principles as constraints did not find better
# MLPs; whether they do with longer training needs longer runs than a CPU grader can
# afford.

# %%
if __name__ == "__main__":
    import random

    from regnetlab import complexity

    print(sample_anymlp(random.Random(0), constraints=MLP_PRINCIPLES))
    cost = complexity(PerfectMLP())
    print(f"PerfectMLP: {cost.params} parameters, {cost.flops / 1e6:.2f} MFLOPs")

# %% [markdown]
# ## Get your score
#
# 1. Run every cell above (Jupyter: *Run > Run All Cells*; Colab: *Runtime > Run all*).
# 2. Run the cell below. It grades this exercise with the course's grader, in a sandbox,
#    from the code you ran, and shows the rubric here. The structure lines take seconds;
#    `check("ex4", train=True)` adds the short training run (minutes on a CPU; on a
#    Colab GPU runtime the grader uses its GPU tier and says so).
# 3. Hand in this notebook (Colab: *File > Download > Download .ipynb*) or commit it to
#    your repository. The grader reads `ex4_perfect_mlp.ipynb` or `ex4_perfect_mlp.py`; with both,
#    it grades the one with fewer unfinished parts.

# %%
if __name__ == "__main__":
    import regnetlab

    regnetlab.check("ex4").show()
