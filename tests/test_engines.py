"""Engines: the same jobs, the same results, on a local process pool or on Ray."""
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

from regnetlab.cli import main
from regnetlab.engines import EngineError, LocalEngine, RayEngine, make_engine
from regnetlab.explore.results import read_results


def square(x):
    if x == 3:
        raise ValueError("three is bad")
    return x * x


def slow_square(x):
    time.sleep(0.2 if x else 60)  # job 0 would run for a minute
    return x * x


def where(x):
    if x == 3:
        raise ValueError("three is bad")
    return os.getpid(), os.getppid()


@pytest.mark.parametrize("workers", [1, 2])
def test_local_engine_returns_every_result_and_errors_as_values(workers):
    out = dict(LocalEngine(workers).map_unordered(square, range(5)))
    assert {k: v for k, v in out.items() if k != 3} == {0: 0, 1: 1, 2: 4, 4: 16}
    assert isinstance(out[3], ValueError) and str(out[3]) == "three is bad"


def test_closing_the_local_engine_early_stops_its_workers():
    import multiprocessing as mp
    before = set(mp.active_children())
    start = time.perf_counter()
    with contextlib.closing(LocalEngine(2).map_unordered(slow_square, [0, 1, 2])) as results:
        item, result = next(iter(results))
    assert item in (1, 2) and result == item * item

    # closing returns only once its workers have exited: no waiting here, however loaded
    ours = [p for p in mp.active_children() if p not in before and p.is_alive()]
    assert not ours, "a worker still runs (job 0 sleeps for a minute)"
    assert time.perf_counter() - start < 40


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "dask"}, "--engine 'dask': expected one of local, ray"),
    ({"name": "local", "address": "auto"}, "--address auto: only used with --engine ray"),
    ({"name": "local", "workers": 0}, "workers=0: expected a positive whole number"),
])
def test_bad_engine_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_engine(**kwargs)


def test_ray_missing_is_one_clear_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails
    with pytest.raises(EngineError, match=r"pip install 'regnetlab\[ray\]'"):
        RayEngine()
    out = tmp_path / "r.jsonl"
    assert main(["explore", "regnetx", "--n", "1", "--engine", "ray", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--engine ray needs Ray" in err[0]
    assert not out.exists()


def _proc_alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited already


def _children(pid):
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(")")[-1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_ray_sweep_records_what_the_local_engine_records(tmp_path, data_root, capsys):
    """A tiny AnyNetX sweep as Ray tasks on a private local Ray instance, then locally."""
    import ray  # the test extra installs it: CI runs this test

    common = ["--spaces", "A,E", "--n", "1", "--epochs", "1", "--train-images", "256",
              "--test-images", "128", "--batch-size", "64", "--threads", "1",
              "--data", str(data_root)]
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert main(["explore", "anynetx", *common, "--workers", "1", "--out", str(local)]) == 0
    before = _children(os.getpid())
    assert main(["explore", "anynetx", *common, "--workers", "1", "--engine", "ray",
                 "--out", str(remote)]) == 0
    assert not ray.is_initialized()
    (h1, r1), (h2, r2) = read_results(local), read_results(remote)
    assert h1 == h2 and len(r1) == 2
    by_key = {r["key"]: r for r in r2}
    assert sorted(by_key) == sorted(r["key"] for r in r1)
    for a in r1:
        b = by_key[a["key"]]
        assert set(a) == set(b)
        for k in ("group", "kind", "config", "seed", "params", "flops", "num_train",
                  "num_test", "diverged", "device"):
            assert a[k] == b[k], k
        for k in ("test_error", "train_error", "train_loss"):
            assert a[k] == pytest.approx(b[k], abs=1e-6), k
    # resume on Ray: nothing left to train, so no Ray instance is even started
    capsys.readouterr()
    assert main(["explore", "anynetx", *common, "--engine", "ray", "--out", str(remote)]) == 0
    assert "2 already in" in capsys.readouterr().out

    # no process of the Ray instance outlives it: the workers that ran jobs, their
    # raylet, and every process it started under this one
    # Ray's workers cannot import this test module: ship ``where`` by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with tempfile.TemporaryDirectory(prefix="rl", dir="/tmp") as short:  # socket paths < 108
        seen = dict(RayEngine(num_cpus=1, _temp_dir=short).map_unordered(where, [0, 1, 3]))
    # a job's error comes back as a value, with its own type, as on the local engine
    assert isinstance(seen.pop(3), ValueError)
    pids = {p for pair in seen.values() for p in pair}
    deadline = time.time() + 30
    while time.time() < deadline and ([p for p in pids if _proc_alive(p)]
                                      or _children(os.getpid()) - before):
        time.sleep(0.5)
    assert not [p for p in pids if _proc_alive(p)], "a Ray worker or raylet outlived it"
    assert not _children(os.getpid()) - before, "a process started by Ray is still running"
