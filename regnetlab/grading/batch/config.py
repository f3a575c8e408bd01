"""The config hash of ``regnetlab grade-many``: what decides that a stored grade is stale.

A grade depends on the grading options, the tests (public and hidden; the calibration
thresholds, ``calibration.json``, are read from the tests folder) and every module of
the package that a grading runs: the trusted side and the library modules it imports
(the training recipe in ``trainer.py``, ``data.py``, ``principles.py``, ...), and the
worker, whose copy runs in the sandbox beside the student's code.

That set of modules is derived, never listed by hand: :func:`grading_modules` walks the
imports statically (``ast``) from the modules ``regnetlab grade`` starts from
(:data:`ROOTS`), following every import that names a module of the package, relative or
absolute, at the top of a file or inside a function, and the packages above each module
(importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` first). Static,
because it runs no code (no torch to import) and costs milliseconds. An import by a
computed name (``importlib.import_module``) is not seen: that is why every exercise
module, which ``exercises.load`` imports by name, is a root of its own.
"""
import ast
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

from ...project import PACKAGE

# where a grading starts: `python -m regnetlab grade` (__main__, the CLI, the pytest
# plugin and its session), and the folders whose modules are imported by name or run as
# files: the measurement, the sandbox, the worker and the exercises
ROOTS = ("__main__", "grading.scoring.cli", "grading.scoring.plugin",
         "grading.scoring.session")
ROOT_FOLDERS = ("grading/measure", "grading/sandbox", "grading/worker", "grading/exercises")


def _module_file(package, name):
    """The file of module ``name`` (dotted, inside the package; "" is the package itself),
    or None when ``name`` is no module (a class or function imported from one)."""
    folder = package.joinpath(*name.split(".")) if name else package
    candidates = [folder / "__init__.py"] + ([folder.with_suffix(".py")] if name else [])
    return next((path for path in candidates if path.is_file()), None)


def _imported(tree, top, name, is_package):
    """The names (relative to the package) that the imports in ``tree`` may refer to."""
    here = name.split(".") if name else []
    if not is_package:
        here = here[:-1]
    for node in ast.walk(tree):  # every import, also inside functions and try blocks
        if isinstance(node, ast.Import):
            for alias in node.names:
                first, _, rest = alias.name.partition(".")
                if first == top:
                    yield rest
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level - 1 > len(here):
                    continue
                base = here[:len(here) - (node.level - 1)]
                base += node.module.split(".") if node.module else []
            elif node.module and node.module.split(".")[0] == top:
                base = node.module.split(".")[1:]
            else:
                continue
            yield ".".join(base)
            for alias in node.names:  # `from . import capture` imports a module
                yield ".".join([*base, alias.name])


def grading_modules(package=None):
    """The files of every module of ``package`` (default: this one) a grading imports."""
    package = Path(package or PACKAGE)
    todo = list(ROOTS)
    for folder in ROOT_FOLDERS:
        for path in sorted((package / folder).rglob("*.py")):
            parts = path.relative_to(package).with_suffix("").parts
            todo.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    seen, files = set(), {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(package, name)
        if path is None:  # a name imported from a module, not a module
            continue
        files[name] = path
        parts = name.split(".") if name else []
        todo += [".".join(parts[:i]) for i in range(len(parts))]  # the packages above it
        tree = ast.parse(path.read_bytes(), filename=str(path))
        todo += _imported(tree, package.name, name, path.name == "__init__.py")
    return sorted(files.values())


def tree_hash(paths):
    """sha256 over every file (name and bytes) under ``paths``, skipping caches."""
    h = hashlib.sha256()
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            h.update(f"{path.relative_to(root.parent)}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def runtime():
    """The versions a grading's numbers depend on beyond our code: another torch (or Python)
    may train to other accuracies, so it regrades."""
    versions = {"python": platform.python_version()}
    for name in ("torch", "safetensors"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def config_hash(options, tests_dirs, package=None):
    """The hash of one batch's grading: its options, the versions of :func:`runtime`, its
    test folders (public and hidden) and the source of every module a grading imports
    (:func:`grading_modules`)."""
    package = Path(package or PACKAGE)
    h = hashlib.sha256(json.dumps(options).encode())
    h.update(json.dumps(runtime()).encode())
    h.update(tree_hash(tests_dirs).encode())
    for path in grading_modules(package):
        # by path inside the package, so that the same code in another checkout is the same
        h.update(f"{path.relative_to(package).as_posix()}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()
