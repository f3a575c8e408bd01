"""A Jupyter notebook read as the module it defines, in the trusted grading process.

The notebook is parsed as JSON with caps and its code cells as Python syntax trees: no
code of it runs here. What comes out is the module text the sandboxed worker imports,
the way a ``.py`` stub is imported:

- only code cells count; IPython syntax (``!pip install ...``, ``%matplotlib inline``,
  ``x?``, ``files = !ls``) is left out with a note, never a syntax error; in a ``%%time``
  (``%%timeit``, ``%%capture``) cell the Python under the magic is kept, any other cell
  magic (``%%bash`` ...) leaves its cell out;
- of the top-level statements only definitions run when graded: imports, ``def`` and
  ``class``, assignments of plain values (literals, containers, and calls of a few
  builtins such as ``dict`` or ``range``), and ``if``/``try`` blocks made only of those.
  Anything else (``trainer.fit(model, data)``, ``model = RegNetX32()``,
  ``model.layer_summary(...)``, loops, the ``if __name__ == "__main__":`` block) is left
  out and listed by cell and line, just as ``if __name__ == "__main__":`` keeps a ``.py``
  stub's demo from running when the grader imports it;
- every line of the module knows its cell and line, so an error in the student's code
  is reported as ``cell 5, line 3``.

Cells are numbered as the notebook shows them, from 1, counting text cells too.
"""
import ast
import json
import re
from dataclasses import dataclass, field

MAX_NOTEBOOK_BYTES = 32 * 2 ** 20   # outputs (figures) make a notebook large; code is small
MAX_CELLS = 2000
KEEP_BODY_MAGICS = {"time", "timeit", "capture", "prun"}  # their body is Python
SAFE_CALLS = {"dict", "list", "tuple", "set", "frozenset", "range", "zip", "enumerate",
              "sorted", "reversed", "int", "float", "str", "bool", "len", "min", "max",
              "sum", "abs", "round", "pow", "map", "filter", "slice"}


class NotebookError(ValueError):
    """A notebook that cannot be read as code; the message names the file and says why."""


@dataclass
class Converted:
    """A notebook's code as one module: its text, where each line came from, and notes."""
    text: str
    lines: list                                    # module line i+1 -> (cell, line) or None
    left_out: list = field(default_factory=list)   # "cell 7, line 1: `trainer.fit(...)`"
    notes: list = field(default_factory=list)      # IPython syntax removed, cells skipped

    def where(self, line):
        """``"cell C, line L"`` for a line of the module, or None."""
        if 1 <= line <= len(self.lines) and self.lines[line - 1]:
            cell, at = self.lines[line - 1]
            return f"cell {cell}, line {at}"
        return None


def read_notebook(raw, filename):
    """``[(cell number, source)]`` of the code cells of notebook bytes ``raw``."""
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{filename}: {len(raw):,} bytes; notebooks over "
                            f"{MAX_NOTEBOOK_BYTES // 2 ** 20} MiB are not read (clear "
                            "large outputs: Edit > Clear all outputs)")
    try:
        nb = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NotebookError(f"{filename}: not a Jupyter notebook (not JSON: {e})") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise NotebookError(f"{filename}: no list of cells; expected a Jupyter notebook "
                            "(nbformat 4, as Jupyter and Colab save it)")
    if len(cells) > MAX_CELLS:
        raise NotebookError(f"{filename}: {len(cells)} cells; at most {MAX_CELLS} are read")
    code = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{filename}: cell {number} has no text source (expected "
                                "a string or a list of strings)")
        code.append((number, source))
    return code


def to_module(cells, filename, skip_broken=False):
    """One module from ``[(cell number, source)]``; see the module's docstring.

    A cell that is not Python even without its IPython syntax raises NotebookError
    naming the cell and line, or, with ``skip_broken`` (a kernel's history, where such a
    cell defined nothing either), is left out with a note.
    """
    text, lines, left_out, notes = [], [], [], []
    for number, source in cells:
        kept = _cell(number, source, left_out, notes, filename, skip_broken)
        for at, line in enumerate(kept, 1):
            text.append(line)
            lines.append((number, at))
        text.append("")  # cells apart, as a reader sees them
        lines.append(None)
    return Converted("\n".join(text) + "\n", lines, left_out, notes)


