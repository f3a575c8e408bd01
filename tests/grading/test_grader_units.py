"""Unit tests of the grader's pieces that need no sandbox: messages, points, limits."""
from pathlib import Path

import pytest

from regnetlab.grading import checks
from regnetlab.grading.scoring import reports
from regnetlab.grading.scoring.facts import ExerciseFacts, GradeFailure
from regnetlab.grading.scoring.rubric import Outcome, Result
from regnetlab.grading.sandbox import WorkerRun

REPO = Path(__file__).resolve().parents[2]


def block(c, b, n, stride=1, projection=None, shortcut=True):
    return {"type": "ResNeXtBlock", "kind": "resnext", "out_channels": c, "stride": stride,
            "bottleneck": b, "conv_groups": n, "group_width": b / n, "bot_mul": b / c,
            "projection": projection, "shortcut": shortcut}


def net(*stages):
    return {"class": "Net", "layout": {"ok": True, "problems": []},
            "stem": {"out_channels": 32, "stride": 2},
            "stages": [{"name": f"stage{i}", "depth": len(bs),
                        "out_channels": bs[0]["out_channels"], "blocks": bs}
                       for i, bs in enumerate(stages, 1)]}


def test_groups_as_count_is_named_in_the_books_terms():
    # stage 2 passed groups=5 (a count) where d2l expects the group width 16
    n = net([block(32, 32, 2, 2, {"stride": 2, "kernel": 1, "out_channels": 32})],
            [block(80, 80, 16, 2, {"stride": 2, "kernel": 1, "out_channels": 80})])
    with pytest.raises(GradeFailure) as e:
        checks.check_group_width(n, expected=16)
    msg = str(e.value)
    assert msg.startswith("stage 2: conv groups = 16 (group width 5)")
    assert "80 bottleneck channels / 16 = 5 conv groups" in msg
    assert "in d2l `groups` is the group width" in msg


def test_principle_checks_pass_and_fail():
    proj = {"stride": 2, "kernel": 1}
    good = net([block(32, 32, 2, 2, dict(proj, out_channels=32))],
               [block(80, 80, 5, 2, dict(proj, out_channels=80)), block(80, 80, 5)])
    for check in (checks.check_group_width, checks.check_bot_mul, checks.check_downsampling,
                  checks.check_shortcuts):
        check(good)
    assert checks.violated_principles(good) == set()
    bad = net([block(80, 80, 5, 2, dict(proj, out_channels=80))] * 2,
              [block(32, 16, 2, 1, None, shortcut=False)])
    assert checks.violated_principles(bad) == {"d", "c", "g", "b"}
    for check, words in ((checks.check_downsampling, "stage 1 block 2: stride 2; expected"),
                         (checks.check_shortcuts, "residual connection"),
                         (checks.check_bot_mul, "bottleneck ratio 0.5")):
        with pytest.raises(GradeFailure, match=words):
            check(bad)
    with pytest.raises(GradeFailure, match=r"c_\{i\+1\} >= c_i"):
        checks.check_non_decreasing(checks.widths(bad), "widths", "c")


def test_score_counts_passed_points_and_leaves_skipped_out():
    r = Result([Outcome("a", "ex1: a", "ex1", 2, "passed"),
                Outcome("b", "ex1: b", "ex1", 3, "failed", "why"),
                Outcome("c", "ex2: c", "ex2", 4, "skipped", "no training")])
    assert (r.score, r.max_score, r.not_graded) == (2, 5, 4)
    assert r.by_exercise() == {"ex1": (2, 5), "ex2": (0, 0)}
    gs = reports.gradescope(r)
    assert gs["score"] == 2 and [t["max_score"] for t in gs["tests"]] == [2, 3, 0]
    assert reports.classroom(r)["status"] == "fail"
    assert "why" in reports.table(r) and "4 points not graded" in reports.table(r)


def test_missing_and_failed_answers_fail_with_the_reason():
    run = WorkerRun("ex1", returncode=None, timed_out=True, elapsed_s=12)
    facts = ExerciseFacts(run, {"a": {"ok": False, "error": "ValueError: bad (x.py:3)"}})
    with pytest.raises(GradeFailure, match="ValueError: bad"):
        facts.get("a")
    with pytest.raises(GradeFailure, match="b: not measured: .*stopped after 12 s"):
        facts.get("b")
    refused = ExerciseFacts(WorkerRun("ex1", returncode=0, rejected=["x.bin: a link"]),
                            {"a": {"ok": True, "value": 1}})
    with pytest.raises(GradeFailure, match="files the grader refuses"):
        refused.get("a")
    survived = ExerciseFacts(WorkerRun("ex1", returncode=0, survivors=2),
                             {"a": {"ok": True, "value": 1}})
    with pytest.raises(GradeFailure, match="left 2 process"):
        survived.get("a")


