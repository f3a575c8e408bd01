"""Run one exercise's worker: a separate, limited process that sees only a copy of the code.

This is the grader's side of the trust boundary. The worker (``worker.py``) imports the
student's module; this file makes sure that whatever that module does costs at most its
own exercise's points:

- it imports a *copy* of the submission's ``.py`` files, from a private temporary folder
  that is also its working directory and ``HOME``, so relative writes land there;
- it runs in its own session (process group), which is killed on timeout and after it
  ends, so a hang or a stray child process cannot outlive it;
- its stdout and stderr go to a pipe of which we keep the first and last few kilobytes,
  so megabytes of prints cost nothing but time;
- its answers come back as JSON lines on a separate pipe that we read with a size cap
  and validate; the worker applies its own memory and file-size limits (see worker.py);
- we fingerprint the submission, the grader's tests and its own code (this folder)
  before and after, and report any file the worker changed;
- every live worker is registered (``LiveWorkers``), so Ctrl-C kills them all at once.
The score is computed here, from tests run here, and the worker cannot write the
reports. What it sends are *facts*, and those it can forge: code that studies the grader
can report a network it does not build (the "forged facts" caveat of autograder/README.md).
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

OUTPUT_KEEP = 16_000        # characters of the worker's stdout/stderr we keep (head + tail)
ANSWER_LIMIT = 4_000_000    # bytes of answers we accept from one worker
WATCHED_SUFFIXES = {".py", ".json", ".ini", ".toml", ".cfg"}  # code, tests and their settings
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "API_KEY", "PRIVATE")


@dataclass
class Limits:
    """Resources one exercise's worker may use."""
    timeout_s: float = 480.0
    memory_gb: float | None = 6.0  # address-space cap; None on CUDA (its driver maps a lot)
    threads: int = 1


@dataclass
class WorkerRun:
    """What came back from one worker: its answers and how it ended."""
    exercise: str
    answers: dict = field(default_factory=dict)  # probe -> {"ok", "value" | "error", ...}
    returncode: int | None = None
    timed_out: bool = False
    elapsed_s: float = 0.0
    output: str = ""            # stdout + stderr, truncated in the middle
    output_chars: int = 0       # how much it printed in total
    last_probe: str | None = None  # the probe that was running when it stopped
    modified: list = field(default_factory=list)  # files it changed outside its sandbox
    rejected: list = field(default_factory=list)  # answer lines that failed validation

    def ending(self):
        """One sentence on how the worker ended abnormally, or None if it finished."""
        where = f" while running {self.last_probe!r}" if self.last_probe else ""
        if self.timed_out:
            return (f"stopped after {self.elapsed_s:.0f} s (the per-exercise time limit)"
                    f"{where}: does your code loop forever or train for too long?")
        if "done" in self.answers:
            return None
        if self.returncode is not None and self.returncode < 0:
            try:
                sig = signal.Signals(-self.returncode).name
            except ValueError:  # real-time signals have no name in the enum
                sig = f"signal {-self.returncode}"
            return f"killed by {sig}{where} (out of memory or a crash in native code?)"
        return (f"exited with status {self.returncode}{where} before finishing "
                "(os._exit or exit() in your code?)")


class LiveWorkers:
    """The worker processes running now, so that an interrupted grader can kill them all.

    Workers run in their own sessions, so the terminal's Ctrl-C never reaches them; once
    ``kill_all`` has run, a worker registered later is killed as soon as it starts.
    """

    def __init__(self):
        self._procs, self._lock, self.stopped = set(), threading.Lock(), False

    def add(self, proc):
        with self._lock:
            self._procs.add(proc)
            if self.stopped:
                _kill_group(proc)

    def discard(self, proc):
        with self._lock:
            self._procs.discard(proc)

    def kill_all(self):
        with self._lock:
            self.stopped = True
            for proc in self._procs:
                _kill_group(proc)


def fingerprint(folders):
    """{path: sha1} of every file under ``folders`` (to notice edits by a worker)."""
    prints = {}
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix not in WATCHED_SUFFIXES or "__pycache__" in path.parts \
                    or not path.is_file():
                continue
            try:
                prints[str(path)] = hashlib.sha1(path.read_bytes()).hexdigest()
            except OSError:
                prints[str(path)] = "unreadable"
    return prints


