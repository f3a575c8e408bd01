"""The worker's sandbox (regnetlab/grading/sandbox/) against a hostile worker.

Every test runs the stand-in worker ``tests/sandbox_workers/hostile.py``, whose exercise
name says which attack to try. Tests that need a level of isolation skip where this
machine does not allow it (``test_this_machine_allows_every_level`` says whether it
should). Nothing may outlive a test: a fixture fails it if a process it started, or one
carrying its token, is still alive afterwards, and kills it.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import torch

from regnetlab.grading import sandbox
from regnetlab.grading.sandbox import output, probe, staging

REPO = Path(__file__).resolve().parents[2]
WORKER = (Path(__file__).parent / "sandbox_workers" / "hostile.py").read_text()
ALL = ["pid-namespace", "net-namespace", "mount-namespace", "separate-user"]
RUNTIME = [Path(p) for p in (sys.prefix, sys.base_prefix, os.path.realpath(sys.executable))]
# inside site-packages, not needed to run: stands for a data folder kept under the runtime
COVERED = Path(torch.__file__).parent / "include"
DATA = os.environ.get("REGNETLAB_DATA")  # as set outside the tests
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def secrets_here(submission):
    """What the worker must not read: the checkout, the data, the original submission.

    The checkout folder itself may show when the virtual environment lives inside it (as
    scripts/setup.sh makes it); the walk check below shows nothing but the runtime there."""
    found = [REPO / "solutions", REPO / "autograder", REPO / "tests",
             REPO / "autograder" / "calibration.json", REPO.parent / "shared" / "data",
             submission]
    if DATA:
        found.append(Path(DATA))
    return [str(p) for p in found if p.exists()]


def requires(*levels):
    missing = [lv for lv in levels if lv not in sandbox.isolation_levels()]
    if missing:
        pytest.skip(f"this machine does not allow {missing}")


def run(exercise, folder, options=None, limits=None, **kw):
    submission = folder / "submission"
    submission.mkdir(exist_ok=True)
    (submission / "ex1_deeper_regnetx.py").write_text("MARK = 1\n")
    targets = {"secret": secrets_here(submission), "hidden": str(COVERED),
               "walk": ["/work", str(Path.home())]}
    return sandbox.run_worker(
        exercise, submission, options or {},
        limits=limits or sandbox.Limits(timeout_s=60, memory_gb=None),
        module="hostile_worker", extra_files={"hostile_worker.py": WORKER,
                                              "hostile_targets.json": json.dumps(targets)},
        **kw)


def report(worker_run):
    assert "report.json" in worker_run.files, worker_run.output
    return json.loads(worker_run.files["report.json"])


def processes_with(word, name=None):
    """The processes whose command line holds ``word`` (and whose name is ``name``)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f, open(f"/proc/{pid}/comm") as g:
                if word.encode() in f.read() and name in (None, g.read().strip()):
                    found.append(int(pid))
        except OSError:
            continue
    return found


def our_children():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] not in (b"Z", b"X"):
            found.append(int(pid))
    return found


@pytest.fixture(autouse=True)
def token():
    """A word the worker's left-behind sleepers carry; none may be alive after the test."""
    word = f"regnetlab-sandbox-test-{secrets.token_hex(6)}"
    before = set(our_children())  # other tests' processes are not this test's to judge
    yield word
    if not os.path.isdir("/proc"):
        return
    left = processes_with(word) + [p for p in our_children() if p not in before]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"processes left behind by the test: {left}"


@pytest.fixture(scope="module")
def looked(tmp_path_factory):
    """What the worker saw (one run, with torch imported), and whether we heard from it."""
    requires("pid-namespace", "net-namespace", "mount-namespace")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGNETLAB_DATA", str(COVERED))
        mp.setenv("REGNETLAB_TEST_SECRET", "open-sesame")
        worker_run = run("look", tmp_path_factory.mktemp("look"),
                         {"host_pid": os.getpid(), "port": listener.getsockname()[1],
                          "import": True})
    listener.setblocking(False)
    try:
        listener.accept()
        heard = True
    except BlockingIOError:
        heard = False
    listener.close()
    return report(worker_run), heard, worker_run


def closed_on_the_way_to_python():
    """The folders another user may not enter on the way to our Python: the venv, the
    interpreter it links to and the base installation (pyenv, conda and uv put it in a
    private home). Only a sandbox without its own mount namespace has to walk them."""
    paths = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.executable)}
    return sorted({str(f) for p in paths for f in p.parents if not os.stat(f).st_mode & 0o001})


