"""Scoring, in the grading process: the measured facts judged by the grader tests under
pytest, turned into points and reports.

- ``facts.py``: what the measurement found, as the tests read it (``expect``, ``fail``);
- ``checks.py``: the checks the tests call, worded for students;
- ``plugin.py``: the pytest plugin that runs the tests over one grading session;
- ``rubric.py``: outcomes to points; ``reports.py``: terminal, JSON, JUnit, Gradescope;
- ``session.py``: one submission through intake, sandbox and measurement;
- ``cli.py`` / ``options.py``: ``regnetlab grade`` and the options it shares with
  ``grade-many``.
"""
