"""Scoring: runs in the trusted grading process, after the measurement; never imports a
submission.

``session.py`` runs each exercise's worker (``../sandbox/``) and then its measurement
(``../measure/``); the tests in ``autograder/`` judge the measured facts (``facts.py``,
worded by ``checks.py``), ``plugin.py`` runs them under pytest, ``rubric.py`` turns
outcomes into points and ``reports.py`` writes the reports (``cli.py``: ``regnetlab
grade``).
"""
