"""The calibration's design spaces hold only valid answers, extremes included, and the
recorded thresholds separate what calibration.json says they separate."""
import copy
import json
import random
import sys
from pathlib import Path

import pytest

from regnetlab import AnyNet, RegNetX32, complexity
from regnetlab.grading.exercises import EXERCISES, load
from regnetlab.grading.scoring import checks
from regnetlab.principles import MLP_PRINCIPLES, Design, mlp_holds, violated

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
import designs  # noqa: E402 - benchmarks/designs.py: the spaces hold answers, so not shipped

CALIBRATION = REPO / "autograder" / "calibration.json"
SPACES = {k: getattr(designs, name) for ex in EXERCISES
          for k, name in load(ex).CALIBRATION.items()}
DRAWS = 6  # designs per key, as the calibration trains them (--n 6)


def sample(space):
    """What the calibration trains, plus a few more draws from other generators."""
    more = [space(random.Random(seed)) for seed in (1, 2)]
    return designs.draws(space, DRAWS, random.Random(0)) + more


def built_choices(net):
    """(depth, width, group width, k) per stage, read off the built modules, not the arch."""
    out = []
    for name, stage in net.net.named_children():
        if not name.startswith("stage"):
            continue
        b = stage[0]
        if hasattr(b, "fc1"):  # MLP block
            out.append((len(stage), b.fc2.out_features, None,
                        b.fc1.out_features / b.fc2.out_features))
        else:
            bot = b.conv2.out_channels
            out.append((len(stage), b.conv3.out_channels, bot / b.conv2.groups,
                        bot / b.conv3.out_channels))
    return out


def test_every_graded_network_has_a_space():
    trained = {n.train for ex in EXERCISES for n in load(ex).NETWORKS if n.train}
    assert trained == set(SPACES), "each 'learns' threshold key needs a CALIBRATION space"


@pytest.mark.parametrize("key", ["ex1.DeepRegNetX", "ex3.VioNet"])
def test_anynet_designs_build_and_obey_the_rubric(key):
    space = SPACES[key]
    baseline = RegNetX32()
    budget, baseline = 2 * complexity(baseline).flops, built_choices(baseline)
    for d in sample(space):
        assert space.why_invalid(d) is None, d.label
        net = d()
        stages = built_choices(net)
        assert [s[:2] for s in stages] == [s[:2] for s in d.arch], d.label
        assert [s[2] for s in stages] == [s[2] for s in d.arch], f"{d.label}: g is not exact"
        found = violated(Design(*zip(*stages)))
        if key == "ex1.DeepRegNetX":
            assert len(stages) == 4 and not found, (d.label, found)
            flops = designs.anynet_flops(d.arch, d.stem)
            if d in space.extremes:  # the fast count is torch's own (checked where costly)
                assert complexity(net).flops == flops, d.label
            assert flops <= budget, d.label
        else:
            assert len(found) == 1, (d.label, found)
            (broken,) = found
            for other, i in {"d": 0, "c": 1, "g": 2, "b": 3}.items():
                if other != broken:
                    assert [s[i] for s in stages] == [s[i] for s in baseline], (d.label, other)


def test_ex1_extremes_are_the_deepest_narrowest_and_widest():
    space, budget = SPACES["ex1.DeepRegNetX"], designs.EX1_BUDGET
    drawn = designs.draws(space, DRAWS, random.Random(0))
    depth = [sum(s[0] for s in d.arch) for d in drawn]
    assert max(depth) == 4 * max(designs.EX1_DEPTHS)
    narrowest = min(drawn, key=lambda d: max(s[1] for s in d.arch))
    assert max(s[1] for s in narrowest.arch) == min(designs.EX1_WIDTHS)
    assert min(int(round(c * k)) for d in drawn for _, c, _, k in d.arch) <= 2
    # the widest extremes (widths c, 2c, 4c, 8c) are at the budget: the next c that builds
    # is over it
    widest = [d for d in space.extremes if d.arch[0][1] > 8]
    assert widest
    for d in widest:
        c, g = d.arch[0][1], d.arch[0][2]
        wider = next(x for x in range(c + 8, 1025, 8) if x % g == 0)
        arch = tuple((n, wider * 2 ** i, g, k) for i, (n, _, _, k) in enumerate(d.arch))
        assert designs.anynet_flops(arch, d.stem) > budget, d.label
    assert designs.anynet_flops(drawn[0].arch, drawn[0].stem) <= budget


def test_ex2_variants_are_regnetx32_layout_of_residual_blocks():
    from regnetlab import Residual
    space = SPACES["ex2.DeResNeXt"]
    drawn = designs.draws(space, DRAWS, random.Random(0))
    assert {d.variant for d in drawn} == set(designs.DE_VARIANTS)
    for d in drawn:
        net = d()
        stages = [s for n, s in net.net.named_children() if n.startswith("stage")]
        assert [len(s) for s in stages] == [4, 6] and all(
            isinstance(b, Residual) for s in stages for b in s), d.label
        assert [s[0].conv2.out_channels for s in stages] == [32, 80]


