"""Two file helpers every command shares: write a file atomically, load a module by path."""
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` so that a crash never leaves a half-written file there.

    The text goes to a temporary file in the same folder, renamed over ``path`` at the end
    (atomic on one file system); on any failure the temporary file is removed.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; expected a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path, payload):
    atomic_write_text(path, json.dumps(payload, indent=2) + "\n")


def check_writable(path):
    """Fail now, not after an hour of training, if ``path`` cannot be written later."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; expected a file path")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"{path}: cannot write in {parent}")


def load_module(path, module_name=None):
    """Execute the Python file ``path`` as a fresh module and return it.

    Its folder is on ``sys.path`` while it runs, so it may import the files beside it.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    name = module_name or f"_regnetlab_file_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module
