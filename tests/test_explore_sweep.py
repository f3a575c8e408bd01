"""The sweep's results file: resume after an interruption, refuse bad files, run in parallel."""
import json
import time

import pytest

from regnetlab.cli import main
from regnetlab.explore.results import ResultsFileError, ResultsWriter, make_header, read_results
from regnetlab.explore.studies import Trial
from regnetlab.explore.sweep import run_sweep

SETTINGS = {"epochs": 1, "train_images": 10, "test_images": 10, "batch_size": 4, "lr": 0.1,
            "recipe": "regnetlab", "seed": 0}


def fake_trials(n=6):
    return [Trial(f"X/{i:03d}", "X", "anynet", {"i": i}, i) for i in range(n)]


def fake_init(settings):
    pass


def fake_runner(trial):
    time.sleep(0.05)
    return {"key": trial.key, "group": trial.group, "seed": trial.seed,
            "test_error": 0.1 * trial.config["i"], "params": 1, "flops": 1,
            "wall_time_s": 0.0, "diverged": False, "device": "cpu"}


class Interrupt:
    """A runner that is 'killed' (Ctrl-C) while training its ``at``-th network."""

    def __init__(self, at):
        self.at, self.calls = at, []

    def __call__(self, trial):
        self.calls.append(trial.key)
        if len(self.calls) == self.at:
            raise KeyboardInterrupt
        return fake_runner(trial)


def sweep(path, runner, n=6, workers=1, settings=SETTINGS):
    return run_sweep(path, "anynetx", settings, fake_trials(n), workers, runner=runner,
                     init=fake_init, log=lambda *_: None)


def test_resume_after_interrupt_trains_only_the_rest(tmp_path):
    path = tmp_path / "r.jsonl"
    first = Interrupt(at=4)
    with pytest.raises(KeyboardInterrupt):
        sweep(path, first)
    header, recs = read_results(path)
    assert header["study"] == "anynetx" and header["settings"] == SETTINGS
    assert [r["key"] for r in recs] == ["X/000", "X/001", "X/002"]  # lost only the 4th
    second = Interrupt(at=0)
    records, _ = sweep(path, second)
    assert second.calls == ["X/003", "X/004", "X/005"]
    assert sorted(r["key"] for r in records) == [f"X/{i:03d}" for i in range(6)]
    assert len(read_results(path)[1]) == 6
    third = Interrupt(at=0)
    sweep(path, third)
    assert third.calls == []  # everything done: nothing retrained


def test_torn_last_line_is_dropped_and_retrained(tmp_path):
    path = tmp_path / "r.jsonl"
    sweep(path, fake_runner, n=3)
    with open(path, "a") as f:
        f.write('{"key": "X/003", "group": "X", "test_er')  # killed mid-write
    assert len(read_results(path)[1]) == 3
    runner = Interrupt(at=0)
    sweep(path, runner, n=5)
    assert runner.calls == ["X/003", "X/004"]
    assert [r["key"] for r in read_results(path)[1]] == [f"X/{i:03d}" for i in range(5)]


@pytest.mark.parametrize("content, message", [
    ("epoch,loss\n1,0.5\n", "not JSON"),
    ('{"hello": 1}\n', "not a regnetlab explore header"),
    ("", "is empty"),
    (json.dumps({**make_header("anynetx", SETTINGS), "version": 99}) + "\n", "version 99"),
    (json.dumps(make_header("anynetx", SETTINGS)) + '\n{"key": "X/000"}\nnot json\n'
     '{"key": "X/001"}\n', "line 3 is not valid JSON"),
    (json.dumps(make_header("anynetx", SETTINGS)) + '\n{"key": "X/000"}\n{"key": "X/000"}\n',
     "line 3 repeats network 'X/000'"),
    (json.dumps(make_header("anynetx", SETTINGS)) + '\n[1, 2]\n', "not a result record"),
    (json.dumps(make_header("regnetx", SETTINGS)) + "\n", "holds the 'regnetx' study"),
    (json.dumps(make_header("anynetx", {**SETTINGS, "epochs": 3})) + "\n",
     "epochs: file 3 vs now 1"),
])
def test_bad_results_file_is_refused_and_left_untouched(tmp_path, content, message):
    path = tmp_path / "r.jsonl"
    path.write_text(content)
    runner = Interrupt(at=0)
    with pytest.raises(ResultsFileError, match=message):
        sweep(path, runner)
    assert path.read_text() == content
    assert runner.calls == []


def test_cli_reports_a_foreign_file_in_one_line(tmp_path, capsys):
    path = tmp_path / "mine.jsonl"
    path.write_text("my notes\n")
    assert main(["explore", "regnetx", "--n", "1", "--out", str(path)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "mine.jsonl" in err and "Traceback" not in err
    assert path.read_text() == "my notes\n"


def test_two_writers_on_one_file_are_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsWriter(path, "anynetx", SETTINGS):
        with pytest.raises(ResultsFileError, match="another regnetlab explore run"):
            ResultsWriter(path, "anynetx", SETTINGS)


def test_parallel_workers_record_every_network_once(tmp_path):
    path = tmp_path / "r.jsonl"
    records, _ = sweep(path, fake_runner, n=8, workers=2)
    keys = [r["key"] for r in read_results(path)[1]]
    assert sorted(keys) == [f"X/{i:03d}" for i in range(8)] and len(records) == 8


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], "--workers 0"),
    (["--epochs", "0"], "--epochs 0"),
    (["--lr", "-1"], "--lr -1"),
])
def test_cli_refuses_bad_sizes(tmp_path, capsys, argv, message):
    assert main(["explore", "regnetx", "--out", str(tmp_path / "r.jsonl"), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.jsonl").exists()


@pytest.mark.slow
def test_tiny_real_sweep_then_resume(tmp_path, data_root, capsys):
    path = tmp_path / "tiny.jsonl"
    argv = ["explore", "anynetx", "--spaces", "A,E", "--n", "2", "--epochs", "1",
            "--train-images", "300", "--test-images", "200", "--batch-size", "64",
            "--workers", "1", "--out", str(path), "--data", str(data_root)]
    assert main(argv) == 0
    header, recs = read_results(path)
    assert header["settings"]["train_images"] == 300 and len(recs) == 4
    for r in recs:
        assert 0.0 <= r["test_error"] <= 1.0 and r["params"] > 0 and r["flops"] > 0
        assert r["num_train"] == 300 and r["num_test"] == 200 and r["device"] == "cpu"
    assert {r["group"] for r in recs} == {"A", "E"}
    capsys.readouterr()
    assert main(argv) == 0
    assert "4 already in" in capsys.readouterr().out
    assert len(read_results(path)[1]) == 4
