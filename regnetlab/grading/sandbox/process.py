"""The sandbox's processes: starting one in a session of its own (learning from bubblewrap
the first process of its PID namespace), reading its exit status, killing it with all it
started, finding and killing whatever it left running (``end_survivors``), and the
registry of the sandboxes running now that an interrupted grader kills (``LiveWorkers``).
Also the process-group helpers grade-many ends its gradings with (``signal_group``,
``end_group``, ``LiveGroups``): SIGINT to a group, time to clean up, then SIGKILL.
"""
import json
import os
import signal
import subprocess
import threading
import time


class LiveWorkers:
    """The sandboxes running now, so that an interrupted grader can kill them all.

    Each sandbox runs in its own session, so the terminal's Ctrl-C never reaches it; once
    ``kill_all`` has run, a sandbox registered later is killed as soon as it starts.
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


def start_process(argv, cwd, env, bwrap_args=None):
    """Start ``argv`` in a session of its own, stdout and stderr on one pipe; return the Popen.

    ``bwrap_args(info_fd)``, for a sandbox in a mount namespace, gives bubblewrap's command
    line to put in front of ``argv``; the first process of its PID namespace, which
    bubblewrap writes to ``info_fd``, is kept as ``proc.sandbox_init`` (else None).
    """
    info_read, info_write = os.pipe() if bwrap_args else (None, None)
    if bwrap_args:
        argv = bwrap_args(info_write) + argv
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, umask=0o022,
                            pass_fds=() if info_write is None else (info_write,))
    proc.sandbox_init = None
    if bwrap_args:
        # bubblewrap names the PID namespace's first process; killing it kills all inside
        os.close(info_write)
        with os.fdopen(info_read, "rb") as f:
            try:
                proc.sandbox_init = int(json.loads(f.read(4096))["child-pid"])
            except (ValueError, KeyError, TypeError):  # it failed to start: see its output
                pass
    return proc


def exit_status(returncode, bwrapped):
    """The worker's exit status, negative when a signal killed it."""
    # bubblewrap reports a worker killed by signal N as exit status 128 + N
    if bwrapped and 128 < returncode <= 128 + 64:
        return 128 - returncode
    return returncode


def end_survivors(proc, uid, pipe):
    """Kill every process the worker left running; return how many there were.

    ``uid`` is the worker's own user (None: it runs as ours), ``pipe`` the inode of its
    output pipe.
    """
    if uid is not None:
        def alive():
            return {p for p, state, _, _, uids in _processes()
                    if uid in uids and state not in "ZX"}
    elif not os.path.isdir("/proc"):  # macOS: nothing to look at, kill its session blindly
        _kill(proc.pid, group=True)
        return 0
    else:  # same user as us: its session, or anything holding its output pipe
        def alive():
            return {p for p, state, group, session, uids in _processes()
                    if state not in "ZX" and p != os.getpid() and os.getuid() in uids
                    and (proc.pid in (group, session) or _holds_pipe(p, pipe))}
    seen = set()
    for _ in range(100):
        left = alive()
        if not left:
            return len(seen)
        seen |= left
        if uid is not None:
            _kill_user(uid)
        else:
            for pid in left:
                _kill(pid)
        time.sleep(0.02)
    raise RuntimeError(f"the worker's processes {sorted(alive())} could not be killed; "
                       "stop them before grading again")


def _processes():
    """``(pid, state, process group, session, {uids})`` of every process we can see."""
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except FileNotFoundError:  # no /proc (macOS): nothing to scan
        return
    for name in entries:
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{name}/status", encoding="utf-8") as f:
                uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
        except (OSError, StopIteration, IndexError):  # it ended while we looked
            continue
        yield int(name), fields[0].decode(), int(fields[2]), int(fields[3]), set(map(int, uids))


def _holds_pipe(pid, inode):
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == f"pipe:[{inode}]":
                return True
        except OSError:
            continue
    return False


def _kill_user(uid):
    # kill(-1) from a process of that user reaches all of that user's processes at once,
    # also those that fork faster than we could kill them one by one
    subprocess.run(["/bin/sh", "-c", "kill -KILL -1"], user=uid, group=uid, extra_groups=[],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)


def _kill(pid, group=False):
    _signal(pid, signal.SIGKILL, group)


def _kill_group(proc):
    """Kill a running sandbox and all inside it: through its PID namespace's first process
    if it has one (bubblewrap then reaps it and exits: no zombie is left), else its session."""
    if proc.returncode is not None:
        return  # ended and reaped: the number of its first process may be another's now
    if proc.sandbox_init:
        _kill(proc.sandbox_init)
    else:
        _kill(proc.pid, group=True)


def _stop(proc):
    """Kill a sandbox that is still running; return its exit status."""
    _kill_group(proc)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # bubblewrap itself did not exit
        _kill(proc.pid, group=True)
        return proc.wait()


def _signal(pid, sig, group=False):
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def signal_group(pgid, sig):
    """Send ``sig`` to every process of the group ``pgid``; one that has ended is no error."""
    _signal(pgid, sig, group=True)


def end_group(pgid, grace_s, proc=None):
    """SIGINT to the group ``pgid`` (its leader may clean up), then SIGKILL after ``grace_s``,
    or as soon as ``proc`` (its leader's Popen) has ended."""
    signal_group(pgid, signal.SIGINT)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    signal_group(pgid, signal.SIGKILL)


class LiveGroups:
    """The process groups running now, each in a session of its own (out of the terminal's
    reach), so that Ctrl-C can end them all: SIGINT, ``grace_s`` to clean up, then SIGKILL.

    Once ``stop_all`` has begun, ``add`` refuses a group (it returns False): the caller ends
    that one itself.
    """

    def __init__(self, grace_s):
        self.lock, self.groups, self.stopping = threading.Lock(), set(), False
        self.grace_s = grace_s

    def add(self, pgid):
        with self.lock:
            if self.stopping:
                return False
            self.groups.add(pgid)
            return True

    def remove(self, pgid):
        with self.lock:
            self.groups.discard(pgid)

    def stop_all(self):
        """SIGINT to every group, then SIGKILL to those not removed within ``grace_s``."""
        with self.lock:
            self.stopping = True
            groups = list(self.groups)
        for pgid in groups:
            signal_group(pgid, signal.SIGINT)
        deadline = time.monotonic() + self.grace_s
        while groups and time.monotonic() < deadline:
            with self.lock:
                groups = [pgid for pgid in groups if pgid in self.groups]
            time.sleep(0.2)
        for pgid in groups:
            signal_group(pgid, signal.SIGKILL)
