"""Generate the student stubs in exercises/ from the reference solutions in solutions/.

The solutions are the single source: every exercise module in exercises/ is its solution
with the answers cut out, so the two cannot drift apart. Markers, as in Otter-Grader and
nbgrader:

``# STUB: <message>``
    One or more lines right above ``# BEGIN SOLUTION``, at its indentation. Joined, they
    are the message of the ``NotImplementedError`` the stub raises: what to write, and
    the section of the chapter that explains it (it must name one, e.g. ``d2l 8.8.1``).
``# BEGIN SOLUTION`` ... ``# END SOLUTION``
    Lines inside a function body; the stub has ``raise NotImplementedError(<message>)``
    in their place. Choices a student makes (an architecture, a constant) live inside a
    function too (e.g. ``__init__``), so a stub module always imports without raising.
``# %% [markdown] tags=["solution"]`` (or any cell whose tags include ``solution``)
    A whole notebook cell, such as the discussion of a result, kept only in solutions/.
``# %% tags=["setup"]``
    The setup cell, second in every notebook (after the exercise's text): written by this
    script into solutions/ and exercises/ from ``regnetlab/project.py`` (see
    ``setup_cell``), so that a notebook opened in Colab installs regnetlab and its data.

Each stub is written twice: ``exN_*.py`` (the percent script students edit and the grader
imports) and ``exN_*.ipynb`` (the same notebook, which Colab opens from the repository).

Usage: ``python scripts/make_stubs.py`` (or ``python -m regnetlab.stubs``) writes exercises/; ``--check`` writes nothing and
exits 1, naming each file, when exercises/ is not what it would write.
"""
import argparse
import ast
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .project import ROOT

STUB = re.compile(r"^(\s*)# STUB:(.*)$")
BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^(\s*)# END SOLUTION\s*$")
# Anything that looks like a marker but is not one exactly (a typo must not slip through).
MARKER_LIKE = re.compile(r"^\s*#\s*(BEGIN|END)\s+SOLUTION|^\s*#\s*STUB\b", re.IGNORECASE)
CELL = re.compile(r"^# %%")
SOLUTION_CELL = re.compile(r"^# %%.*\btags=\[[^\]]*[\"']solution[\"']")
CHAPTER_REF = re.compile(r"\bd2l \d+\.\d+")
LINE_WIDTH = 92


class MarkerError(ValueError):
    """A solution file whose markers cannot be turned into a stub."""


@dataclass(frozen=True)
class Block:
    """One ``BEGIN``/``END SOLUTION`` block: what a student must write, and where."""
    qualname: str   # the function it sits in, e.g. "DeAnyNet.stage"
    message: str    # the NotImplementedError message of the stub
    lineno: int     # line of ``# BEGIN SOLUTION`` in the solution (1-based)


def _functions(tree):
    """(qualname, node) of every function, with its enclosing classes and functions."""
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    out.append((name, child))
                visit(child, name + ".")
            else:
                visit(child, prefix)
    visit(tree, "")
    return out


def _enclosing_function(functions, lineno, indent):
    """Qualname of the innermost function whose body holds line ``lineno``, or None."""
    best = None
    for name, node in functions:
        inside = node.lineno < lineno <= node.end_lineno and indent > node.col_offset
        if inside and (best is None or node.lineno > best[1].lineno):
            best = (name, node)
    return best[0] if best else None


def _drop_solution_cells(lines):
    """The lines with every cell tagged ``solution`` removed, each kept with its number."""
    kept, dropping = [], False
    for n, line in enumerate(lines, 1):
        if CELL.match(line):
            dropping = bool(SOLUTION_CELL.match(line))
        if not dropping:
            kept.append((n, line))
    return kept


def _raise_lines(indent, message):
    """``raise NotImplementedError(...)`` with ``message`` wrapped to the line width."""
    chunks = textwrap.wrap(message, max(20, LINE_WIDTH - len(indent) - 8),
                           break_long_words=False, break_on_hyphens=False)
    chunks = [c + " " for c in chunks[:-1]] + chunks[-1:]
    body = "\n".join(f"{indent}    {c!r}" for c in chunks)
    return [f"{indent}raise NotImplementedError(\n{body})"]


