"""Load an exercise module from a source folder (``solutions/`` or a student's ``exercises/``).

The modules are plain files, not a package on ``sys.path``: we load ``FOLDER/NAME.py``
by path, with ``FOLDER`` on ``sys.path`` only while it executes (so a module may import
its siblings), and cache it per folder.
"""
from pathlib import Path

from .. import files

_CACHE = {}


class SourceError(ValueError):
    """The exercise module is missing, broken, or still a stub."""


def load_module(source, name):
    """The module ``source/name.py`` (cached)."""
    folder = Path(source).resolve()
    key = (str(folder), name)
    if key in _CACHE:
        return _CACHE[key]
    path = folder / f"{name}.py"
    if not path.is_file():
        raise SourceError(f"--source {source}: no {name}.py in {folder}; expected the "
                          "folder holding the exercise modules (solutions or exercises)")
    try:
        module = files.load_module(path, f"_regnetlab_source_{len(_CACHE)}_{name}")
    except Exception as e:
        raise SourceError(f"{path}: importing it failed ({type(e).__name__}: {e})") from None
    _CACHE[key] = module
    return module


def get(source, name, attr):
    """``source/name.py``'s attribute ``attr``, with a clear error if it is absent."""
    module = load_module(source, name)
    if not hasattr(module, attr):
        raise SourceError(f"{Path(source) / (name + '.py')}: defines no {attr!r}")
    return getattr(module, attr)


def call(source, name, attr, *args, **kwargs):
    """Call ``attr`` from the module; a stub's NotImplementedError becomes a clear error."""
    fn = get(source, name, attr)
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise SourceError(
            f"{Path(source) / (name + '.py')}: {attr} is not implemented yet "
            "(NotImplementedError); fill in the exercise, or explore the reference code "
            "with --source solutions") from None
