"""The sweep's results file: resume after an interruption, refuse bad files, run in parallel."""
import json
import time

import pytest

from regnetlab.cli import main
from regnetlab.engines import LocalEngine
from regnetlab.explore.results import ResultsFileError, ResultsWriter, make_header, read_results
from regnetlab.explore.study import Trial
from regnetlab.explore.sweep import run_sweep

SETTINGS = {"epochs": 1, "train_images": 10, "test_images": 10, "batch_size": 4, "lr": 0.1,
            "recipe": "regnetlab", "seed": 0}


def fake_trials(n=6):
    return [Trial(f"X/{i:03d}", "X", "anynet", {"i": i}, i) for i in range(n)]


def fake_record(key, i=0):
    return {"key": key, "group": "X", "seed": i, "test_error": 0.1 * i, "params": 1,
            "flops": 1, "wall_time_s": 0.0, "diverged": False, "device": "cpu"}


def fake_runner(trial):
    time.sleep(0.05)
    return fake_record(trial.key, trial.config["i"])


def failing_runner(trial):
    """Fails on the last trial, after the others had time to finish (runs in a worker)."""
    if trial.key == "X/005":
        time.sleep(0.5)
        raise ValueError(f"boom in {trial.key}")
    return fake_runner(trial)


def interrupted_runner(trial):
    """Ctrl-C while training the last trial."""
    if trial.key == "X/005":
        time.sleep(0.5)
        raise KeyboardInterrupt
    return fake_runner(trial)


def stuck_runner(trial):
    """The first trial trains 'forever' while the second one fails."""
    if trial.key == "X/000":
        time.sleep(60)
    if trial.key == "X/001":
        time.sleep(0.5)
        raise ValueError(f"boom in {trial.key}")
    return fake_runner(trial)


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
    return run_sweep(path, "anynetx", settings, fake_trials(n), LocalEngine(workers),
                     runner=runner, log=lambda *_: None)


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
    (json.dumps(make_header("anynetx", SETTINGS)) + f"\n{json.dumps(fake_record('X/000'))}\n"
     f"not json\n{json.dumps(fake_record('X/001'))}\n", "line 3 is not valid JSON"),
    (json.dumps(make_header("anynetx", SETTINGS)) + f"\n{json.dumps(fake_record('X/000'))}\n"
     f"{json.dumps(fake_record('X/000'))}\n", "line 3 repeats network 'X/000'"),
    (json.dumps(make_header("anynetx", SETTINGS)) + f"\n{json.dumps(fake_record('X/000'))}\n"
     '{"key": "X/001"}\n', "line 3 .network 'X/001'. has no 'group'"),
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


@pytest.mark.parametrize("flag", ["--n", "--seeds", "--workers", "--epochs", "--train-images",
                                  "--test-images", "--batch-size", "--threads", "--scale"])
@pytest.mark.parametrize("value", ["0", "-2", "1.5"])
def test_cli_refuses_sizes_below_one_before_any_file(tmp_path, capsys, flag, value):
    with pytest.raises(SystemExit) as stop:  # argparse: usage + one error line, status 2
        main(["explore", "regnetx", "--out", str(tmp_path / "r.jsonl"), flag, value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: expected a positive whole number, got '{value}'" in err
    assert not (tmp_path / "r.jsonl").exists()


@pytest.mark.parametrize("argv, message", [
    (["exercises", "--band", "1,2"], "the exercises study samples no networks"),
    (["anynetx", "--band", "0.6"], "--band '0.6': expected LOW,HIGH in MFLOPs"),
    (["mlp", "--band", "2,1"], "band 2000..1000: expected 0 <= low < high"),
])
def test_cli_refuses_a_bad_band_in_one_line(tmp_path, capsys, argv, message):
    out = tmp_path / "r.jsonl"
    assert main(["explore", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_resuming_with_another_band_is_refused(tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    with ResultsWriter(out, "regnetx", {**SETTINGS, "epochs": 2, "train_images": 4000,
                                        "test_images": 2000, "batch_size": 128, "band": {
                                            "measure": "flops", "low": 1, "high": 2,
                                            "size": 28}}):
        pass
    assert main(["explore", "regnetx", "--n", "1", "--out", str(out)]) == 2
    assert "band: file" in capsys.readouterr().err


def test_cli_refuses_a_bad_learning_rate(tmp_path, capsys):
    assert main(["explore", "regnetx", "--out", str(tmp_path / "r.jsonl"), "--lr", "-1"]) == 2
    assert "--lr -1" in capsys.readouterr().err
    assert not (tmp_path / "r.jsonl").exists()


@pytest.mark.parametrize("runner, error", [(failing_runner, ValueError),
                                           (interrupted_runner, KeyboardInterrupt)])
def test_worker_error_surfaces_and_finished_networks_stay(tmp_path, runner, error):
    path = tmp_path / "r.jsonl"
    with pytest.raises(error):  # the worker's own error, not one from stopping the pool
        sweep(path, runner, n=6, workers=2)
    keys = [r["key"] for r in read_results(path)[1]]
    assert keys and "X/005" not in keys  # the finished ones are kept, the failed one not
    assert set(keys) <= {f"X/{i:03d}" for i in range(5)}


def test_a_failed_sweep_stops_the_workers_still_training(tmp_path):
    import multiprocessing as mp
    before = set(mp.active_children())  # other tests' processes are not ours to judge
    start = time.perf_counter()
    with pytest.raises(ValueError, match="boom in X/001"):
        sweep(tmp_path / "r.jsonl", stuck_runner, n=2, workers=2)
    ours = [p for p in mp.active_children() if p not in before and p.is_alive()]
    assert not ours, "a worker still runs"
    assert time.perf_counter() - start < 40


def test_cli_bad_data_folder_fails_once_in_one_line(tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    argv = ["explore", "regnetx", "--n", "1", "--data", str(tmp_path / "nonexistent"),
            "--out", str(out), "--workers", "2"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("regnetlab explore: error: no Fashion-MNIST folder at")
    assert "nonexistent" in lines[0] and "Traceback" not in captured.out + captured.err
    assert not out.exists()  # nothing recorded, so no file left behind


@pytest.mark.slow
def test_tiny_real_sweep_then_resume(tmp_path, data_root, capsys):
    path = tmp_path / "tiny.jsonl"
    argv = ["explore", "anynetx", "--spaces", "A,E", "--n", "2", "--epochs", "1",
            "--train-images", "300", "--test-images", "200", "--batch-size", "64",
            "--workers", "1", "--out", str(path), "--data", str(data_root)]
    assert main(argv) == 0
    header, recs = read_results(path)
    assert header["settings"]["train_images"] == 300 and len(recs) == 4
    # the complexity band is part of the budget: stated in the header, obeyed by every record
    assert header["settings"]["band"] == {"measure": "flops", "low": 540000, "high": 600000,
                                          "size": 28}
    assert all(540000 <= r["flops"] <= 600000 for r in recs)
    for r in recs:
        assert 0.0 <= r["test_error"] <= 1.0 and r["params"] > 0 and r["flops"] > 0
        assert r["num_train"] == 300 and r["num_test"] == 200 and r["device"] == "cpu"
    assert {r["group"] for r in recs} == {"A", "E"}
    capsys.readouterr()
    assert main(argv) == 0
    assert "4 already in" in capsys.readouterr().out
    assert len(read_results(path)[1]) == 4
