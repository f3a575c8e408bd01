"""The autograder, laid out by the stages a grading flows through, each folder named for
where its code runs.

1. ``intake/`` (grading process): finds, unpacks and reads a submission: folders and
   zips and class exports (``archives.py``), notebooks (``notebook.py``), and which file
   each exercise is graded from. No code of the submission runs.
2. ``sandbox/`` (grading process): starts the worker in a sandbox and reads back what it
   wrote, with caps. ``worker/`` runs *inside* it, in the student's process: it builds the
   graded objects and captures each network as a graph of ATen operations. It decides
   nothing.
3. ``measure/`` (grading process, never importing a submission): rebuilds each network
   from its graph, accepting only allowlisted operations, describes it (one describer per
   network family) and trains it on data the worker never saw.
4. ``scoring/`` (grading process): the tests in ``autograder/`` judge the measured facts
   (``checks.py`` words the messages) under pytest (``plugin.py``); ``rubric.py`` turns
   outcomes into points, ``reports.py`` writes the reports; ``session.py`` runs the stages
   for one submission and ``cli.py`` is ``regnetlab grade``.
5. ``batch/`` (its own process, above the gradings): ``regnetlab grade-many``, a class at a
   time, each submission graded by ``regnetlab grade`` in a process of its own.

``protocol.py`` is all that crosses between the worker and the grading process: file and
capture names, the measurements, the worker's report and its schema version, parsed
with validation.
``exercises/`` declares each exercise in one module: its graded objects (with the
builders that run in the worker), probes, rubric file and calibration keys.
``in_notebook.py`` runs in the student's own kernel: ``regnetlab.check()`` starts
``regnetlab grade`` and shows its table.

Grader tests (public and an instructor's hidden ones) import ``checks``, ``expect`` and
``fail`` from here. The threat model is in ``autograder/README.md``. Nothing here imports
the top-level command line (``regnetlab.cli``): dependencies point down.
"""
from .exercises import EXERCISES
from .scoring import checks
from .scoring.facts import expect, fail

__all__ = ["EXERCISES", "checks", "expect", "fail"]
