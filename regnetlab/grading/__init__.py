"""The autograder, split by where each part runs.

- ``untrusted/`` runs in the sandbox, in the same process as the student's code: it
  builds the graded objects and captures each network as a graph of ATen operations
  (plus plain JSON for the answers that are not networks). It decides nothing.
- ``trusted/`` never imports a submission: it starts the sandbox (``sandbox.py``),
  rebuilds each network from its graph accepting only allowlisted operations
  (``graph.py``), measures and trains it on data the worker never saw (``measure.py``,
  ``training.py``), and scores: the tests in ``autograder/`` judge the measured facts
  (``checks.py`` words the messages), ``plugin.py`` runs them under pytest, ``rubric.py``
  turns outcomes into points and ``reports.py`` writes the reports.
- ``exercises/`` declares each exercise in one module: its graded objects, probes,
  rubric file and calibration keys.

Grader tests (public and an instructor's hidden ones) import ``checks``, ``expect`` and
``fail`` from here. The threat model is in ``autograder/README.md``.
"""
from .exercises import EXERCISES
from .scoring import checks
from .scoring.facts import expect, fail

__all__ = ["EXERCISES", "checks", "expect", "fail"]