def changed_files(before, after):
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def copy_submission(src, dst):
    """Copy the submission's Python files (only those) into ``dst``."""
    src, dst = Path(src), Path(dst)
    for path in src.rglob("*.py"):
        if "__pycache__" in path.parts or any(p.startswith(".") for p in
                                              path.relative_to(src).parts):
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def worker_env(home, threads):
    """The worker's environment: ours without secrets, with a private HOME and TMPDIR."""
    env = {k: v for k, v in os.environ.items()
           if not any(w in k.upper() for w in SECRET_WORDS)}
    env.update(HOME=str(home), TMPDIR=str(home), PYTHONDONTWRITEBYTECODE="1",
               PYTHONHASHSEED="0", PYTHONUNBUFFERED="1", OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), MPLBACKEND="Agg")
    # the worker must import the same regnetlab as we do, even from an uninstalled checkout
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(
        [package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


class _Tail:
    """Keep the first and last ``keep / 2`` characters of a stream, count the rest."""

    def __init__(self, keep):
        self.half, self.head, self.tail, self.total = keep // 2, "", "", 0

    def feed(self, text):
        self.total += len(text)
        if len(self.head) < self.half:
            take = self.half - len(self.head)
            self.head, text = self.head + text[:take], text[take:]
        self.tail = (self.tail + text)[-self.half:]

    def text(self):
        dropped = self.total - len(self.head) - len(self.tail)
        if dropped > 0:
            return f"{self.head}\n[... {dropped} characters of output left out ...]\n{self.tail}"
        return self.head + self.tail


def _read_output(stream, tail):
    for chunk in iter(lambda: stream.read(65536), b""):
        tail.feed(chunk.decode("utf-8", "replace"))


def _read_answers(stream, run):
    size = 0
    for line in stream:
        size += len(line)
        if size > ANSWER_LIMIT:
            run.rejected.append("answers over the size limit were ignored")
            for _ in stream:  # drain so the worker never blocks on a full pipe
                pass
            return
        try:
            msg = json.loads(line)
            probe = msg["probe"]
            if not isinstance(probe, str) or not isinstance(msg.get("ok"), bool):
                raise ValueError("bad fields")
        except (ValueError, KeyError, TypeError):
            run.rejected.append(line[:200].decode("utf-8", "replace"))
            continue
        if msg.get("started"):
            run.last_probe = probe
        elif probe not in run.answers:  # the first answer for a probe stands
            run.answers[probe] = msg


def run_worker(exercise, submission, options, limits=Limits(), watch=(), live=None):
    """Run ``exercise``'s probes on ``submission`` in a worker process; return a WorkerRun.

    ``options`` (JSON-able) go to the worker; ``watch`` are folders to fingerprint;
    ``live`` (a LiveWorkers) holds the worker process while it runs.
    """
    live = live or LiveWorkers()
    run = WorkerRun(exercise)
    watch = [Path(submission), *map(Path, watch)]
    before = fingerprint(watch)
    private = Path(tempfile.mkdtemp(prefix=f"regnetlab-{exercise}-"))
    try:
        code, home = private / "submission", private / "home"
        code.mkdir()
        home.mkdir()
        copy_submission(submission, code)
        read_end, write_end = os.pipe()
        cmd = [sys.executable, "-m", "regnetlab.grading.worker", exercise, str(code),
               "--answer-fd", str(write_end), "--options", json.dumps(options),
               "--timeout", str(limits.timeout_s), "--threads", str(limits.threads)]
        if limits.memory_gb:
            cmd += ["--memory-gb", str(limits.memory_gb)]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=home, env=worker_env(home, limits.threads),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, pass_fds=(write_end,),
                                start_new_session=True)
        live.add(proc)
        os.close(write_end)
        tail = _Tail(OUTPUT_KEEP)
        readers = [threading.Thread(target=_read_output, args=(proc.stdout, tail), daemon=True),
                   threading.Thread(target=_read_answers,
                                    args=(os.fdopen(read_end, "rb"), run), daemon=True)]
        for t in readers:
            t.start()
        try:
            run.returncode = proc.wait(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            run.timed_out = True
        _kill_group(proc)
        if run.returncode is None:
            run.returncode = proc.wait()
        live.discard(proc)
        run.elapsed_s = time.perf_counter() - start
        for t in readers:
            t.join(timeout=10)
        run.output, run.output_chars = tail.text(), tail.total
    finally:
        shutil.rmtree(private, onerror=_force_remove)
    run.modified = changed_files(before, fingerprint(watch))
    return run


def _kill_group(proc):
    """Kill the worker's whole session: it and anything it started."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _force_remove(func, path, _exc):
    # the worker may have made its files read-only; make them writable and retry
    try:
        os.chmod(os.path.dirname(path), 0o700)
        os.chmod(path, 0o700)
        func(path)
    except OSError:
        pass
