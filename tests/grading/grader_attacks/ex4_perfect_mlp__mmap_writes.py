# APPEND TO REFERENCE
"""A correct PerfectMLP whose file first tries to change files through a shared mmap
(which the old file-size limit of 0 did not stop): the grader's calibration and code in
the checkout, the package the worker imports, and the submission copy."""
import mmap as _mmap
import os as _os
from pathlib import Path as _Path

import regnetlab as _regnetlab

_targets = [_Path("__REPO__") / "autograder" / "calibration.json",
            *_Path("__REPO__", "regnetlab").rglob("*.py*"),
            *_Path(_regnetlab.__file__).parent.rglob("*.py"), _Path(__file__)]
CHANGED = []
for _path in _targets:
    try:
        _fd = _os.open(_path, _os.O_RDWR)
        try:
            with _mmap.mmap(_fd, 0, _mmap.MAP_SHARED) as _m:
                if len(_m):
                    _m[:1] = b"#"
                    CHANGED.append(str(_path))
        finally:
            _os.close(_fd)
    except (OSError, ValueError):
        pass
