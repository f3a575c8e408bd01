"""``regnetlab.check("ex1")``: a grade inside the notebook, from the student's own kernel.

This runs in the student's process (a Jupyter or Colab kernel), so it measures nothing
itself: it writes the code to grade into a private folder and starts ``regnetlab grade``
on it, a separate process, which grades exactly as it does for the instructor (the same
intake, sandbox, measurement and points). What it grades:

- the code this kernel has run, cell by cell in the order it ran (``In [1]``, ``In [2]``
  ...; a cell run twice counts as it ran last), so "cell 5" in a message means ``In [5]``;
- or, outside a kernel, the ``exN_*.py`` / ``.ipynb`` files in the current folder;
- or the saved notebook given as ``notebook=PATH``.

Structure lines take seconds; ``train=True`` adds the short training runs (minutes on a
CPU), with a progress bar. The tier is the grader's default: the GPU tier where the
runtime has a GPU (Colab's GPU runtimes), else the CPU tier; the table says which.
"""
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CheckResult:
    """The rubric for the exercises checked: shown as a table in the notebook."""
    score: float
    max_score: float
    rows: list                      # (exercise, rubric line, points text, status, message)
    tier: str
    device: str
    source: str                     # what was graded, in words
    seconds: float
    notes: list = field(default_factory=list)

    def _header(self):
        return (f"regnetlab.check: {self.score:g}/{self.max_score:g} points "
                f"({self.tier} tier on {self.device}, {self.seconds:.0f} s); graded from "
                f"{self.source}")

    def __str__(self):
        lines = [self._header(), ""]
        for ex, name, pts, status, message in self.rows:
            lines.append(f"{status.upper():4.4}  {ex}  {pts:>7}  {name}")
            if message:
                lines.append(f"        -> {message}")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    __repr__ = __str__

    def show(self):
        """Display the table: HTML in Jupyter and Colab, plain text elsewhere."""
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            display(self)
        else:
            print(self)

    def _repr_html_(self):
        colour = {"passed": "#1b7f3b", "failed": "#b3261e", "skipped": "#777"}
        body = "".join(
            f"<tr><td style='color:{colour.get(status, '#000')}'>{html.escape(status)}</td>"
            f"<td>{html.escape(ex)}</td><td>{html.escape(name)}</td>"
            f"<td style='text-align:right'>{html.escape(pts)}</td>"
            f"<td>{html.escape(message)}</td></tr>"
            for ex, name, pts, status, message in self.rows)
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<p><b>{html.escape(self._header())}</b></p>"
                "<table><thead><tr><th>status</th><th>exercise</th><th>rubric line</th>"
                f"<th>points</th><th>why</th></tr></thead><tbody>{body}</tbody></table>"
                + (f"<ul>{notes}</ul>" if notes else ""))


def check(exercise=None, train=False, notebook=None, tier="auto", timeout=None):
    """Grade ``exercise`` ("ex1" ... ; None: all) and return the rubric as a table."""
    from .exercises import EXERCISES
    wanted = list(EXERCISES) if exercise is None else [exercise]
    unknown = [e for e in wanted if e not in EXERCISES]
    if unknown:
        raise ValueError(f"check({unknown[0]!r}): expected one of {', '.join(EXERCISES)}")
    work = Path(tempfile.mkdtemp(prefix="regnetlab-check-"))
    try:
        folder, source = _submission(work, {e: EXERCISES[e] for e in wanted}, notebook)
        report = _grade(folder, wanted, train, tier, work, timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _result(report, source)


def _history():
    """The cells this IPython kernel has run, ``[(execution number, source)]``, or None."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or not getattr(shell, "history_manager", None):
        return None
    return list(enumerate(shell.history_manager.input_hist_raw))[1:]


def _submission(work, modules, notebook):
    """The folder to grade and a sentence on where its code came from."""
    folder = work / "submission"
    folder.mkdir()
    if notebook is not None:
        path = Path(notebook)
        if not path.is_file():
            raise FileNotFoundError(f"notebook={notebook!r}: no such file")
        for module in modules.values():
            shutil.copyfile(path, folder / f"{module}{path.suffix}")
        return folder, path.name
    cells = _history()
    if cells is not None:
        # one notebook cell per execution, In [n] as cell n (numbers from 1, as read)
        nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
              "cells": [{"cell_type": "code", "metadata": {}, "source": source,
                         "outputs": [], "execution_count": n} for n, source in cells]}
        for module in modules.values():
            (folder / f"{module}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
        return folder, (f"the code this kernel has run (In [1] to In [{len(cells)}]; "
                        "cell N in a message is In [N])")
    from .intake.archives import SubmissionError, exercise_folder
    try:
        here = exercise_folder(Path.cwd())
    except SubmissionError as e:
        raise FileNotFoundError(f"check(): not in a notebook, and {e}") from None
    shutil.rmtree(folder)
    return here, f"the files in {here}"


def _grade(folder, wanted, train, tier, work, timeout):
    out = work / "report.json"
    cmd = [sys.executable, "-m", "regnetlab", "grade", str(folder), "--only", ",".join(wanted),
           "--json", str(out), "--tier", tier, *([] if train else ["--no-train"])]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    log, bar = [], _progress(train)
    try:
        # pytest prints one character per rubric line as it is graded
        for line in iter(proc.stdout.readline, b""):
            text = line.decode("utf-8", "replace")
            log.append(text)
            if bar is not None and text.strip() and set(text.strip()) <= set(".FEsx"):
                bar.update(len(text.strip()))
        proc.wait(timeout=timeout)
    except BaseException:  # Ctrl-C (Jupyter's interrupt) or the timeout: end the grader
        proc.kill()
        proc.wait()
        raise
    finally:
        if bar is not None:
            bar.close()
    if not out.is_file():
        tail = "".join(log).strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise RuntimeError(f"the grader could not run: {tail[0]}")
    return json.loads(out.read_text())


def _progress(train):
    if not train:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(desc="grading (training included)", unit=" lines")


def _result(report, source):
    rows = []
    for t in report["tests"]:
        graded = t.get("status") != "skipped"
        pts = f"{t['earned']:g}/{t['points']:g}" if graded else "-"
        rows.append((t["exercise"], t["name"].split(": ", 1)[-1], pts, t["status"],
                     t.get("message") or ""))
    notes = []
    for ex, src in sorted((report.get("sources") or {}).items()):
        notes += [f"{ex}: not run when graded: {w}" for w in src.get("left_out", [])[:10]]
    if report.get("training") != "on":
        notes.append("training lines not graded: check(..., train=True) grades them too")
    return CheckResult(report["score"], report["max_score"], rows, report.get("tier", "?"),
                       report.get("device", "?"), source,
                       report.get("seconds", 0.0), notes)
