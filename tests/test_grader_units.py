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
