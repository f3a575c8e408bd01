"""``regnetlab grade [exercises|solutions|PATH]``: grade the exercises.

Runs the autograder's tests (``autograder/``, plus any ``--hidden DIR``) under pytest with
the grading plugin, prints the rubric table and writes the reports asked for. Exit
status: 0 when every graded rubric line passed, 1 when some did not, 2 when the grader
could not run (bad arguments, missing folders, no training data without ``--no-train``),
130 when interrupted (Ctrl-C kills the workers and writes no report).
"""
import argparse
import sys
from pathlib import Path

from ...project import PACKAGE
from .options import SHARED, dest
from .session import REPO, resolve_submission


def default_tests_dir():
    """``autograder/`` here or in the checkout; else the copy an installed wheel carries
    (``regnetlab/rubric``, see setup.py), as in Colab."""
    rubric = PACKAGE / "rubric"
    for candidate in (Path("autograder"), REPO / "autograder", rubric):
        if (candidate / "conftest.py").is_file():
            return candidate.resolve()
    return REPO / "autograder"


def add_arguments(p):
    p.add_argument("target", nargs="?", default="exercises",
                   help="exercises (default), solutions, or a folder holding ex1_*.py ...")
    for _, flag, kwargs in SHARED:
        p.add_argument(flag, **kwargs)
    p.add_argument("--hidden", action="append", default=[], metavar="DIR",
                   help="an instructor's extra test folder (repeatable); counts like the rest")
    p.add_argument("--tests", default=None, metavar="DIR",
                   help="the public grader tests (default: autograder/)")
    p.add_argument("--verbose", "-v", action="store_true", help="show pytest's own output too")


def test_folders(args):
    """(the public tests folder, [hidden test folders]), all checked to exist."""
    tests = Path(args.tests).resolve() if args.tests else default_tests_dir()
    if not tests.is_dir():
        raise FileNotFoundError(f"--tests {tests}: no such folder of grader tests")
    hidden = []
    for d in args.hidden:
        path = Path(d).resolve()
        if not path.is_dir():
            raise FileNotFoundError(f"--hidden {d}: no such folder")
        hidden.append(str(path))
    return tests, hidden


def pytest_options(args):
    """The grading options under their pytest names, as the plugin reads them."""
    return argparse.Namespace(submission=args.target, **{
        dest(pytest_flag): getattr(args, dest(flag)) for pytest_flag, flag, _ in SHARED})


def pytest_args(args):
    """The pytest command line that ``regnetlab grade ARGS`` amounts to."""
    tests, hidden = test_folders(args)
    out = [str(tests), *hidden, "-p", "regnetlab.grading.scoring.plugin", "-p", "no:cacheprovider",
           "--rootdir", str(tests), *(["-c", str(tests / "pytest.ini")]
                                      if (tests / "pytest.ini").is_file() else []),
           "--submission", str(resolve_submission(args.target))]
    quiet = ["-q", "--no-header", "--tb=no", "-rN", "-p", "no:warnings"]  # our table says it
    out += ["-v"] if args.verbose else quiet
    for d in hidden:
        out += ["--hidden-tests", d]
    for pytest_flag, flag, kwargs in SHARED:
        value = getattr(args, dest(flag))
        if kwargs.get("action") == "store_true":
            out += [pytest_flag] if value else []
        elif value is not None:
            out += [pytest_flag, str(value)]
    return out


def run(args):
    from ...arguments import UsageError
    try:
        import pytest
    except ImportError:
        raise UsageError("the grader runs on pytest, which is not installed: "
                         "pip install 'pytest>=8' (or the project's [test] extra)") from None
    from .plugin import Preset, session_from_options

    # built here, before pytest, so that a bad option or missing data is one line, exit 2
    tests, hidden = test_folders(args)
    session = session_from_options(pytest_options(args), [tests, *map(Path, hidden)])
    try:
        code = pytest.main(pytest_args(args), plugins=[Preset(session)])
    finally:
        session.close(interrupted=True)  # kills any worker left (none after a normal end)
    sys.stdout.flush()
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if code in (0, 1):
        return int(code)
    raise UsageError(f"the grader could not run (pytest exit status {int(code)}); see above")