def test_this_machine_allows_every_level():
    if sys.platform != "linux" or not AS_ROOT:
        pytest.skip("all four levels need Linux and root")
    if not sandbox._bwrap() and closed_on_the_way_to_python():
        pytest.skip(f"no bubblewrap, and other users cannot enter "
                    f"{closed_on_the_way_to_python()}: no separate user here (the report says so)")
    assert sandbox.isolation_levels() == ALL
    assert sandbox.isolation_gaps() == {}


def test_a_runtime_in_private_folders_is_reached_by_the_workers_user(tmp_path, monkeypatch):
    """A Python under a folder of mode 700, in /tmp or a home, still runs as the worker's
    user: the sandbox shows each folder on the way as searchable, read-only."""
    requires("mount-namespace", "separate-user")
    private = Path(tempfile.mkdtemp(dir="/tmp"))  # mode 700, like mktemp -d
    try:
        runtime = private / "inner" / "python"
        runtime.mkdir(parents=True)
        (runtime / "marker.txt").write_text("reached")
        monkeypatch.setattr(staging, "_runtime_dirs",
                            lambda real=staging._runtime_dirs: [*real(), runtime])
        box = sandbox._Sandbox(ALL, "private")
        try:
            box.fill(tmp_path / "nothing", {})
            proc = box.start([sys.executable, "-c", f"import os; print(os.getuid(), "
                              f"open({str(runtime / 'marker.txt')!r}).read())"], threads=1)
            out, _ = proc.communicate(timeout=60)
            box.end_survivors(proc)
        finally:
            box.remove()
        assert proc.returncode == 0, out.decode()
        uid, text = out.decode().split()
        assert int(uid) in sandbox.UIDS and text == "reached"
    finally:
        shutil.rmtree(private)


def test_a_level_not_in_force_is_explained(monkeypatch):
    monkeypatch.setattr(probe, "isolation_levels", lambda: ["pid-namespace", "net-namespace"])
    monkeypatch.setattr(probe, "_as_root", lambda: False)
    gaps = sandbox.isolation_gaps()
    assert list(gaps) == ["mount-namespace", "separate-user"]
    assert "not run as root" in gaps["separate-user"]
    monkeypatch.setattr(probe, "_as_root", lambda: True)
    monkeypatch.setattr(probe, "_setpriv", lambda: "/usr/bin/setpriv")
    monkeypatch.setattr(probe, "_closed_folders", lambda: [Path("/home/me")])
    monkeypatch.setattr(probe, "_bwrap", lambda: None)
    gaps = sandbox.isolation_gaps()
    assert gaps["separate-user"].startswith("the worker's user cannot enter /home/me")
    assert gaps["mount-namespace"].startswith("bubblewrap is not installed")


def test_the_worker_imports_the_package_copy_and_sees_no_checkout(looked):
    seen, _, worker_run = looked
    assert worker_run.returncode == 0, worker_run.output
    assert worker_run.isolation == sandbox.isolation_levels()
    assert seen["regnetlab"] == "/sandbox/lib/regnetlab/__init__.py"
    # regnetlab.__file__ leads to the copy: no solutions, autograder or tests beside it
    assert seen["beside_package"] == ["hostile_targets.json", "hostile_worker.py", "regnetlab"]


def test_the_worker_cannot_read_the_checkout_the_data_or_the_submission(looked):
    seen, _, _ = looked
    assert str(REPO / "solutions") in seen["targets"]  # the test knows where to look
    assert seen["targets"] and all(v != "ok" for v in seen["targets"].values()), seen["targets"]
    # under /work and our HOME it sees the Python runtime and the folders above it, no more
    for path in map(Path, seen["walked"]):
        assert any(path.is_relative_to(r) or r.is_relative_to(path) for r in RUNTIME), path


def test_a_data_folder_under_the_runtime_is_covered_up(looked):
    seen, _, _ = looked
    assert os.listdir(COVERED) and seen["hidden"] == []


def test_nothing_of_the_checkout_on_argv_or_in_the_environment(looked):
    seen, _, _ = looked
    told = json.dumps([seen["argv"], seen["cmdline"], seen["environ"]])
    # the Python runtime's own path may lie inside the checkout (.venv): not a secret
    told = told.replace(sys.prefix, "<runtime>")
    for secret in (str(REPO), str(COVERED), "open-sesame"):
        assert secret not in told
    assert set(seen["environ"]) <= {
        "PATH", "HOME", "TMPDIR", "LANG", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE",
        "PYTHONHASHSEED", "PYTHONUNBUFFERED", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
        "MPLBACKEND", "PWD"}
    assert seen["environ"]["PYTHONPATH"].split(os.pathsep)[0] == "/sandbox/lib"


