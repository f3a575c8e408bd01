# %% [markdown]
# # Exercise 2: De-ResNeXt-ify RegNets
#
# > 2. De-ResNeXt-ify RegNets by replacing the ResNeXt block with the ResNet block. How
# >    does your new model perform?
# >
# > — *Dive into Deep Learning*, section 8.8.6 (Exercises)
#
# **What you write.**
#
# * `DeAnyNet(arch, stem_channels, lr=0.1, num_classes=10)`: the AnyNet design of
#   section 8.8.1 with the ResNet block `Residual` (section 8.6.2) in place of the
#   ResNeXt block. A ResNet block has no groups and no bottleneck, so each entry of
#   `arch` is just `(depth, num_channels)`, and you write its `stage(depth,
#   num_channels)`.
# * `DeResNeXt(lr=0.1, num_classes=10)`: `RegNetX32`'s layout (stem 32 channels, depths
#   (4, 6), widths (32, 80)) built from `Residual` blocks.
#
# **What the autograder checks.** Every block is a `Residual` (no `ResNeXtBlock` left);
# each stage's first block halves the resolution (stride 2) through a 1x1 projection
# shortcut and the other blocks keep it, with live shortcuts; `DeResNeXt`'s stem, depths
# and widths are `RegNetX32`'s, and `DeAnyNet` builds other `arch`s too; logits of shape
# `[batch, 10]`, finite, at 28x28 and 96x96; and a short training run (seed 0) whose test
# accuracy must reach at least the threshold calibrated on the ways this block may be
# implemented: the training budget (CPU or GPU tier) and each exercise's threshold, with
# how they were set, are in `autograder/CALIBRATION.md` (the grader reads the thresholds
# from `autograder/calibration.json`).
#
# **Hints** (each one gives away a little more).
#
# 1. `AnyNet.__init__` calls `self.stage(*s)` for every entry `s` of `arch`, then adds
#    the head and initialises the weights: overriding `stage` is all `DeAnyNet` needs.
# 2. Copy `AnyNet.stage` (section 8.8.1) and swap the block: `Residual(num_channels,
#    use_1x1conv=False, strides=1)` takes no `groups` and no `bot_mul`.
# 3. The first block of a stage is `Residual(num_channels, use_1x1conv=True,
#    strides=2)`, the others `Residual(num_channels)`; return them in an
#    `nn.Sequential`. `DeResNeXt` passes `((4, 32), (6, 80))` and `32` to
#    `DeAnyNet.__init__`.

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
# Generated from solutions/ex2_de_resnextify.py by scripts/make_stubs.py.
# Students: fill in every part that raises NotImplementedError.
from torch import nn

from regnetlab import AnyNet, Residual


# %%
class DeAnyNet(AnyNet):
    """AnyNet with ResNet blocks: ``arch`` holds ``(depth, num_channels)`` per stage.

    ``DeAnyNet(arch, stem_channels, lr=0.1, num_classes=10)``: ``AnyNet.__init__`` builds
    the stem, one ``stage(*s)`` per entry of ``arch``, and the head.
    """

    def stage(self, depth, num_channels):
        """``depth`` ResNet blocks; the first halves the resolution (stride 2, 1x1 shortcut)."""
        raise NotImplementedError(
            'Exercise 2: write DeAnyNet.stage(depth, num_channels): return an '
            'nn.Sequential of `depth` Residual blocks, the first one '
            'Residual(num_channels, use_1x1conv=True, strides=2) (d2l 8.8.1 "The AnyNet '
            'Design Space" for the stage, d2l 8.6.2 for the Residual block).')


# %%
class DeResNeXt(DeAnyNet):
    """RegNetX32's layout (stem 32, depths (4, 6), widths (32, 80)) with ResNet blocks."""

    def __init__(self, lr=0.1, num_classes=10):
        raise NotImplementedError(
            'Exercise 2: write DeResNeXt.__init__: call super().__init__(arch, '
            "stem_channels, lr, num_classes) with RegNetX32's stem width and its (depth, "
            'num_channels) per stage (d2l 8.8.3 "RegNet").')


# %%
if __name__ == "__main__":
    from regnetlab import RegNetX32, complexity

    for model in (RegNetX32(), DeResNeXt()):
        cost = complexity(model)
        print(f"{type(model).__name__}: {cost.params} parameters, "
              f"{cost.flops / 1e6:.1f} MFLOPs on a 28x28 image")

# %% [markdown]
# ## Get your score
#
# 1. Run every cell above (Jupyter: *Run > Run All Cells*; Colab: *Runtime > Run all*).
# 2. Run the cell below. It grades this exercise with the course's grader, in a sandbox,
#    from the code you ran, and shows the rubric here. The structure lines take seconds;
#    `check("ex2", train=True)` adds the short training run (minutes on a CPU; on a
#    Colab GPU runtime the grader uses its GPU tier and says so).
# 3. Hand in this notebook (Colab: *File > Download > Download .ipynb*) or commit it to
#    your repository. The grader reads `ex2_de_resnextify.ipynb` or `ex2_de_resnextify.py`; with both,
#    it grades the one with fewer unfinished parts.

# %%
if __name__ == "__main__":
    import regnetlab

    regnetlab.check("ex2").show()
