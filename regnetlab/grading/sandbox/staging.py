"""Staging one worker's sandbox: a private folder holding read-only copies of the
submission and of the regnetlab package, the output folder (with a HOME outside a mount
namespace) and a made-up ``/etc/passwd``; the mount table bubblewrap builds from it (the
system, the Python runtime, those copies, nothing of the checkout or the data); the
worker's minimal environment and command line; and removing it all afterwards.
``_Sandbox`` holds one run's folder; starting, reaping and killing its processes is
``process.py``'s.
"""
import functools
import importlib.util
import os
import shutil
import site
import sys
import tempfile
from pathlib import Path

from ...data import default_root
from ...project import PACKAGE  # the regnetlab package the worker gets a copy of
from .probe import _as_root, _bwrap, _setpriv, _unshare
from .process import end_survivors, exit_status, start_process
from .users import _release_uid, _reserve_uid

TMP_SIZE = 256 * 1024 ** 2      # the sandbox's private /tmp, a tmpfs: it costs memory
INSIDE = Path("/sandbox")       # where the copies and the output folder appear in the sandbox
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
ETC_FILES = ("ld.so.cache", "localtime")  # the rest of /etc stays out; passwd is made up


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
        if self.spaces and not self.mounted:
            # --mount-proc: a /proc that shows only the new PID namespace
            argv = [_unshare(), "--pid", "--net", "--fork", "--kill-child",
                    "--mount-proc", *([] if _as_root() else ["--user", "--map-root-user"]),
                    "--", *argv]
        proc = start_process(argv, cwd="/" if self.mounted else self.home,
                             env=self._environment(threads),
                             bwrap_args=self._bwrap_args if self.mounted else None)
        self._pipe = os.fstat(proc.stdout.fileno()).st_ino
        return proc

    def status(self, returncode):
        """The worker's exit status, negative when a signal killed it."""
        return exit_status(returncode, self.mounted)

    def end_survivors(self, proc):
        """Kill every process the worker left running; return how many there were."""
        return end_survivors(proc, self.uid, self._pipe)

    def remove(self):
        """Remove the private folder, whatever the worker did to the modes in it."""
        if not _as_root():  # root may remove anything; we may need to give ourselves rights
            for parent, dirs, _ in os.walk(self.private):
                for name in dirs:
                    path = os.path.join(parent, name)
                    if not os.path.islink(path):
                        os.chmod(path, 0o700)
        shutil.rmtree(self.private, ignore_errors=True)
        if self._uid_lock is not None:
            _release_uid(self.uid, self._uid_lock)

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