def _cell(number, source, left_out, notes, filename, skip_broken):
    """The cell's lines as they run when graded (left-out lines blank, so lines keep
    their numbers)."""
    lines = source.splitlines()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        lines = _without_ipython(number, lines, notes)
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError as e:
            where = f"cell {number}, line {e.lineno}" if e.lineno else f"cell {number}"
            if skip_broken:
                notes.append(f"{where}: not Python ({e.msg}); left out")
                return []
            raise NotebookError(f"{filename}, {where}: SyntaxError: {e.msg}") from None
    out = list(lines)
    for stmt in tree.body:
        if _runs_when_graded(stmt):
            continue
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        for i in range(first - 1, stmt.end_lineno):
            out[i] = ""
        if not (isinstance(stmt, ast.If) and _is_main_guard(stmt.test)):  # as in a .py
            left_out.append(f"cell {number}, line {first}: `{_excerpt(lines[first - 1])}`")
    shared = _shared_lines(tree)
    for i in shared:  # a line holding statements kept and left out: keep the kept ones
        kept = [ast.get_source_segment("\n".join(lines), s) for s in tree.body
                if s.lineno == s.end_lineno == i + 1 and _runs_when_graded(s)]
        out[i] = "; ".join(kept)
    return out


def _shared_lines(tree):
    by_line = {}
    for s in tree.body:
        if s.lineno == s.end_lineno:
            by_line.setdefault(s.lineno - 1, []).append(_runs_when_graded(s))
    return [i for i, kinds in by_line.items() if len(kinds) > 1 and len(set(kinds)) > 1]


def _without_ipython(number, lines, notes):
    """The cell with IPython-only lines replaced by ``pass`` (indentation kept)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].lstrip()[2:].split(maxsplit=1)[0] if lines[first].strip() != "%%" else ""
        if magic not in KEEP_BODY_MAGICS:
            notes.append(f"cell {number}: a %%{magic} cell (not Python); left out")
            return []
        notes.append(f"cell {number}, line {first + 1}: IPython `%%{magic}` removed")
        lines = list(lines)
        lines[first] = ""
    out = []
    for at, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            out.append(line)
        elif (stripped.startswith(("!", "%", "?")) or stripped.endswith("?")
                or re.match(r"^[\w.]+\s*=\s*[!%]", stripped)):
            notes.append(f"cell {number}, line {at}: IPython `{_excerpt(stripped)}` removed")
            out.append(line[:len(line) - len(line.lstrip())] + "pass")
        else:
            out.append(line)
    return out


def _runs_when_graded(stmt):
    """Whether a top-level statement is a definition (see the module's docstring)."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef, ast.Pass)):
        return True
    if isinstance(stmt, ast.Expr):  # a docstring or a bare string
        return isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return stmt.value is None or _plain(stmt.value)
    if isinstance(stmt, ast.If):
        if _is_main_guard(stmt.test):
            return False
        return _plain(stmt.test) and all(map(_runs_when_graded, stmt.body + stmt.orelse))
    if isinstance(stmt, ast.Try):
        return all(map(_runs_when_graded, stmt.body + stmt.orelse + stmt.finalbody
                       + [s for h in stmt.handlers for s in h.body]))
    return False


def _plain(node):
    """An expression that calls nothing but a few builtins (a lambda's body runs later)."""
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return False
        if isinstance(n, ast.Call) and not (isinstance(n.func, ast.Name)
                                            and n.func.id in SAFE_CALLS):
            return False
        if isinstance(n, ast.Lambda):
            todo.extend(d for d in n.args.defaults + n.args.kw_defaults if d is not None)
            continue
        todo.extend(ast.iter_child_nodes(n))
    return True


def _is_main_guard(test):
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _excerpt(line, width=60):
    line = line.strip()
    return line if len(line) <= width else line[:width - 3] + "..."