def test_the_worker_has_no_network(looked):
    seen, heard, _ = looked
    assert seen["loopback"] != "ok" and seen["internet"] != "ok"
    assert not heard


def test_the_worker_cannot_see_or_signal_a_process_outside(looked):
    seen, _, _ = looked
    assert os.getpid() not in seen["pids"] and len(seen["pids"]) <= 4, seen["pids"]
    assert seen["signal_host"] == "ProcessLookupError"
    assert seen["host_fds"] == "FileNotFoundError"
    assert seen["kill_all"] != "not tried"  # and we are still here


def test_as_root_the_worker_is_an_unprivileged_user_of_its_own(looked):
    requires("separate-user")
    seen, _, _ = looked
    uid, euid, gid, groups = seen["uid"]
    assert uid == euid == gid and uid in sandbox.UIDS and groups in ([], [gid])
    assert int(seen["caps"], 16) == 0 and seen["no_new_privs"] == "1"


def test_writes_outside_the_output_folder_fail(tmp_path):
    # without a separate user the worker is root in its own (throwaway) root folder
    requires("mount-namespace", "separate-user")
    tried = report(run("write", tmp_path))
    assert [p for p, v in tried.items() if v == "ok"] == ["/sandbox/out/fine.txt",
                                                          "/tmp/fine.txt"], tried
    assert any(p.startswith("mmap /sandbox/lib/") for p in tried)
    assert (tmp_path / "submission" / "ex1_deeper_regnetx.py").read_text() == "MARK = 1\n"


def test_a_process_left_behind_dies_with_the_sandbox(tmp_path, token):
    requires("pid-namespace")
    worker_run = run("leave", tmp_path, {"token": token, "detach": True})
    assert report(worker_run) == {"left": True}
    assert processes_with(token) == []
    assert worker_run.survivors == 0


def test_without_namespaces_a_process_holding_the_output_is_found(tmp_path, token,
                                                                   monkeypatch):
    monkeypatch.setattr(sandbox, "isolation_levels", lambda: ["none"])
    worker_run = run("leave", tmp_path, {"token": token})
    assert report(worker_run) == {"left": True}
    assert worker_run.isolation == ["none"]
    assert worker_run.survivors == 1 and processes_with(token) == []


def test_a_separate_user_finds_a_detached_process(tmp_path, token, monkeypatch):
    requires("separate-user")
    monkeypatch.setattr(sandbox, "isolation_levels", lambda: ["separate-user"])
    worker_run = run("leave", tmp_path, {"token": token, "detach": True})
    assert report(worker_run) == {"left": True}
    assert worker_run.survivors == 1 and processes_with(token) == []


def test_unshare_alone_still_hides_processes_and_network(tmp_path, token, monkeypatch):
    if not sandbox._unshare():
        pytest.skip("no unshare here")
    levels = ["pid-namespace", "net-namespace"] + (["separate-user"] if AS_ROOT else [])
    requires(*levels)
    monkeypatch.setattr(sandbox, "isolation_levels", lambda: levels)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        seen = report(run("look", tmp_path, {"host_pid": os.getpid(),
                                             "port": listener.getsockname()[1]}))
    assert seen["signal_host"] == "ProcessLookupError" and seen["loopback"] != "ok"
    assert os.getpid() not in seen["pids"] and len(seen["pids"]) <= 4
    worker_run = run("leave", tmp_path, {"token": token, "detach": True})
    assert worker_run.isolation == levels and processes_with(token) == []


def test_sandboxes_side_by_side_leave_each_other_alone(tmp_path, token):
    """One worker's cleanup must not kill another's: each has its own user and namespace."""
    done = {}
    jobs = {"leave": ("leave", {"token": token, "detach": True}),
            "nap1": ("nap", {"seconds": 1.5}), "nap2": ("nap", {"seconds": 1.5})}
    threads = [threading.Thread(target=lambda k=k, ex=ex, opt=opt: done.update(
        {k: run(ex, tmp_path / k, opt)})) for k, (ex, opt) in jobs.items()]
    for folder in jobs:
        (tmp_path / folder).mkdir()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert done["leave"].returncode == 0 and processes_with(token) == []
    uids = [report(done[k])["uid"] for k in ("nap1", "nap2")]
    if "separate-user" in sandbox.isolation_levels():
        assert uids[0] != uids[1] and all(u in sandbox.UIDS for u in uids)


