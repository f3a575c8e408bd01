"""The autograder, laid out by stage: where each part runs.

- ``intake/`` (trusted) picks the file each exercise is graded from, converting notebooks;
- ``worker/`` runs in the sandbox, in the same process as the student's code: it builds
  the graded objects and captures each network as a graph of ATen operations (plus plain
  JSON for the answers that are not networks). It decides nothing;
- ``sandbox/`` (trusted) starts the worker under isolation and caps, and reads its files
  back as bytes;
- ``protocol.py`` is the only thing that crosses that boundary: file names, capture names,
  measurements, the worker's report and its schema version, parsed with validation;
- ``measure/`` (trusted, reading only graphs) rebuilds each network from its graph,
  accepting only allowlisted operations (``graph.py``), and measures and trains it on data
  the worker never saw;
- ``scoring/`` (trusted) runs the tests in ``autograder/`` on the measured facts
  (``checks.py`` words the messages) under pytest, turns outcomes into points
  (``rubric.py``) and writes the reports (``reports.py``);
- ``batch/`` grades many submissions; ``exercises/`` declares each exercise in one module:
  data, plus the builders that run in the worker.

Grader tests (public and an instructor's hidden ones) import ``checks``, ``expect`` and
``fail`` from here. The threat model is in ``autograder/README.md``.
"""
from .exercises import EXERCISES
from .scoring import checks
from .scoring.facts import expect, fail

__all__ = ["EXERCISES", "checks", "expect", "fail"]