def _parse(source, filename):
    """Blocks of ``source`` and the stub's lines; raises MarkerError on a bad marker."""
    try:
        functions = _functions(ast.parse(source, filename))
    except SyntaxError as e:
        raise MarkerError(f"{filename}:{e.lineno}: not valid Python: {e.msg}") from None
    blocks, out = [], []
    stub, begin = [], None  # pending STUB lines [(n, indent, text)]; open block (n, indent)
    for n, line in _drop_solution_cells(source.splitlines()):
        where = f"{filename}:{n}"
        m_stub, m_begin, m_end = STUB.match(line), BEGIN.match(line), END.match(line)
        if begin is not None:
            if m_end:
                if m_end.group(1) != begin[1]:
                    raise MarkerError(f"{where}: '# END SOLUTION' is indented differently "
                                      f"from its '# BEGIN SOLUTION' (line {begin[0]})")
                begin = None
            elif m_begin or m_stub:
                raise MarkerError(f"{where}: marker inside the solution block opened at "
                                  f"line {begin[0]}; expected '# END SOLUTION' first")
            elif line.strip() and not line.startswith(begin[1]):
                raise MarkerError(f"{filename}:{begin[0]}: '# BEGIN SOLUTION' not closed "
                                  f"by '# END SOLUTION' before line {n}, which is "
                                  "indented less")
            continue
        if m_stub:
            if stub and m_stub.group(1) != stub[0][1]:
                raise MarkerError(f"{where}: '# STUB:' line indented differently from "
                                  f"the one at line {stub[0][0]}")
            stub.append((n, m_stub.group(1), m_stub.group(2).strip()))
            continue
        if m_begin:
            indent = m_begin.group(1)
            if not stub:
                raise MarkerError(f"{where}: '# BEGIN SOLUTION' without '# STUB: <message>' "
                                  "line(s) right above it, at the same indentation")
            if stub[0][1] != indent:
                raise MarkerError(f"{where}: '# BEGIN SOLUTION' is indented differently "
                                  f"from its '# STUB:' line (line {stub[0][0]})")
            message = " ".join(t for _, _, t in stub if t)
            if not CHAPTER_REF.search(message):
                raise MarkerError(f"{filename}:{stub[0][0]}: the STUB message names no "
                                  "section of the chapter; expected e.g. 'd2l 8.8.1' in "
                                  f"{message!r}")
            qualname = _enclosing_function(functions, n, len(indent))
            if qualname is None:
                raise MarkerError(f"{where}: '# BEGIN SOLUTION' outside a function body: "
                                  "the stub would raise when the module is imported; put "
                                  "the choice inside a function (e.g. __init__)")
            blocks.append(Block(qualname, message, n))
            out.extend(_raise_lines(indent, message))
            stub, begin = [], (n, indent)
            continue
        if m_end:
            raise MarkerError(f"{where}: '# END SOLUTION' without a '# BEGIN SOLUTION'")
        if stub:
            raise MarkerError(f"{filename}:{stub[0][0]}: '# STUB:' line(s) not followed by "
                              "'# BEGIN SOLUTION'")
        if MARKER_LIKE.match(line):
            raise MarkerError(f"{where}: unrecognised marker {line.strip()!r}; expected "
                              "exactly '# STUB: <message>', '# BEGIN SOLUTION' or "
                              "'# END SOLUTION'")
        out.append(line)
    if begin is not None:
        raise MarkerError(f"{filename}:{begin[0]}: '# BEGIN SOLUTION' not closed by "
                          "'# END SOLUTION' before the end of the file")
    if stub:
        raise MarkerError(f"{filename}:{stub[0][0]}: '# STUB:' line(s) at the end of the "
                          "file, not followed by '# BEGIN SOLUTION'")
    return blocks, out


