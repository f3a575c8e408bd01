"""Deliberately wrong submissions each lose exactly the rubric lines they should.

A round grades one submission: the reference solutions with up to one module per
exercise swapped for a wrong variant (files in tests/grader_variants/, or a small patch
of the reference below). Exercises are graded in separate workers, so each variant must
cost its own exercise exactly the lines listed here and leave the others at full marks.
All rounds but the last skip training (``--no-train``); the last trains two models.
"""
import json
from pathlib import Path

import pytest
from test_grader import SOLUTIONS, failed, grade, points, submission

VARIANTS = Path(__file__).parent / "grader_variants"
MODULES = {"ex1": "ex1_deeper_regnetx", "ex2": "ex2_de_resnextify", "ex3": "ex3_vionet",
           "ex4": "ex4_perfect_mlp"}
EX1_ALL = {"test_builds_as_anynet", "test_four_stages", "test_resnext_blocks_with_shortcuts",
           "test_downsampling", "test_shared_group_width", "test_shared_bottleneck",
           "test_widths_non_decreasing", "test_depths_non_decreasing", "test_outputs",
           "test_flop_budget", "test_every_parameter_learns"}
FAMILY = {"test_family_members", "test_member_outputs", "test_every_parameter_learns"} | {
    f"test_member_breaks_exactly_its_principle[{k}]" for k in "dcgb"}

# Patches of the reference solution: (text that must be there, its replacement). Appended
# code (old text "") redefines a piece after the reference defined it.
PATCHES = {
    "ex3__two_principles": [('"d": VioNet(', '"d": VioNet(channels=(80, 32), ')],
    "ex3__ignores_groups": [("zip(depths, channels, groups, bot_mul)",
                             "zip(depths, channels, (16,) * len(depths), bot_mul)")],
    "ex3__missing_member": [('"b": VioNet(', '"b_": VioNet(')],
    "ex4__hidden_conv": [("", '''
import torch as _torch


class _Blur(nn.Module):  # a 3x3 convolution, not as a Conv module but as an operation
    def __init__(self):
        super().__init__()
        self.register_buffer("k", _torch.ones(1, 1, 3, 3) / 9)

    def forward(self, x):
        return F.conv2d(x, self.k, padding=1)


_stem = AnyMLP.stem
AnyMLP.stem = lambda self, width: nn.Sequential(_Blur(), *_stem(self, width))
''')],
    "ex4__unconstrained_sampler": [("", '''
_sample = sample_anymlp


def sample_anymlp(rng, constraints=(), **kw):
    _sample(rng, constraints, **kw)  # still refuses unknown names...
    return _sample(rng, (), **kw)    # ...but ignores the constraints
''')],
    "ex4__no_residual": [("", '''
MLPBlock.forward = lambda self, X: F.relu(self.bn2(self.fc2(F.relu(self.bn1(self.fc1(X))))))
''')],
    "ex4__breaks_principles": [("", '''
class PerfectMLP(AnyMLP):
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__(((2, 256, 1.0), (1, 128, 0.5)), 256, lr, num_classes)
''')],
    "ex4__untrained": [("", '''
_init = PerfectMLP.__init__
PerfectMLP.__init__ = lambda self, lr=0.0, num_classes=10: _init(self, lr, num_classes)
''')],
}

# variant -> the rubric lines (test names) it must lose
EXPECTED = {
    "ex1__groups_as_count": {"test_shared_group_width"},
    "ex1__wrong_stride": {"test_downsampling"},
    "ex1__swapped_stages": {"test_widths_non_decreasing"},
    "ex1__three_stages": {"test_four_stages"},
    "ex1__no_shortcut": {"test_resnext_blocks_with_shortcuts", "test_every_parameter_learns"},
    "ex1__nan": {"test_outputs", "test_every_parameter_learns"},
    "ex1__huge_print": set(),
    "ex1__crash": EX1_ALL,
    "ex1__sys_exit": EX1_ALL,
    "ex1__huge_alloc": EX1_ALL,
    "ex1__writes_files": EX1_ALL,
    "ex1__hang": EX1_ALL,
    # requires_grad=False is the student's setting; the grader trains every tensor anyway
    "ex1__frozen": set(),
    # ex1's "learns" is the held-out loss drop, which a trained head alone achieves:
    # the gradient line is what catches a detached body (autograder/CALIBRATION.md)
    "ex1__detached": {"test_every_parameter_learns"},
    "ex2__resnext_left": {"test_residual_blocks", "test_de_anynet_builds_other_archs"},
    "ex2__no_stride": {"test_downsampling", "test_de_anynet_builds_other_archs"},
    # the forgotten shortcut's projection is computed, never used: it gets no gradient
    "ex2__missing_shortcut": {"test_shortcuts", "test_every_parameter_learns"},
    "ex2__wrong_layout": {"test_regnetx32_layout"},
    "ex3__two_principles": {"test_member_breaks_exactly_its_principle[d]"},
    "ex3__ignores_groups": {"test_honours_arguments",
                            "test_member_breaks_exactly_its_principle[g]"},
    "ex3__missing_member": FAMILY,
    "ex4__hidden_conv": {"test_no_convolutions"},
    "ex4__unconstrained_sampler": {"test_samples_obey_constraints"},
    "ex4__no_residual": {"test_residual_blocks", "test_every_parameter_learns"},
    "ex4__breaks_principles": {"test_perfect_follows_principles"},
    "ex4__untrained": {"test_learns"},
}

