"""Run one exercise's untrusted worker in a sandbox and collect what it wrote, with caps.

The worker imports the student's code, so whatever it does is treated as hostile. Where the
OS allows it (``isolation_levels`` tries once per process, strongest first), it runs

- in its own PID namespace (``pid-namespace``): it sees no process outside, so it can
  neither signal one nor open another grading's files through ``/proc/PID/fd``, and
  everything it starts dies with it;
- in its own network namespace (``net-namespace``): no network, not even the host's
  loopback;
- in a mount namespace (``mount-namespace``) that shows only the Python runtime, the system
  libraries, a read-only private copy of the submission (``/sandbox/code``) and of the
  ``regnetlab`` package (``/sandbox/lib``), the output folder (``/sandbox/out``) and a
  small private ``/tmp``: not the checkout (solutions, autograder, calibration, hidden
  tests), not the data;
- as an unprivileged user of its own when the grader runs as root (``separate-user``), so
  that it can change nothing of ours and every process it leaves behind can be found.

Bubblewrap provides the namespaces; ``unshare`` (PID and network only) where bubblewrap
cannot run; where neither works (macOS, namespaces refused) the worker is a plain process
in its own session and the run says ``isolation: ["none"]``. At every level the worker
gets a minimal environment and nothing of the checkout on its argv, a timeout or Ctrl-C
kills the whole sandbox, no process of the worker is alive when ``run_worker`` returns,
and what it printed and the files it left are read with byte caps.

Everything here runs in the trusted grading process: ``run_worker`` is where it starts the
untrusted worker, in the sandbox, and waits for it. The work is split by job:

- ``probe.py``: which isolation levels this machine allows (found once per process by
  starting a tiny sandbox of each kind), and, for the report, why any other is missing;
- ``staging.py``: one run's private folder, the copies in it, the mount table and the
  environment the worker gets, and removing it all;
- ``users.py``: reserving a user id of its own for each worker when we are root;
- ``process.py``: starting the sandbox's processes, reading how they ended, killing
  them and whatever they left running; the registry of live sandboxes that Ctrl-C kills,
  and the process-group helpers grade-many ends its gradings with;
- ``output.py``: reading what the worker printed and the files it left, with byte caps.
"""
import json
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from .output import OUTPUT_KEEP, _read_output, _Tail, read_outputs
from .probe import LEVELS, _bwrap, _probe, _setpriv, _unshare, isolation_gaps, isolation_levels
from .process import LiveWorkers, _stop
from .staging import _runtime_dirs, _Sandbox, copy_python_files
from .users import UIDS

# what other modules import from here; the underscored names are for the tests, which
# look at the sandbox's internals
__all__ = ["LEVELS", "Limits", "LiveWorkers", "UIDS", "WorkerRun", "copy_python_files",
           "isolation_gaps", "isolation_levels", "read_outputs", "run_worker",
           "_Sandbox", "_bwrap", "_probe", "_runtime_dirs", "_setpriv", "_unshare"]


@dataclass
class Limits:
    """Resources one exercise's worker may use."""
    timeout_s: float = 480.0
    memory_gb: float | None = 6.0  # address-space cap; None on CUDA (its driver maps a lot)
    threads: int = 1


@dataclass
class WorkerRun:
    """How one worker ended, what it printed and the files it left."""
    exercise: str
    returncode: int | None = None  # negative: killed by that signal
    timed_out: bool = False
    elapsed_s: float = 0.0
    output: str = ""            # stdout + stderr, truncated in the middle
    output_chars: int = 0       # how much it printed in total
    files: dict = field(default_factory=dict)     # name -> bytes, from its output folder
    rejected: list = field(default_factory=list)  # one line per output file refused, and why
    isolation: list = field(default_factory=list)  # the LEVELS in force, or ["none"]
    survivors: int = 0          # its processes found alive after it ended (then killed)

    def ending(self):
        """One sentence on how the worker ended abnormally, or None if it finished."""
        if self.timed_out:
            return (f"stopped after {self.elapsed_s:.0f} s (the per-exercise time limit): "
                    "does your code loop forever or train for too long?")
        if self.returncode == 0:
            return None
        if self.returncode is not None and self.returncode < 0:
            try:
                sig = signal.Signals(-self.returncode).name
            except ValueError:  # real-time signals have no name in the enum
                sig = f"signal {-self.returncode}"
            return f"killed by {sig} (out of memory or a crash in native code?)"
        return (f"exited with status {self.returncode} before finishing "
                "(an error at import time, os._exit or exit() in your code?)")


def run_worker(exercise, submission, options, limits=Limits(), live=None,
               module="regnetlab.grading.worker.worker", extra_files=None):
    """Run ``python -m module`` on a copy of ``submission`` in a sandbox; return a WorkerRun.

    The worker is started as ``module EXERCISE CODE OUT --options JSON --timeout S
    --threads N [--memory-gb G]``; CODE holds the copy of the submission, OUT is the only
    folder it may write to, and what it leaves there comes back in ``WorkerRun.files``.
    ``live`` (a LiveWorkers) holds the sandbox while it runs; ``extra_files``
    ({relative path: text}) are placed beside the package copy, for stand-in workers.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", exercise):
        raise ValueError(f"exercise {exercise!r}: expected letters, digits, '_' or '-'")
    live = live or LiveWorkers()
    run = WorkerRun(exercise, isolation=list(isolation_levels()))
    box = _Sandbox(run.isolation, exercise)
    try:
        box.fill(submission, extra_files or {})
        argv = [sys.executable, "-m", module, exercise, box.seen("code"), box.seen("out"),
                "--options", json.dumps(options), "--timeout", str(limits.timeout_s),
                "--threads", str(limits.threads)]
        if limits.memory_gb:
            argv += ["--memory-gb", str(limits.memory_gb)]
        start = time.perf_counter()
        proc = box.start(argv, limits.threads)
        tail = _Tail(OUTPUT_KEEP)
        reader = threading.Thread(target=_read_output, args=(proc.stdout, tail), daemon=True)
        reader.start()
        live.add(proc)
        try:
            run.returncode = box.status(proc.wait(timeout=limits.timeout_s))
        except subprocess.TimeoutExpired:
            run.timed_out = True
        finally:  # also on Ctrl-C: nothing of the worker may outlive this call
            if run.returncode is None:
                run.returncode = box.status(_stop(proc))
            live.discard(proc)
            run.survivors = box.end_survivors(proc)
        run.elapsed_s = time.perf_counter() - start
        reader.join(timeout=10)
        run.output, run.output_chars = tail.text(), tail.total
        run.files, run.rejected = read_outputs(box.out)
    finally:
        box.remove()
    return run