def solution_blocks(source, filename="<solution>"):
    """The blocks a student must write in ``source`` (a solution module's text)."""
    return _parse(source, filename)[0]


def make_stub(source, filename="<solution>"):
    """The student stub for a solution module's text ``source``."""
    _, lines = _parse(source, filename)
    # Say where the file comes from in its first code cell (a comment, not a cell of its own).
    note = [f"# Generated from solutions/{Path(filename).name} by scripts/make_stubs.py.",
            "# Students: fill in every part that raises NotImplementedError."]
    for i, line in enumerate(lines):
        if line.rstrip() == "# %%":
            lines[i + 1:i + 1] = note
            break
    stub = "\n".join(lines) + "\n"
    try:
        ast.parse(stub, filename)
    except SyntaxError as e:  # e.g. a block that was a function's whole body and more
        raise MarkerError(f"{filename}: the generated stub is not valid Python "
                          f"(stub line {e.lineno}: {e.msg})") from None
    return stub


# Answer lines that also stand, word for word, in the library every student has (the
# solutions build on it). Reviewed one by one: the release's leak check and
# tests/test_release.py do not count them as giving an answer away.
SHARED_LINES = frozenset({
    "return nn.Sequential(*blk)",                  # regnetlab/anynet.py, AnyNet.stage
    "stem_channels, groups, bot_mul = 32, 16, 1",  # regnetlab/anynet.py, RegNetX32
    "return F.relu(Y + X)",                        # regnetlab/blocks.py, the blocks' forward
    "`autograder/CALIBRATION.md`.",                # a file name at the end of a sentence
})
MIN_SECRET_CHARS = 12


def answer_lines(source):
    """The stripped lines of a solution's answers: its BEGIN/END SOLUTION blocks and its
    cells tagged ``solution`` (their markdown without the leading ``#``)."""
    out, inside, in_cell = [], False, False
    for line in source.splitlines():
        if CELL.match(line):
            in_cell = bool(SOLUTION_CELL.match(line))
            continue
        if BEGIN.match(line) or END.match(line):
            inside = bool(BEGIN.match(line))
            continue
        if in_cell:
            out.append(line.lstrip("#").strip())
        elif inside:
            out.append(line.strip())
    return out


def secret_lines(solutions_dir):
    """Answer lines that must not be released: at least MIN_SECRET_CHARS long, in no stub
    (the hints and given code students get anyway), not in SHARED_LINES."""
    sources = {p: p.read_text(encoding="utf-8")
               for p in sorted(Path(solutions_dir).glob("ex*.py"))}
    stubs = "\n".join(make_stub(text, str(p)) for p, text in sources.items())
    return sorted({line for text in sources.values() for line in answer_lines(text)
                   if len(line) >= MIN_SECRET_CHARS and re.search(r"\w", line)
                   and line not in stubs and line not in SHARED_LINES})


SETUP_CELL = re.compile(r"^# %%.*\btags=\[[^\]]*[\"']setup[\"']")


def _project():
    """regnetlab/project.py, loaded by path (importing regnetlab would import torch)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("_regnetlab_project",
                                                  ROOT / "regnetlab" / "project.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def setup_cell():
    """The notebook's setup cell: where regnetlab is missing (Colab), it pip-installs it
    from the repository set in regnetlab/project.py (or ``$REGNETLAB_INSTALL``) and
    fetches Fashion-MNIST; where it is installed, it only checks the data."""
    spec = _project().install_spec()
    return f"""\
# %% tags=["setup"]
# Setup: run this cell first. Where regnetlab is missing (Colab), it installs it from the
# course repository and fetches Fashion-MNIST (30 MB) into ~/.cache; in a clone whose
# .venv has it, it only checks the data. (It does nothing when the grader imports this.)
if __name__ == "__main__":
    import importlib, importlib.util, os, subprocess, sys

    if importlib.util.find_spec("regnetlab") is None:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", os.environ.get(
            "REGNETLAB_INSTALL", {spec!r})])
        importlib.invalidate_caches()
    from regnetlab.data import load_split, resolve_root

    load_split(train=True)
    print("regnetlab is ready; Fashion-MNIST in", resolve_root()[0])
