"""The parts of an exercise page that come from other files, so they cannot drift.

An exercise stub (``exercises/exN_*.py``, generated from ``solutions/`` by
``scripts/make_stubs.py``) opens with one markdown cell laid out as

    # Exercise N: title
    > the book's question ...
    **What you write.** ...
    **What the autograder checks.** ...
    **Hints** (each one gives away a little more).
    1. ...
    2. ...

``stub_parts`` splits that cell; ``hints_markdown`` turns the numbered hints into nested
collapsible blocks, so that a hint can be opened only from inside the one before it.
The rubric (tests and points) is read from the grader by ``rubric_markdown``.
"""
import functools
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jupytext

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

CHECKS = "**What the autograder checks.**"
HINTS = re.compile(r"^\*\*Hints\*\*.*$", re.M)
ITEM = re.compile(r"^(\d+)\.\s+(.*)$")


class SourceError(ValueError):
    """A file the docs read (a stub, the grader) is not as this module expects."""


@dataclass(frozen=True)
class StubParts:
    title: str    # the H1 line, without "# "
    intro: str    # the question, context and "What you write" (markdown)
    checks: str   # the "What the autograder checks" paragraph, without its label
    hints: tuple  # the numbered hints, each as markdown


def stub_parts(path):
    """Split the first markdown cell of a jupytext stub into its parts."""
    path = Path(path)
    cells = jupytext.read(path).cells
    if not cells or cells[0].cell_type != "markdown":
        raise SourceError(f"{path}: expected a first markdown cell with the exercise text")
    text = cells[0].source
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# "):
        raise SourceError(f"{path}: the first cell should start with '# Exercise N: ...'")
    hints_at = HINTS.search(text)
    if CHECKS not in text or hints_at is None:
        raise SourceError(f"{path}: expected the sections {CHECKS!r} and '**Hints**' "
                              "in the first cell")
    body = "\n".join(lines[1:])
    intro, rest = body.split(CHECKS, 1)
    checks = rest[:rest.index("**Hints**")].strip()
    return StubParts(lines[0][2:].strip(), intro.strip(), checks,
                     _numbered_items(text[hints_at.end():], path))


SCORE = "## Get your score"


def score_steps(path):
    """The stub's "Get your score" cell (Jupyter and Colab), without its heading."""
    path = Path(path)
    for cell in jupytext.read(path).cells:
        if cell.cell_type == "markdown" and cell.source.startswith(SCORE):
            return cell.source[len(SCORE):].strip()
    raise SourceError(f"{path}: expected a markdown cell starting {SCORE!r}")


def _numbered_items(text, path):
    items = []
    for line in text.splitlines():
        m = ITEM.match(line)
        if m:
            items.append([m.group(2)])
        elif items and (not line.strip() or line.startswith("   ")):
            items[-1].append(line[3:])
        elif line.strip():
            break
    if not items:
        raise SourceError(f"{path}: no numbered hints after '**Hints**'")
    return tuple("\n".join(i).strip() for i in items)


def hints_markdown(hints):
    """Nested ``??? tip`` blocks: hint k+1 sits inside hint k (pymdownx.details)."""
    out = []
    for k, hint in enumerate(hints):
        pad = "    " * k
        out.append(f'{pad}??? tip "Hint {k + 1} of {len(hints)}"')
        out += [f"{pad}    {line}" if line.strip() else "" for line in hint.splitlines()]
        out.append("")
    return "\n".join(out)


@functools.lru_cache(maxsize=None)
def grader_facts():
    """The grader's rubric and options, collected in a child process (see grader_facts.py)."""
    done = subprocess.run([sys.executable, str(HERE / "grader_facts.py")], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SourceError("docs/hooks/grader_facts.py could not read the grader:\n"
                              + (done.stderr or done.stdout)[-3000:])
    return json.loads(done.stdout)


def _pts(x):
    return f"{x:g}"


def rubric_markdown(ex_id):
    """The exercise's rubric lines and points, as the grader declares them."""
    tests = [t for t in grader_facts()["tests"] if t["exercise"] == ex_id]
    if not tests:
        raise SourceError(f"the grader has no tests marked exercise({ex_id!r})")
    rows = ["| Check (as the grader reports it) | Points |", "|:---|---:|"]
    # The grader prefixes each line with its exercise ("ex1: ..."); the page says it once.
    prefix = re.compile(rf"^{ex_id}:\s*")
    rows += [f"| {_cell(prefix.sub('', t['name']))} | {_pts(t['points'])} |" for t in tests]
    rows.append(f"| **Total** | **{_pts(sum(t['points'] for t in tests))}** |")
    return "\n".join(rows) + "\n"


def rubric_summary_markdown():
    """Points per exercise, and the total, as the grader declares them."""
    per = {}
    for t in grader_facts()["tests"]:
        n, p = per.get(t["exercise"], (0, 0.0))
        per[t["exercise"]] = (n + 1, p + t["points"])
    rows = ["| Exercise | Checks | Points |", "|:---|---:|---:|"]
    rows += [f"| {ex} | {n} | {_pts(p)} |" for ex, (n, p) in sorted(per.items())]
    rows.append(f"| **Total** | **{sum(n for n, _ in per.values())}** | "
                f"**{_pts(sum(p for _, p in per.values()))}** |")
    return "\n".join(rows) + "\n"


def options_markdown():
    """The options of ``regnetlab grade``, from its own argument parser."""
    rows = ["| Option | What it does | Default |", "|:---|:---|:---|"]
    for o in grader_facts()["options"]:
        flag = ", ".join(o["flags"]) + (f" {o['metavar']}" if o["metavar"] else "")
        default = "" if o["default"] is None else f"`{o['default']}`"
        rows.append(f"| `{flag}` | {_cell(o['help'])} | {default} |")
    return "\n".join(rows) + "\n"


def tiers_markdown():
    """The training tiers' budgets and calibrated thresholds, from the grader's files."""
    tiers = grader_facts()["tiers"]
    rows = ["| Tier | Training images | Test images | Image size | Epochs | Batch |",
            "|:---|---:|---:|---:|---:|---:|"]
    for t in tiers:
        n_train = "all" if t["limit_train"] is None else f"{t['limit_train']:,}"
        n_test = "all" if t["limit_test"] is None else f"{t['limit_test']:,}"
        rows.append(f"| `{t['name']}` | {n_train} | {n_test} | {t['image_size']}x"
                    f"{t['image_size']} | {t['epochs']} | {t['batch_size']} |")
    models = sorted({m for t in tiers for m in t["thresholds"]})

    def head(t):
        derived = f" (derived from `{t['derived_from']}`)" if t["derived_from"] else ""
        return f"`{t['name']}` threshold{derived}"

    rows += ["", "| Model | " + " | ".join(head(t) for t in tiers) + " |",
             "|:---|" + "---:|" * len(tiers)]
    for m in models:
        rows.append(f"| `{m}` | " + " | ".join(
            _threshold(t["thresholds"][m]) if m in t["thresholds"] else "not calibrated"
            for t in tiers) + " |")
    return "\n".join(rows) + "\n"


MEASURE_WORDS = {"test_acc": "test accuracy", "loss_drop": "held-out loss drop"}


def _threshold(value):
    """``{"loss_drop": 0.5}`` -> ``held-out loss drop >= 0.50``; a bare number is accuracy."""
    items = value.items() if isinstance(value, dict) else [("test_acc", value)]
    return ", ".join(f"{MEASURE_WORDS.get(k, k)} >= {v:.2f}" for k, v in items)


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")
