"""Every Python example the site shows runs, and prints or raises what its text says.

An example is a ```python block of a page under docs/ (included files, ``--8<--``, are
tested where they live). A page's blocks run in order in one namespace, as a reader
would type them. A statement whose comment says ``prints: TEXT`` must print TEXT; one
whose comment says ``raises: NAME`` must raise that exception (and nothing else may).
Blocks that train a network (``.fit(``) are the book's full listings: the training
page times them, and tests/test_book_listings.py runs the book's code; they are left
out here, and the test says so by name.
"""
import ast
import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
CLAIM = re.compile(r"#.*?\b(prints|raises):\s*(.+?)\s*$")
TRAINS = ".fit("


def blocks(page):
    return [b for b in FENCE.findall(page.read_text()) if "--8<--" not in b]


def pages():
    return sorted(p for p in DOCS.rglob("*.md") if "snippets" not in p.parts and blocks(p))


def claims(source):
    """{line number: (kind, text)} of the ``prints:`` / ``raises:`` comments."""
    return {i: m.groups() for i, line in enumerate(source.splitlines(), 1)
            if (m := CLAIM.search(line))}


ERROR_WORD = re.compile(r"#.*\b\w+(?:Error|Exception)\b")


def run_block(source, namespace, where):
    """Run each top-level statement, checking the claim on its lines."""
    said = claims(source)
    for i, line in enumerate(source.splitlines(), 1):
        # an exception named in a comment is a claim, so it must be one we check
        assert not (ERROR_WORD.search(line) and said.get(i, ("",))[0] != "raises"), \
            f"{where} line {i}: names an exception without 'raises: NAME': {line.strip()}"
    tree = ast.parse(source)
    checked = set()
    for stmt in tree.body:
        lines = range(stmt.lineno, stmt.end_lineno + 1)
        claim = next((said[i] for i in lines if i in said), None)
        code = compile(ast.Module([stmt], []), where, "exec")
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(code, namespace)
        except Exception as e:
            assert claim and claim[0] == "raises", \
                f"{where} line {stmt.lineno}: raised {type(e).__name__}: {e}"
            assert type(e).__name__ == claim[1].split()[0].rstrip(":"), \
                f"{where} line {stmt.lineno}: raised {type(e).__name__}, says {claim[1]}"
        else:
            assert not (claim and claim[0] == "raises"), \
                f"{where} line {stmt.lineno}: says it raises {claim[1]}, but returned"
            if claim:
                assert claim[1] in " ".join(out.getvalue().split()), \
                    f"{where} line {stmt.lineno}: says it prints {claim[1]!r}, printed " \
                    f"{out.getvalue()[-300:]!r}"
        if claim:
            checked.add(claim)
    return checked


def test_the_claim_parser_sees_prints_and_raises():
    src = "x = 1  # prints: 1\ny = 2\nz()  # the call raises: NameError\n"
    assert claims(src) == {1: ("prints", "1"), 3: ("raises", "NameError")}
    ns = {}
    with pytest.raises(AssertionError, match="says it prints"):
        run_block("print(2)  # prints: 3\n", ns, "t")
    with pytest.raises(AssertionError, match="says it raises"):
        run_block("print(2)  # raises: RuntimeError\n", ns, "t")
    with pytest.raises(AssertionError, match="raised ZeroDivisionError"):
        run_block("1 / 0\n", ns, "t")
    assert run_block("int('x')  # raises: ValueError\n", ns, "t") == {("raises", "ValueError")}
    # the traps page's old claim, in words only, is refused rather than ignored
    with pytest.raises(AssertionError, match="without 'raises: NAME'"):
        run_block("len([])  # RuntimeError: ... would do nothing\n", ns, "t")


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_example_on_the_page_runs_as_its_text_says(page):
    import regnetlab as d2l

    namespace = {"__name__": "__docs_example__", "d2l": d2l}
    ran, left_out = 0, []
    for k, source in enumerate(blocks(page), 1):
        where = f"{page.relative_to(ROOT)} example {k}"
        if TRAINS in source:
            left_out.append(where)
            continue
        run_block(source, namespace, where)
        ran += 1
    assert ran, f"{page}: every example was left out ({left_out})"


def test_the_traps_page_example_shows_the_deferred_init():
    """The traps page's example makes claims, and they hold (it once said a RuntimeError)."""
    src = next(b for b in blocks(DOCS / "chapter/traps.md") if "init_cnn" in b)
    found = run_block(src, {}, "traps")
    assert ("prints", "LazyLinear") in found and ("prints", "Linear (10, 5)") in found
    assert not any(kind == "raises" for kind, _ in found)
