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
from regnetlab import AnyNet

# The principle each member of the family breaks (d2l 8.8.3), by key.
PRINCIPLES = {"d": "non-decreasing depths", "c": "non-decreasing widths",
              "g": "shared group width", "b": "shared bottleneck ratio"}


# %%
class VioNet(AnyNet):
    """An AnyNet given per-stage tuples; the defaults are RegNetX32."""

    def __init__(self, lr=0.1, num_classes=10, depths=(4, 6), channels=(32, 80),
                 stem_channels=32, groups=(16, 16), bot_mul=(1, 1)):
        # STUB: Exercise 3: write VioNet.__init__: check that depths, channels, groups and
        # STUB: bot_mul have one entry per stage (else raise ValueError), zip them into
        # STUB: arch = ((d_1, c_1, g_1, k_1), ...) and call
        # STUB: super().__init__(arch, stem_channels, lr, num_classes) (d2l 8.8.1 "The
        # STUB: AnyNet Design Space").
        # BEGIN SOLUTION
        per_stage = {"depths": depths, "channels": channels, "groups": groups,
                     "bot_mul": bot_mul}
        if len({len(v) for v in per_stage.values()}) != 1:
            raise ValueError("VioNet: expected one entry per stage in each of " + ", ".join(
                f"{k}={tuple(v)} ({len(v)})" for k, v in per_stage.items()))
        super().__init__(tuple(zip(depths, channels, groups, bot_mul)),
                         stem_channels, lr, num_classes)
        # END SOLUTION


# %%
def vionet_family():
    """One VioNet per RegNetX principle, each breaking only that one: {key: VioNet}."""
    # STUB: Exercise 3: write vionet_family(): return {"d": VioNet(...), "c": ...,
    # STUB: "g": ..., "b": ...}, each member breaking only the principle PRINCIPLES[key]
    # STUB: names and keeping every other choice of RegNetX32 (d2l 8.8.3 "RegNet").
    # BEGIN SOLUTION
    return {
        "d": VioNet(depths=(6, 4)),         # deeper first stage
        "c": VioNet(channels=(80, 32)),     # wider first stage
        "g": VioNet(groups=(16, 8)),        # 80 / 8 = 10 groups of 8 in stage 2
        "b": VioNet(bot_mul=(0.5, 1)),      # stage 1 squeezes to 16 channels: 1 group of 16
    }
    # END SOLUTION


# %% [markdown] tags=["solution"]
# ## How do they perform?
#
# The explorer's recorded run (`results/summary/vionet.md`; each network trained 2
# epochs on the first 4,000 training images, batch 128, peak lr 0.1, error on the
# first 2,000 test images, seeds 0 to 3, on a shared 2-core CPU), recorded from the
# repository root with
#
# ```bash
# export REGNETLAB_DATA=/path/to/fashion-mnist OMP_NUM_THREADS=1
# regnetlab explore vionet --seeds 4 --n 4 --epochs 2 --train-images 4000 \
#     --test-images 2000 --batch-size 128 --lr 0.1 --seed 0 --source solutions --workers 2
# regnetlab explore report    # re-makes results/summary/ from results/*.jsonl
# ```
#
# (see `results/README.md`), gave, with cost = the member's error minus `RegNetX32`'s
# on the same seed:
#
# | member | breaks | parameters | test error % (mean ± sd, 4 seeds) | cost (pp, mean ± 95%) |
# | --- | --- | ---: | ---: | ---: |
# | `VioNet()` (= `RegNetX32`) | nothing | 179,290 | 20.9 ± 0.3 | 0 |
# | `"b"` bot_mul (0.5, 1) | shared bottleneck ratio | 165,594 | 23.0 ± 2.3 | +2.1 ± 3.7 |
# | `"c"` widths (80, 32) | non-decreasing widths | 145,690 | 22.0 ± 2.5 | +1.1 ± 3.6 |
# | `"g"` groups (16, 8) | shared group width | 144,730 | 21.8 ± 2.0 | +1.0 ± 2.6 |
# | `"d"` depths (6, 4) | non-decreasing depths | 143,098 | 21.2 ± 1.3 | +0.4 ± 2.5 |
#
# Which factor matters most? Ranked by mean cost, the shared bottleneck ratio ($b_i$)
# comes first and the depth ordering ($d_i$) last, and every member is on average a
# little worse than the baseline; but every interval includes zero, so at this budget
# these runs **cannot rank the four factors**. The same recorded study also trained 4
# sampled networks per broken principle (and 4 that break none), as the paper does
# with whole distributions of networks (section 8.8.2): no group differed from the
# principled one beyond the noise either (the second table of
# `results/summary/vionet.md`). A real answer needs more seeds and longer training
# than a CPU affords, e.g. the same command with a larger `--seeds`, `--n` and
# `--epochs`.
#
# `python solutions/ex3_vionet.py` prints each member's parameters and FLOPs: member
# `"c"` spends the most FLOPs, because its wide stage works at the higher resolution.

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