# (variants graded together, extra grader arguments); each round is one `regnetlab grade`
ROUNDS = {
    "structure-1": (["ex1__groups_as_count", "ex2__resnext_left", "ex3__two_principles",
                     "ex4__hidden_conv"], []),
    "structure-2": (["ex1__wrong_stride", "ex2__no_stride", "ex3__ignores_groups",
                     "ex4__unconstrained_sampler"], []),
    "structure-3": (["ex1__swapped_stages", "ex2__missing_shortcut", "ex3__missing_member",
                     "ex4__no_residual"], []),
    "structure-4": (["ex1__three_stages", "ex2__wrong_layout", "ex4__breaks_principles"],
                    []),
    "no-shortcut": (["ex1__no_shortcut"], ["--only", "ex1"]),
    "nan": (["ex1__nan"], ["--only", "ex1"]),
    "huge-print": (["ex1__huge_print"], ["--only", "ex1"]),
    "crash": (["ex1__crash"], ["--only", "ex1"]),
    "sys-exit": (["ex1__sys_exit"], ["--only", "ex1"]),
    "huge-alloc": (["ex1__huge_alloc"], ["--only", "ex1"]),
    "writes-files": (["ex1__writes_files"], ["--only", "ex1"]),
    # a hang costs ex1 its points; ex2, graded beside it, keeps all of its own
    "hang": (["ex1__hang"], ["--only", "ex1,ex2", "--timeout", "45"]),
}


def variant_source(name):
    exercise, _ = name.split("__")
    path = VARIANTS / f"{MODULES[exercise]}__{name.split('__')[1]}.py"
    if path.is_file():
        return path.read_text()
    source = (SOLUTIONS / f"{MODULES[exercise]}.py").read_text()
    for old, new in PATCHES[name]:
        if not old:
            source += "\n" + new
            continue
        assert old in source, f"{name}: the reference solution no longer contains {old!r}"
        source = source.replace(old, new)
    return source


def build(tmp_path, names):
    return submission(tmp_path, {MODULES[n.split("__")[0]]: variant_source(n) for n in names})


def check_round(result, names, exercises):
    by_exercise = {n.split("__")[0]: n for n in names}
    for ex in exercises:
        name = by_exercise.get(ex)
        want = EXPECTED[name] if name else set()
        assert failed(result, ex) == want, (
            f"{name or ex + ' (reference)'}: lost {sorted(failed(result, ex))}, expected "
            f"{sorted(want)}; messages: "
            + json.dumps([t["message"] for t in result["tests"]
                          if t["exercise"] == ex and t["status"] == "failed"], indent=1))


def test_every_variant_is_graded():
    graded = {n for names, _ in ROUNDS.values() for n in names}
    assert graded | {"ex1__frozen", "ex1__detached", "ex4__untrained"} == set(EXPECTED)


@pytest.mark.parametrize("round_name", list(ROUNDS))
def test_variants_lose_exactly_their_points(tmp_path, round_name):
    names, args = ROUNDS[round_name]
    sub = build(tmp_path, names)
    if round_name == "writes-files":
        (sub / "notes.py").write_text("# a file the variant deletes\n")
    result, output, _ = grade(sub, "--no-train", *args, cwd=tmp_path)
    only = args[args.index("--only") + 1].split(",") if "--only" in args else list(MODULES)
    check_round(result, names, only)
    assert "Traceback" not in output
    if round_name == "huge-print":
        assert result["workers"]["ex1"]["output_chars"] > 20_000_000
        assert len(output) < 100_000  # the grader did not echo it
    if round_name == "writes-files":
        # the worker sees neither the grader's command line nor the submission folder
        assert json.loads((tmp_path / "results.json").read_text())["score"] == result["score"]
        assert result["score"] == 0 and (sub / "notes.py").is_file()
    if round_name == "hang":
        # the build's own limit names the hang long before the exercise's --timeout
        assert not result["workers"]["ex1"]["timed_out"]
        assert result["workers"]["ex1"]["seconds"] < 45
        assert points(result, "ex2")[0] == points(result, "ex2")[1] > 0
        message = next(t["message"] for t in result["tests"] if t["exercise"] == "ex1")
        assert "DeepRegNetX() did not return within 10 s (the limit for its build)" in message
        assert "(ex1_deeper_regnetx.py, line 7, in __init__)" in message
    if round_name in ("crash", "sys-exit", "huge-alloc"):
        words = {"crash": "I have not decided", "sys-exit": "sys.exit",
                 "huge-alloc": "memory"}[round_name]
        assert all(words in t["message"] for t in result["tests"]
                   if t["status"] == "failed"), output[-2000:]


@pytest.mark.slow
def test_untrained_frozen_and_detached_models(tmp_path, data_root):
    """lr = 0 loses the training line; requires_grad=False loses nothing (the grader trains
    every tensor); a detached body loses the gradient line."""
    names = ["ex1__frozen", "ex4__untrained"]
    result, output, _ = grade(build(tmp_path / "a", names), "--only", "ex1,ex4",
                              cwd=tmp_path)
    check_round(result, names, ["ex1", "ex4"])
    messages = [t["message"] for t in result["tests"] if t["status"] == "failed"]
    assert all("test accuracy" in m and "expected at least" in m for m in messages)
    result, output, _ = grade(build(tmp_path / "b", ["ex1__detached"]), "--only", "ex1",
                              cwd=tmp_path)
    check_round(result, ["ex1__detached"], ["ex1"])
