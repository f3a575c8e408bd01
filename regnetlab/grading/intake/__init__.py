"""Intake: which file each exercise is graded from, read in the trusted grading process.

No code of the submission runs here: ``.py`` files are copied and notebooks are parsed
(:mod:`.notebook`) into the module the sandboxed worker imports. For each exercise the
submission's folder may hold ``exN_name.py``, ``exN_name.ipynb`` or both:

- one of them: that one is graded;
- both: the one with fewer unfinished parts (the stubs' ``raise NotImplementedError(
  "Exercise N: ...")``) is graded, so an untouched or half-done stub beside a completed
  notebook (or the other way round) never hides the completed one; on a tie (both
  finished, or both equally unfinished) the ``.py`` is graded.

The report names the file each exercise was graded from, the other file and why it was
not, and what of a notebook was left out.
"""
import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .notebook import Converted, NotebookError, read_notebook, to_module

__all__ = ["Source", "NotebookError", "choose", "stage", "unfinished_parts"]


@dataclass
class Source:
    """The file one exercise is graded from, as the worker will import it."""
    exercise: str
    module: str                 # ex1_deeper_regnetx
    file: str | None = None     # the file graded, as the submission names it; None: none
    text: str | None = None     # the module's code (a notebook's, converted)
    converted: Converted | None = None  # for a notebook: cells, lines, what was left out
    error: str | None = None    # why it cannot be graded (a notebook that is not one)
    passed_over: str | None = None  # the other file, and why it was not graded

    def describe(self):
        """What the report says of it (JSON)."""
        out = {"file": self.file, "kind": "notebook" if self.converted else "module"}
        if self.converted:
            out.update(left_out=self.converted.left_out, notes=self.converted.notes)
        if self.passed_over:
            out["not_graded"] = self.passed_over
        if self.error:
            out["error"] = self.error
        return out

    def locate(self, text):
        """``text`` with ``(ex1_deeper_regnetx.py, line N ...)`` pointing into the notebook."""
        if not self.converted or not isinstance(text, str):
            return text

        def cell(m):
            where = self.converted.where(int(m.group(1)))
            return f"({self.file}, {where}" if where else m.group(0)
        return re.sub(rf"\({re.escape(self.module)}\.py, line (\d+)", cell, text)


def unfinished_parts(code):
    """How many of the stubs' ``raise NotImplementedError("Exercise ...")`` ``code`` holds."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return 0
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func, args = node.exc.func, node.exc.args
            if (isinstance(func, ast.Name) and func.id == "NotImplementedError" and args
                    and _text(args[0]).startswith("Exercise ")):
                count += 1
    return count


def _text(node):
    """A string constant, or the implicit concatenation of several; else ''."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return ""


def _read(exercise, module, path):
    """A Source for one file (a notebook converted), or one with the reason it cannot be."""
    if path.suffix == ".py":
        return Source(exercise, module, path.name, path.read_text(encoding="utf-8",
                                                                  errors="replace"))
    try:
        converted = to_module(read_notebook(path.read_bytes(), path.name), path.name)
    except NotebookError as e:
        return Source(exercise, module, path.name, error=str(e))
    return Source(exercise, module, path.name, converted.text, converted)


def choose(folder, exercises):
    """``{exercise id: Source}`` for ``{exercise id: module name}`` in ``folder``."""
    folder, chosen = Path(folder), {}
    for ex, module in exercises.items():
        found = [folder / f"{module}{ext}" for ext in (".py", ".ipynb")]
        found = [p for p in found if p.is_file() and not p.is_symlink()]
        if not found:
            chosen[ex] = Source(ex, module)
            continue
        sources = [_read(ex, module, p) for p in found]
        if len(sources) == 1:
            chosen[ex] = sources[0]
            continue
        py, nb = sources
        left = {s.file: (float("inf") if s.error else unfinished_parts(s.text))
                for s in sources}
        best, other = (nb, py) if left[nb.file] < left[py.file] else (py, nb)
        best.passed_over = (f"{other.file} was not graded: " + (
            f"it cannot be read ({other.error})" if other.error else
            f"it has {left[other.file]} unfinished part(s), {best.file} {left[best.file]}"
            if left[other.file] != left[best.file] else
            f"both files are {'finished' if not left[best.file] else 'equally unfinished'}, "
            "and then the .py is graded"))
        chosen[ex] = best
    return chosen


def stage(folder, dest, exercises):
    """Copy what the worker imports into the new folder ``dest``: the submission's other
    ``.py`` files and each exercise's chosen module; return ``choose``'s answer."""
    from ..sandbox import copy_python_files
    dest = Path(dest)
    sources = choose(folder, exercises)
    copy_python_files(folder, dest)
    for s in sources.values():
        target = dest / f"{s.module}.py"
        if s.text is not None:
            target.write_text(s.text, encoding="utf-8")
        elif target.exists():  # nothing gradable: the worker must not import a stale copy
            target.unlink()
    return sources


def remove(folder):
    shutil.rmtree(folder, ignore_errors=True)
