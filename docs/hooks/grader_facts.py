"""Print what the docs say about the grader, as JSON, read off the grader itself.

``tests``: one entry per rubric line (exercise, rubric line, points, visibility);
``options``: the options of ``regnetlab grade`` (flags, metavar, default, help);
``tiers``: each training tier's budget and its calibrated thresholds.


Run by the docs hook in a separate process (the grader's tests import torch and the
grading plugin, which the mkdocs process should not carry). It asks pytest to *collect*
the tests of ``autograder/`` the way ``regnetlab grade`` runs them, and reads each
test's exercise, points and rubric line with the grader's own functions; no test runs.

    python docs/hooks/grader_facts.py [TESTS_DIR]   ->  {"tests": [...], "options": [...]}
"""
import argparse
import contextlib
import io
import json
import sys

import pytest

from dataclasses import asdict

from regnetlab.grading.measure import training
from regnetlab.grading.scoring import cli, rubric


class Collector:
    def __init__(self):
        self.items = []

    def pytest_collection_finish(self, session):
        for item in session.items:
            self.items.append({
                "exercise": rubric.marker_arg(item, "exercise", "other"),
                "name": rubric.rubric_line(item),
                "points": rubric.points_of(item),
                "visibility": rubric.marker_arg(item, "visibility", "visible"),
                "nodeid": item.nodeid,
            })


def grade_parser():
    parser = argparse.ArgumentParser(prog="regnetlab grade")
    cli.add_arguments(parser)
    return parser


def options():
    out = []
    for action in grade_parser()._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        out.append({"flags": action.option_strings or [action.dest],
                    "metavar": None if action.nargs == 0 else
                    (action.metavar or (action.dest.upper() if action.option_strings
                                        else None)),
                    "default": action.default if action.default not in (None, [], False)
                    else None,
                    "help": action.help or ""})
    return out


def tiers(tests_dir=None):
    """Each tier's budget, its thresholds, and what the calibration file says of them."""
    path = training.calibration_file(tests_dir or cli.default_tests_dir())
    recorded = json.loads(path.read_text()).get("tiers", {}) if path.is_file() else {}
    out = []
    for name, tier in training.TIERS.items():
        try:
            thresholds = training.load_thresholds(path, name)
        except (FileNotFoundError, ValueError):
            thresholds = {}
        record = recorded.get(name, {})
        out.append({**asdict(tier), "thresholds": thresholds,
                    "device": record.get("device"), "derived_from": record.get("derived_from")})
    return out


def collect(tests_dir=None):
    parser = grade_parser()
    args = parser.parse_args(["exercises", "--no-train"]
                             + (["--tests", tests_dir] if tests_dir else []))
    collector = Collector()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = pytest.main([*cli.pytest_args(args), "--collect-only"], plugins=[collector])
    if code != 0 or not collector.items:
        raise SystemExit(f"collecting the grader's tests failed (pytest status {int(code)}):\n"
                         + out.getvalue()[-3000:])
    return collector.items


if __name__ == "__main__":
    tests_dir = sys.argv[1] if len(sys.argv) > 1 else None
    json.dump({"tests": collect(tests_dir), "options": options(), "tiers": tiers(tests_dir)},
              sys.stdout, indent=1)