def test_a_training_line_needs_a_measured_accuracy():
    facts = ExerciseFacts(WorkerRun("ex1", returncode=0),
                          {"t": {"ok": True, "value": {"skipped": "no"}}})
    with pytest.raises(GradeFailure, match="no accuracy"):
        facts.trained("t")


def test_a_refused_cap_is_skipped_and_named(monkeypatch):
    from regnetlab.grading.worker import worker
    calls = []

    def setrlimit(limit, values):  # macOS refuses RLIMIT_AS like this
        if limit == worker.resource.RLIMIT_AS:
            raise ValueError("current limit exceeds maximum limit")
        calls.append(limit)
    monkeypatch.setattr(worker.resource, "setrlimit", setrlimit)
    skipped = worker.limit_resources(6, 480, 1)
    assert len(skipped) == 1 and "address-space" in skipped[0]
    assert worker.resource.RLIMIT_FSIZE in calls and worker.resource.RLIMIT_CPU in calls
    assert worker.limit_resources(None, 480, 1) == []


def test_onednn_primitive_failure_is_explained_as_memory():
    from regnetlab.grading.worker.worker import describe_error
    text = describe_error(RuntimeError("could not create a primitive"), "/nowhere")
    assert "memory cap" in text and text.startswith("RuntimeError: could not create")


def test_windows_is_refused_in_one_sentence(monkeypatch):
    import sys

    from regnetlab.arguments import UsageError
    from regnetlab.grading.scoring.session import GradeSession
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(UsageError, match="needs Linux, macOS or WSL on Windows"):
        GradeSession("solutions", train=False)


@pytest.mark.parametrize("kwargs, words", [
    (dict(timeout_s=0.0), "--timeout 0: expected a number of seconds > 0"),
    (dict(timeout_s=float("nan")), "--timeout nan"),
    (dict(memory_gb=0.3), "--memory-gb 0.3: expected at least 4"),
    (dict(jobs=0), "--jobs 0: expected a whole number >= 1"),
])
def test_bad_limits_are_refused(kwargs, words):
    from regnetlab.grading.scoring.session import GradeSession
    with pytest.raises(ValueError, match=words):
        GradeSession("solutions", train=False, **kwargs)


def test_an_exercise_without_a_module_is_refused():
    from regnetlab.grading.scoring.session import check_plans
    with pytest.raises(ValueError, match="ex9 has no module: add regnetlab/grading/exercises"):
        check_plans(["ex1", "ex9"])


def test_exercises_are_discovered_from_their_modules():
    from regnetlab.grading.exercises import EXERCISES, load
    assert EXERCISES == {"ex1": "ex1_deeper_regnetx", "ex2": "ex2_de_resnextify",
                         "ex3": "ex3_vionet", "ex4": "ex4_perfect_mlp"}
    for ex in EXERCISES:
        module = load(ex)
        assert module.ID == ex and module.NETWORKS
        assert (REPO / "autograder" / module.RUBRIC).is_file()


def test_missing_data_stops_the_grader(tmp_path):
    from regnetlab.data import DataError
    from regnetlab.grading.scoring.session import GradeSession
    with pytest.raises(DataError, match="the grader could not run: no Fashion-MNIST data"):
        GradeSession("solutions", data=str(tmp_path))


def test_inputs_are_read_before_any_worker(tmp_path, data_root):
    """Thresholds and the data folder are fixed at the start: a worker cannot move them."""
    import shutil

    from regnetlab.grading.scoring.session import REPO, GradeSession
    tests = tmp_path / "tests"
    tests.mkdir()
    shutil.copyfile(REPO / "autograder" / "calibration.json", tests / "calibration.json")
    session = GradeSession("solutions", tier="cpu", tests_dirs=[tests], data=str(data_root))
    (tests / "calibration.json").unlink()
    assert min(session.thresholds()["ex1.DeepRegNetX"].values()) > 0.1
    assert session.options()["data"] == str(data_root.resolve())
    assert session.reference["RegNetX32.flops"] > 1e6


def test_the_submission_is_imported_under_its_own_name(tmp_path):
    import sys

    from regnetlab.grading.exercises import load
    from regnetlab.grading.worker.worker import load_student_module
    (tmp_path / "ex1_deeper_regnetx.py").write_text("from helper import X\n")
    (tmp_path / "helper.py").write_text("X = 3\n")
    sys.path.insert(0, str(tmp_path))
    try:
        module = load_student_module(load("ex1"), str(tmp_path))
        assert module.X == 3 and module.__name__ == "ex1_deeper_regnetx"
        assert sys.modules["ex1_deeper_regnetx"] is module
        with pytest.raises(FileNotFoundError, match=r"^ex2_de_resnextify.py: not found"):
            load_student_module(load("ex2"), str(tmp_path))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("ex1_deeper_regnetx", None)
        sys.modules.pop("helper", None)
