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
# Generated from solutions/ex4_perfect_mlp.py by scripts/make_stubs.py.
# Students: fill in every part that raises NotImplementedError.
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
        raise NotImplementedError(
            'Exercise 4: write MLPBlock.__init__: fc1 = Linear(in_width, b), bn1, fc2 = '
            'Linear(b, width), bn2 (BatchNorm1d) with b = int(round(width * bot_mul)), '
            'and a projection shortcut (proj = Linear(in_width, width), bn3) only when '
            'in_width != width, else proj = None (d2l 8.6.5 "ResNeXt" for the block it '
            'mirrors).')

    def forward(self, X):
        raise NotImplementedError(
            'Exercise 4: write MLPBlock.forward: Y = bn2(fc2(relu(bn1(fc1(X))))), the '
            'shortcut X (through bn3(proj(X)) when proj is not None), and return relu(Y + '
            'X) (d2l 8.6.2 "Residual Blocks").')


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
        raise NotImplementedError(
            'Exercise 4: write AnyMLP.stem(width): return nn.Sequential( '
            'nn.AdaptiveAvgPool2d(self.input_size), nn.Flatten(), '
            'nn.Linear(self.in_channels * self.input_size ** 2, width), '
            'nn.BatchNorm1d(width), nn.ReLU()) and set self.width = width (d2l 8.8.1 "The '
            'AnyNet Design Space": the stem).')

    def stage(self, depth, width, bot_mul):
        """``depth`` MLP blocks; the first goes from ``self.width`` to ``width``."""
        raise NotImplementedError(
            'Exercise 4: write AnyMLP.stage(depth, width, bot_mul): an nn.Sequential of '
            '`depth` MLPBlocks, the first MLPBlock(self.width, width, bot_mul), the '
            'others MLPBlock(width, width, bot_mul); then set self.width = width (d2l '
            '8.8.1 "The AnyNet Design Space": a stage).')


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
    raise NotImplementedError(
        'Exercise 4: write sample_anymlp: reject a constraint not in MLP_PRINCIPLES with '
        'a ValueError naming it and the allowed ones, then draw `num_stages` depths, '
        'widths and bot_muls and a stem width uniformly from the sequences the '
        'constraints allow (d2l 8.8.2 "Distributions and Parameters of Design Spaces").')


# %%
class PerfectMLP(AnyMLP):
    """Our best MLP by the principles: shared bottleneck, growing widths and depths."""

    def __init__(self, lr=0.1, num_classes=10):
        raise NotImplementedError(
            'Exercise 4: write PerfectMLP.__init__: choose arch = ((depth, width, '
            'bot_mul), ...) and stem_width by the principles in MLP_PRINCIPLES and call '
            'super().__init__(arch, stem_width, lr, num_classes) (d2l 8.8.3 "RegNet").')


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