def test_ex4_designs_follow_the_mlp_principles():
    space = SPACES["ex4.PerfectMLP"]
    drawn = sample(space)
    for d in drawn:
        assert space.why_invalid(d) is None, d.label
        stages = built_choices(d())
        arch = [(n, c, k) for n, c, _, k in stages]
        assert arch == [tuple(s) for s in d.arch], d.label
        assert all(mlp_holds(p, arch) for p in MLP_PRINCIPLES), d.label
    assert max(sum(s[0] for s in d.arch) for d in drawn) == 3 * max(designs.EX4_DEPTHS)
    assert min(min(s[1] for s in d.arch) for d in drawn) == min(designs.EX4_WIDTHS)


@pytest.mark.parametrize("key, bad", [
    ("ex1.DeepRegNetX", ((2, 32, 16, 1.0), (1, 64, 16, 1.0), (1, 80, 16, 1.0),
                         (1, 128, 16, 1.0))),                      # depths decrease
    ("ex1.DeepRegNetX", ((1, 24, 16, 1.0),) * 4),                  # 16 does not divide 24
    ("ex1.DeepRegNetX", ((16, 512, 16, 1.0),) * 4),                # far over the budget
    ("ex3.VioNet", ((6, 80, 16, 1.0), (4, 32, 16, 1.0))),           # breaks d and c
    ("ex3.VioNet", ((4, 32, 16, 1.0), (6, 80, 16, 1.0))),           # breaks nothing
])
def test_spaces_refuse_invalid_designs(key, bad):
    assert SPACES[key].why_invalid(designs.Candidate("bad", "anynet", bad, 32))


def test_group_width_must_divide_the_bottleneck():
    # AnyNet builds g = 16 on 24 channels (one group of 24): the rubric would then measure
    # a group width of 24, so the space itself must refuse it
    net = AnyNet(((1, 24, 16, 1.0),), 8)
    assert net.net.stage1[0].conv2.groups == 1 and not designs.buildable(24, 16, 1.0)


# -- calibration.json ---------------------------------------------------------------------

def threshold_problems(payload):
    """Every way the recorded thresholds fail to separate what they claim to."""
    problems = []
    for tier, t in payload["tiers"].items():
        for key, m in t["models"].items():
            (measure, threshold), = m["threshold"].items()
            if tier == "cpu":
                valid = [r[measure] for r in m["runs"]]
                failed = [c[measure] for c in m["controls"] if c["control"] in m["fails"]]
            elif measure == "test_acc":
                valid = list(m["gpu_runs"].values())
                failed = [v for c, v in m["gpu_controls"].items() if c in m["fails"]]
            else:
                valid, failed = [threshold], []  # loss_drop: derived, not measured on GPU
            if min(valid) < threshold:
                problems.append(f"{tier} {key}: a valid run {min(valid)} < {threshold}")
            if failed and max(failed) >= threshold:
                problems.append(f"{tier} {key}: a control it fails reached {max(failed)}")
            if "untrained" not in m["fails"]:
                problems.append(f"{tier} {key}: does not fail the untrained control")
    return problems


@pytest.fixture(scope="module")
def payload():
    return json.loads(CALIBRATION.read_text())


def test_calibration_covers_every_space(payload):
    for tier in ("cpu", "gpu"):
        assert set(payload["tiers"][tier]["models"]) == set(SPACES), tier
    assert payload["tiers"]["gpu"]["derived_from"] == "../shared/measurements/gpu-tier-h200.jsonl"
    for key, m in payload["tiers"]["cpu"]["models"].items():
        assert len(m["designs"]) >= 6 and len({r["seed"] for r in m["runs"]}) >= 3, key
        labels = {d["label"] for d in m["designs"]}
        assert {d.label for d in (SPACES[key].reference, *SPACES[key].extremes)} <= labels
        assert {(r["design"], r["seed"]) for r in m["runs"]} == {
            (d, s) for d in labels for s in payload["seeds"]}, f"{key}: a run is missing"


def test_thresholds_separate_valid_runs_from_controls(payload):
    assert threshold_problems(payload) == []


def test_threshold_check_can_fail(payload):
    bad = copy.deepcopy(payload)
    m = bad["tiers"]["cpu"]["models"]["ex2.DeResNeXt"]
    (measure, _), = m["threshold"].items()
    m["threshold"][measure] = max(r[measure] for r in m["runs"]) + 0.01
    assert any("a valid run" in p for p in threshold_problems(bad))
    m["threshold"][measure] = -1.0
    assert any("control" in p for p in threshold_problems(bad))


# -- the check the rubric runs --------------------------------------------------------------

RESULT = {"test_acc": 0.107, "loss_drop": 0.0, "before": {"loss": 2.4}, "after": {"loss": 2.4},
          "num_train": 4000, "tier": {"epochs": 1}, "lr": 0.0}


def test_check_accuracy_judges_the_named_measure():
    checks.check_accuracy(dict(RESULT, loss_drop=1.5), {"loss_drop": 0.5}, "net")
    with pytest.raises(AssertionError, match="drop of 0.000"):
        checks.check_accuracy(RESULT, {"loss_drop": 0.5}, "net")
    with pytest.raises(AssertionError, match="10.7% test accuracy"):
        checks.check_accuracy(RESULT, 0.5, "net")  # a bare number: test accuracy
    with pytest.raises(ValueError, match="unknown 'learns' measure"):
        checks.check_accuracy(RESULT, {"gainz": 0.1}, "net")
