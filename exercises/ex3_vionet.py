# %% [markdown]
# # Exercise 3: the VioNet family
#
# > 3. Implement multiple instances of a "VioNet" family by *violating* the design
# >    principles of RegNetX. How do they perform? Which of ($d_i$, $c_i$, $g_i$, $b_i$)
# >    is the most important factor?
# >
# > — *Dive into Deep Learning*, section 8.8.6 (Exercises)
#
# The RegNetX principles (section 8.8.3) are: share the bottleneck ratio, share the
# group width, let the widths grow across stages, let the depths grow across stages.
# A VioNet breaks exactly one of them and keeps everything else, so that comparing it
# with the baseline `RegNetX32` isolates that one principle.
#
# **What you write.**
#
# * `VioNet(lr=0.1, num_classes=10, depths=(4, 6), channels=(32, 80), stem_channels=32,
#   groups=(16, 16), bot_mul=(1, 1))`: an `AnyNet` given one tuple per design choice,
#   with one entry per stage. Its defaults are exactly `RegNetX32`.
# * `vionet_family()`: a dict with one `VioNet` per principle, under the keys of
#   `PRINCIPLES`: `"d"` with decreasing depths, `"c"` with decreasing widths, `"g"` with
#   two different group widths, `"b"` with two different bottleneck ratios. Each member
#   changes only what its principle is about and must still build.
#
# **What the autograder checks.** `VioNet()` is `RegNetX32` (stem, depths, widths, group
# width, conv group count, bottleneck) and `VioNet(...)` builds what its arguments say;
# each family member breaks exactly its own principle and keeps every other choice of
# `RegNetX32` (the failure message names the principle and the numbers); the members'
# logits are `[batch, 10]` and finite; and each member is trained briefly (seed 0) and its
# test accuracy must reach at least the threshold calibrated on valid members of every
# kind, extremes included: the training budget (CPU or GPU tier) and each exercise's
# threshold, with how they were set, are in `autograder/CALIBRATION.md` (the grader reads
# the thresholds from `autograder/calibration.json`).
#
# **Hints** (each one gives away a little more).
#
# 1. `AnyNet` wants `arch` as a sequence of per-stage tuples `(d_i, c_i, g_i, k_i)`
#    (section 8.8.1); `VioNet` gets one tuple per *quantity* instead. `zip` turns one
#    into the other. Refuse tuples of different lengths with a clear `ValueError`.
# 2. `groups` is the group *width*: the bottleneck `int(round(c_i * k_i))` must be a
#    multiple of `g_i` (for `"b"`, 32 * 0.5 = 16 is a multiple of 16, 80 * 0.5 = 40 is
#    not). Keep one stage at the baseline value and change the other.
# 3. For example `VioNet(depths=(6, 4))` breaks only "non-decreasing depths".

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
# Generated from solutions/ex3_vionet.py by scripts/make_stubs.py.
# Students: fill in every part that raises NotImplementedError.
from regnetlab import AnyNet

# The principle each member of the family breaks (d2l 8.8.3), by key.
PRINCIPLES = {"d": "non-decreasing depths", "c": "non-decreasing widths",
              "g": "shared group width", "b": "shared bottleneck ratio"}


# %%
class VioNet(AnyNet):
    """An AnyNet given per-stage tuples; the defaults are RegNetX32."""

    def __init__(self, lr=0.1, num_classes=10, depths=(4, 6), channels=(32, 80),
                 stem_channels=32, groups=(16, 16), bot_mul=(1, 1)):
        raise NotImplementedError(
            'Exercise 3: write VioNet.__init__: check that depths, channels, groups and '
            'bot_mul have one entry per stage (else raise ValueError), zip them into arch '
            '= ((d_1, c_1, g_1, k_1), ...) and call super().__init__(arch, stem_channels, '
            'lr, num_classes) (d2l 8.8.1 "The AnyNet Design Space").')


# %%
def vionet_family():
    """One VioNet per RegNetX principle, each breaking only that one: {key: VioNet}."""
    raise NotImplementedError(
        'Exercise 3: write vionet_family(): return {"d": VioNet(...), "c": ..., "g": ..., '
        '"b": ...}, each member breaking only the principle PRINCIPLES[key] names and '
        'keeping every other choice of RegNetX32 (d2l 8.8.3 "RegNet").')


# %%
if __name__ == "__main__":
    from regnetlab import complexity

    for key, model in vionet_family().items():
        cost = complexity(model)
        print(f"{key} (breaks {PRINCIPLES[key]}): arch {model.arch}, {cost.params} "
              f"parameters, {cost.flops / 1e6:.1f} MFLOPs on a 28x28 image")

# %% [markdown]
# ## Get your score
#
# 1. Run every cell above (Jupyter: *Run > Run All Cells*; Colab: *Runtime > Run all*).
# 2. Run the cell below. It grades this exercise with the course's grader, in a sandbox,
#    from the code you ran, and shows the rubric here. The structure lines take seconds;
#    `check("ex3", train=True)` adds the short training run (minutes on a CPU; on a
#    Colab GPU runtime the grader uses its GPU tier and says so).
# 3. Hand in this notebook (Colab: *File > Download > Download .ipynb*) or commit it to
#    your repository. The grader reads `ex3_vionet.ipynb` or `ex3_vionet.py`; with both,
#    it grades the one with fewer unfinished parts.

# %%
if __name__ == "__main__":
    import regnetlab

    regnetlab.check("ex3").show()