"""


def with_setup_cell(source):
    """``source`` with the setup cell right after its first cell (the exercise's text),
    replacing any setup cell already there."""
    lines = source.splitlines(keepends=True)
    kept, skipping = [], False
    for line in lines:
        if CELL.match(line):
            skipping = bool(SETUP_CELL.match(line))
        if not skipping:
            kept.append(line)
    cells = [i for i, line in enumerate(kept) if CELL.match(line)]
    at = cells[1] if len(cells) > 1 else len(kept)
    return "".join(kept[:at] + [setup_cell(), "\n"] + kept[at:])


def notebook(text):
    """The stub as a .ipynb, for Colab (which opens notebooks, not percent scripts).

    The metadata is fixed here, not jupytext's, so that the file does not change with
    the jupytext version and ``--check`` stays stable."""
    import jupytext
    nb = jupytext.reads(text, fmt="py:percent")
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python",
                                  "name": "python3"},
                   "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("lines_to_next_cell", None)
        cell["id"] = f"cell-{i}"  # nbformat draws random ids otherwise
    return jupytext.writes(nb, fmt="ipynb")


def expected_exercises(solutions_dir):
    """{file name: text} of everything the generator writes into exercises/: each stub as
    a percent script and, for Colab, as a notebook."""
    files = {}
    for path in sorted(Path(solutions_dir).glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name.startswith("ex"):   # the exercise notebooks get the setup cell
            text = with_setup_cell(text)
        files[path.name] = text if path.name == "__init__.py" else make_stub(text, str(path))
        if path.name.startswith("ex"):
            files[path.with_suffix(".ipynb").name] = notebook(files[path.name])
    return files


def stale_setup_cells(solutions_dir):
    """{path: text with the current setup cell} of each solution whose cell is not it."""
    out = {}
    for path in sorted(Path(solutions_dir).glob("ex*.py")):
        text = path.read_text(encoding="utf-8")
        if with_setup_cell(text) != text:
            out[path] = with_setup_cell(text)
    return out


def out_of_sync(solutions_dir, exercises_dir):
    """Lines naming each file of exercises/ that differs from what would be generated."""
    expected = expected_exercises(solutions_dir)
    problems = []
    for name, text in expected.items():
        path = Path(exercises_dir) / name
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: differs from the stub generated from "
                            f"{Path(solutions_dir) / name}")
    for path in stale_setup_cells(solutions_dir):
        problems.append(f"{path}: its setup cell is not the one regnetlab/project.py makes")
    for path in sorted([*Path(exercises_dir).glob("*.py"), *Path(exercises_dir).glob("*.ipynb")]):
        if path.name not in expected:
            problems.append(f"{path}: has no solution in {solutions_dir}")
    return problems


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if exercises/ is out of sync")
    p.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    p.add_argument("--exercises", type=Path, default=ROOT / "exercises")
    args = p.parse_args(argv)
    try:
        if args.check:
            problems = out_of_sync(args.solutions, args.exercises)
            for line in problems:
                print(f"make_stubs: out of sync: {line}", file=sys.stderr)
            if problems:
                print("make_stubs: run `python scripts/make_stubs.py` to regenerate",
                      file=sys.stderr)
            return 1 if problems else 0
        files = expected_exercises(args.solutions)
        for path, text in stale_setup_cells(args.solutions).items():
            path.write_text(text, encoding="utf-8")   # only its setup cell changes
            print(f"make_stubs: wrote the setup cell of {path}")
    except MarkerError as e:
        print(f"make_stubs: error: {e}", file=sys.stderr)
        return 2
    args.exercises.mkdir(exist_ok=True)
    for name, text in files.items():
        path = args.exercises / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"make_stubs: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
