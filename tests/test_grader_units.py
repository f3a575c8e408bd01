"""Unit tests of the grader's pieces that need no worker: messages, points, limits."""
import pytest

from regnetlab.grading import checks, reports
from regnetlab.grading.answers import ExerciseFacts, GradeFailure
from regnetlab.grading.rubric import Outcome, Result
from regnetlab.grading.sandbox import WorkerRun, _Tail


def block(c, b, n, stride=1, projection=None, shortcut=True):
    return {"type": "ResNeXtBlock", "kind": "resnext", "out_channels": c, "stride": stride,
            "bottleneck": b, "conv_groups": n, "group_width": b / n, "bot_mul": b / c,
            "projection": projection, "shortcut": shortcut}


def net(*stages):
    return {"class": "Net", "mro": ["Net", "AnyNet"],
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


def test_output_is_truncated_in_the_middle():
    tail = _Tail(100)
    for _ in range(1000):
        tail.feed("0123456789")
    text = tail.text()
    assert tail.total == 10_000 and len(text) < 200 and "left out" in text


def test_missing_and_failed_answers_fail_with_the_reason():
    run = WorkerRun("ex1", answers={"a": {"ok": False, "error": "ValueError: bad (x.py:3)"}},
                    returncode=0, timed_out=True, elapsed_s=12, last_probe="b")
    facts = ExerciseFacts(run)
    with pytest.raises(GradeFailure, match="ValueError: bad"):
        facts.get("a")
    with pytest.raises(GradeFailure, match="stopped after 12 s .* while running 'b'"):
        facts.get("b")
    tampered = ExerciseFacts(WorkerRun("ex1", answers={"a": {"ok": True, "value": 1}},
                                       rejected=["garbage"]))
    with pytest.raises(GradeFailure, match="malformed"):
        tampered.get("a")


def test_a_worker_cannot_skip_a_training_line():
    run = WorkerRun("ex1", answers={"t": {"ok": True, "value": {"skipped": "no"}},
                                    "done": {"ok": True}})
    with pytest.raises(GradeFailure, match="no accuracy"):
        ExerciseFacts(run).trained("t")


# -- the sandbox, the worker and the session's checks --------------------------------------

def test_interrupt_kills_live_workers_and_later_ones():
    import subprocess
    import sys
    import time

    from regnetlab.grading.sandbox import LiveWorkers

    def sleeper():
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                start_new_session=True)
    live = LiveWorkers()
    first = sleeper()
    live.add(first)
    t0 = time.perf_counter()
    live.kill_all()
    assert first.wait(timeout=10) == -9
    late = sleeper()  # started after Ctrl-C: killed as soon as it is registered
    live.add(late)
    assert late.wait(timeout=10) == -9
    assert time.perf_counter() - t0 < 10


def test_a_real_time_signal_is_named_by_number():
    run = WorkerRun("ex1", returncode=-40, last_probe="import")
    assert "killed by signal 40 while running 'import'" in run.ending()


def test_a_refused_cap_is_skipped_and_named(monkeypatch):
    from regnetlab.grading import worker
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
    from regnetlab.grading.worker import describe_error
    text = describe_error(RuntimeError("could not create a primitive"), "/nowhere")
    assert "memory cap" in text and text.startswith("RuntimeError: could not create")


def test_windows_is_refused_in_one_sentence(monkeypatch):
    import sys

    from regnetlab.cli import UsageError
    from regnetlab.grading.session import GradeSession
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
    from regnetlab.grading.session import GradeSession
    with pytest.raises(ValueError, match=words):
        GradeSession("solutions", train=False, **kwargs)


def test_an_exercise_without_a_probe_plan_is_refused(monkeypatch):
    from regnetlab.grading import probes
    from regnetlab.grading.session import check_plans
    monkeypatch.delitem(probes.PLANS, "ex4")
    with pytest.raises(ValueError, match="ex4 has no probe plan: add plan_exN"):
        check_plans(["ex1", "ex4"])


def test_missing_data_stops_the_grader(tmp_path):
    from regnetlab.data import DataError
    from regnetlab.grading.session import GradeSession
    with pytest.raises(DataError, match="the grader could not run: no Fashion-MNIST data"):
        GradeSession("solutions", data=str(tmp_path))


def test_inputs_are_read_before_any_worker(tmp_path, data_root):
    """Thresholds and the data folder are fixed at the start: a worker cannot move them."""
    import shutil

    from regnetlab.grading.session import REPO, GradeSession
    tests = tmp_path / "tests"
    tests.mkdir()
    shutil.copyfile(REPO / "autograder" / "calibration.json", tests / "calibration.json")
    session = GradeSession("solutions", tier="cpu", tests_dirs=[tests], data=str(data_root))
    (tests / "calibration.json").unlink()
    assert session.thresholds()["ex1.DeepRegNetX"] > 0.1
    assert session.options()["data"] == str(data_root.resolve())
    assert session.reference["RegNetX32.flops"] > 1e6


def test_the_submission_is_imported_under_its_own_name(tmp_path):
    import sys

    from regnetlab.grading.probes import Context
    (tmp_path / "ex1_deeper_regnetx.py").write_text("from helper import X\n")
    (tmp_path / "helper.py").write_text("X = 3\n")
    try:
        module = Context("ex1", str(tmp_path), {}).module
        assert module.X == 3 and module.__name__ == "ex1_deeper_regnetx"
        assert sys.modules["ex1_deeper_regnetx"] is module
    finally:
        sys.modules.pop("ex1_deeper_regnetx", None)
        sys.modules.pop("helper", None)
    with pytest.raises(FileNotFoundError, match=r"^ex2_de_resnextify.py: not found"):
        Context("ex2", str(tmp_path), {}).module


def test_structure_facts_of_regnetx32():
    import torch
    from torch import nn

    from regnetlab.anynet import RegNetX32
    from regnetlab.grading.facts import describe_anynet

    torch.manual_seed(0)
    net = describe_anynet(RegNetX32())
    assert checks.depths(net) == (4, 6) and checks.widths(net) == (32, 80)
    assert checks.group_widths(net) == (16, 16) and net["stem"]["stride"] == 2

    class Odd(nn.Module):
        net = None
    assert "Odd.net is NoneType, expected an nn.Sequential" in describe_anynet(Odd())["error"]
