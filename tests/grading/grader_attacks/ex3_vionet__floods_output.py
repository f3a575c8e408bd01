# APPEND TO REFERENCE
"""A correct VioNet family whose file floods the worker's output folder: a 1.5 GiB
answers file and 100 junk files."""
import os as _os
import sys as _sys

_out = _sys.argv[3]  # python -m ...worker EXERCISE CODE_DIR OUT_DIR
try:
    with open(_os.path.join(_out, "answers.json"), "wb") as _f:
        for _ in range(1536):
            _f.write(b" " * 2 ** 20)
except OSError:  # the worker's file-size cap stops it
    pass
for _i in range(100):
    with open(_os.path.join(_out, f"junk-{_i}.json"), "w") as _f:
        _f.write("{}")