def test_output_files_are_read_with_caps(tmp_path):
    before = set(Path(tempfile.gettempdir()).glob("regnetlab-files-*"))
    worker_run = run("files", tmp_path)
    assert worker_run.returncode == 0, worker_run.output
    assert sorted(worker_run.files) == ["data.bin", "good.json"]
    assert worker_run.files["data.bin"] == bytes(range(256)) * 4096
    why = dict(line.split(": ", 1) for line in worker_run.rejected)
    assert why == {"big.bin": "over 67108864 bytes, the limit for one file",
                   "link.json": "a symbolic link",
                   "sub": "a folder (only files directly in the output folder are read)",
                   "bad name!.txt": "a bad name (expected 1-64 letters, digits, '.', '_' or '-')",
                   "pipe": "not a regular file"}
    # 100,000 characters printed, 16,000 kept
    assert worker_run.output_chars == 100_001 and len(worker_run.output) < 16_100
    assert "characters of output left out" in worker_run.output
    # its private folder is gone, with the read-only file and the folder without rights
    assert set(Path(tempfile.gettempdir()).glob("regnetlab-files-*")) == before


def test_at_most_64_files_come_back(tmp_path):
    worker_run = run("many", tmp_path, {"count": 70, "size": 10})
    assert len(worker_run.files) == 64
    assert worker_run.rejected == [f"f{i:03d}.txt: more than 64 files" for i in range(64, 70)]


def test_all_files_together_are_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(output, "TOTAL_LIMIT", 2500)
    worker_run = run("many", tmp_path, {"count": 4, "size": 1000})
    assert sorted(worker_run.files) == ["f000.txt", "f001.txt"]
    assert worker_run.rejected == [f"f00{i}.txt: over 2500 bytes for all files together"
                                   for i in (2, 3)]


def test_a_timeout_kills_the_whole_sandbox(tmp_path, token):
    worker_run = run("hang", tmp_path, {"token": token}, limits=sandbox.Limits(timeout_s=2))
    assert worker_run.timed_out and 2 <= worker_run.elapsed_s < 10
    assert "per-exercise time limit" in worker_run.ending()
    assert "hanging" in worker_run.output
    assert processes_with(token) == []


def test_ctrl_c_kills_every_sandbox(tmp_path, token):
    live, done = sandbox.LiveWorkers(), []
    thread = threading.Thread(target=lambda: done.append(
        run("hang", tmp_path, {"token": token}, live=live)))
    thread.start()
    deadline = time.monotonic() + 30
    while not processes_with(token, "left-behind") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(token, "left-behind"), "the worker never left its sleeper"
    live.kill_all()
    thread.join(timeout=10)
    assert not thread.is_alive() and done
    assert done[0].returncode == -signal.SIGKILL
    assert done[0].ending() == "killed by SIGKILL (out of memory or a crash in native code?)"
    assert processes_with(token) == []


def test_a_crash_and_an_exit_status_are_worded_for_a_student(tmp_path):
    crashed = run("crash", tmp_path, {"signal": "SIGSEGV"})
    assert crashed.returncode == -signal.SIGSEGV
    assert crashed.ending().startswith("killed by SIGSEGV")
    exited = run("exits", tmp_path, {"status": 3})
    assert exited.returncode == 3 and exited.ending().startswith("exited with status 3")
    assert run("many", tmp_path, {"count": 0, "size": 0}).ending() is None


def test_without_bubblewrap_the_probe_falls_back(monkeypatch):
    monkeypatch.setattr(probe, "_bwrap", lambda: None)
    sandbox._probe.cache_clear()
    try:
        # outside a mount namespace another user can run our Python only if it may reach it
        reachable = not closed_on_the_way_to_python()
        user = ["separate-user"] if sandbox._setpriv() and reachable else []
        spaces = ["pid-namespace", "net-namespace"] if sys.platform == "linux" else []
        if sandbox._unshare():
            assert sandbox.isolation_levels() == [*spaces, *user]
        monkeypatch.setattr(probe, "_unshare", lambda: None)
        sandbox._probe.cache_clear()
        assert sandbox.isolation_levels() == (user or ["none"])
        monkeypatch.setattr(probe, "_setpriv", lambda: None)
        sandbox._probe.cache_clear()
        assert sandbox.isolation_levels() == ["none"]
    finally:
        sandbox._probe.cache_clear()


def test_with_no_isolation_grading_still_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "isolation_levels", lambda: ["none"])
    worker_run = run("many", tmp_path, {"count": 1, "size": 5})
    assert worker_run.isolation == ["none"] and worker_run.returncode == 0
    assert worker_run.files == {"f000.txt": b"xxxxx"}
