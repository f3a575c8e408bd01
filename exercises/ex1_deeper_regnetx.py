# %% [markdown]
# # Exercise 1: a deeper RegNetX
#
# > 1. Increase the number of stages to four. Can you design a deeper RegNetX that
# >    performs better?
# >
# > — *Dive into Deep Learning*, section 8.8.6 (Exercises)
#
# **What you write.** `DeepRegNetX(lr=0.1, num_classes=10)`, an `AnyNet` with **four**
# stages `(depth d_i, width c_i, group width g_i, bottleneck multiplier k_i)` that obey the
# RegNetX principles of section 8.8.3:
#
# * one shared group width $g_i = g$ and one shared `bot_mul` $k_i = k$ (the paper's
#   bottleneck ratio is $b = 1/k$);
# * non-decreasing widths $c_1 \le c_2 \le c_3 \le c_4$;
# * non-decreasing depths $d_1 \le d_2 \le d_3 \le d_4$;
# * every stage buildable: the bottleneck `int(round(c_i * k))` is a multiple of `g`.
#
# It must work on 28x28 Fashion-MNIST images (the stem and four stages halve the size
# five times: 28 → 14 → 7 → 4 → 2 → 1) and on the book's 96x96, and stay cheap enough to
# train on a laptop CPU.
#
# **What the autograder checks.** Four stages; the four principles, each named in the
# failure message with the numbers it found; at each stage's first block a stride-2
# ResNeXt block with a 1x1 projection shortcut; logits of shape `[batch, 10]`, finite, at
# 28x28 and 96x96; a FLOP budget at 28x28 (about twice `RegNetX32`'s); and a short
# training run (seed 0) in which it must learn: its held-out loss must drop by at least
# a threshold calibrated on the valid four-stage designs, the deepest and narrowest
# included (they gain little accuracy in so short a run, so the loss is what is judged):
# the training budget (CPU or GPU tier) and each exercise's threshold, with how they were
# set, are in `autograder/CALIBRATION.md` (the grader reads the thresholds from
# `autograder/calibration.json`).
#
# **Hints** (each one gives away a little more).
#
# 1. Start from `RegNetX32` in `regnetlab/anynet.py`: it is the same class with two
#    stages. `AnyNet.__init__(arch, stem_channels, lr, num_classes)` builds one stage
#    per entry of `arch` (section 8.8.1).
# 2. In d2l, `groups` is the group *width* (channels per group), not the number of
#    groups: with `g = 16` every stage width times `k` must be a multiple of 16.
# 3. Let the paper's rule pick the widths and depths for you:
#    `regnetlab.regnet.RegNetXConfig(depth, w_0, w_a, w_m, group_width).stages()` returns
#    per-stage `(widths, depths, group_widths)`. Try small `depth` (6 to 10 blocks in
#    all) and `w_m` between 1.5 and 2, and keep the candidates with four stages whose
#    depths do not decrease; `regnetlab.summary.complexity(model)` gives the FLOPs.

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
# Generated from solutions/ex1_deeper_regnetx.py by scripts/make_stubs.py.
# Students: fill in every part that raises NotImplementedError.
from regnetlab import AnyNet


# %%
class DeepRegNetX(AnyNet):
    """A RegNetX with four stages: one group width and bottleneck ratio, growing stages."""

    def __init__(self, lr=0.1, num_classes=10):
        raise NotImplementedError(
            'Exercise 1: write DeepRegNetX.__init__: choose four stages (depth, '
            'num_channels, groups, bot_mul) with one shared group width and bottleneck '
            'ratio and non-decreasing depths and widths, then call super().__init__(arch, '
            'stem_channels, lr, num_classes) (d2l 8.8.3 "RegNet" for the principles, d2l '
            '8.8.1 for the arch format).')


# %%
if __name__ == "__main__":
    from regnetlab import complexity

    model = DeepRegNetX()
    model.layer_summary((1, 1, 96, 96))
    cost = complexity(model)
    print(f"{cost.params} parameters, {cost.flops / 1e6:.1f} MFLOPs on a 28x28 image")

# %% [markdown]
# ## Get your score
#
# 1. Run every cell above (Jupyter: *Run > Run All Cells*; Colab: *Runtime > Run all*).
# 2. Run the cell below. It grades this exercise with the course's grader, in a sandbox,
#    from the code you ran, and shows the rubric here. The structure lines take seconds;
#    `check("ex1", train=True)` adds the short training run (minutes on a CPU; on a
#    Colab GPU runtime the grader uses its GPU tier and says so).
# 3. Hand in this notebook (Colab: *File > Download > Download .ipynb*) or commit it to
#    your repository. The grader reads `ex1_deeper_regnetx.ipynb` or `ex1_deeper_regnetx.py`; with both,
#    it grades the one with fewer unfinished parts.

# %%
if __name__ == "__main__":
    import regnetlab

    regnetlab.check("ex1").show()
