"""The workers' own users, when the grader runs as root (``separate-user``): each sandbox
reserves a user id of UIDS that no process has and no other grading holds, with a lock
file in UID_LOCKS held for as long as the sandbox lives, so that two gradings side by side
never share a user, and every process a worker leaves behind can be found (and killed) by
its user (``process.end_survivors``).
"""
import fcntl
import os
import random
import stat
from pathlib import Path

from .process import _processes

UIDS = range(60000, 65000)      # the workers' own users, when we are root
# one place for the whole machine, whatever a grading's TMPDIR: two gradings must never
# reserve the same user id
UID_LOCKS = Path("/run/lock" if os.path.isdir("/run/lock") else "/tmp") / "regnetlab-sandbox-uids"


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



def _release_uid(uid, lock):
    """Give back a user id of ``_reserve_uid``: remove the lock file while we hold it."""
    (UID_LOCKS / str(uid)).unlink(missing_ok=True)
    os.close(lock)
