"""The pytest plugin behind ``regnetlab grade`` and ``pytest autograder``.

It adds the grading options, the fixtures the grader's tests use (``ex1``, ``ex2``, ...,
one per exercise: its measured facts; ``thresholds``: the calibrated accuracies;
``grading``: the session), turns each test's outcome into points (``rubric.py``) and,
at the end, prints the rubric table and writes the requested reports (``reports.py``).
It is loaded by ``autograder/conftest.py`` and by ``regnetlab grade`` (``-p regnetlab.grading.scoring.plugin``),
so an instructor's hidden test folder gets the same fixtures.
"""
import time
from pathlib import Path

import pytest

from ...arguments import UsageError
from . import reports
from ..exercises import EXERCISES
from .facts import GradeFailure
from .rubric import Outcome, Result, marker_arg, points_of, rubric_line
from .options import SHARED
from .session import GradeSession

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def pytest_addoption(parser):
    g = parser.getgroup("regnetlab", "regnetlab grading")
    g.addoption("--submission", default=None, metavar="DIR",
                help=f"folder holding {_files()}: exercises (default), solutions, or a "
                     "path; also $REGNETLAB_SUBMISSION")
    for flag, _, kwargs in SHARED:
        g.addoption(flag, **kwargs)
    g.addoption("--hidden-tests", action="append", default=[], metavar="DIR",
                help="tests under DIR are the instructor's hidden tests")
    g.addoption("--hidden-visibility", default="after_published", choices=VISIBILITIES,
                help="Gradescope visibility of hidden tests (default after_published)")


def _files():
    """The student's files, as help texts name them: ``ex1_*.py ... ex4_*.py``."""
    ids = list(EXERCISES)
    return " ... ".join(dict.fromkeys(f"{ex}_*.py" for ex in (ids[0], ids[-1])))


def pytest_configure(config):
    for line in ("points(n): the rubric points a grader test is worth",
                 f"exercise(name): the exercise ({', '.join(EXERCISES)}) a grader test "
                 "belongs to",
                 "visibility(v): Gradescope visibility of a grader test"):
        config.addinivalue_line("markers", line)
    # ``regnetlab grade`` builds the session itself (so that its errors are one line) and
    # hands it over as a plugin; plain ``pytest autograder`` builds it here
    preset = [p for p in config.pluginmanager.get_plugins() if isinstance(p, Preset)]
    if preset:
        session = preset[0].session
    else:
        tests_dirs = [Path(a.split("::")[0]).resolve() for a in config.args]
        tests_dirs = list(dict.fromkeys(d if d.is_dir() else d.parent for d in tests_dirs))
        try:
            session = session_from_options(config.option, tests_dirs)
        except (ValueError, OSError, RuntimeError, UsageError) as e:  # DataError too
            raise pytest.UsageError(str(e)) from None
    config.stash[SESSION] = session
    config.stash[OUTCOMES] = {}
    config.stash[STARTED] = time.time()


class Preset:
    """A session built before pytest started (by ``regnetlab grade``), passed as a plugin."""

    def __init__(self, session):
        self.session = session


def session_from_options(opt, tests_dirs):
    """A GradeSession from the pytest options (``SHARED``'s pytest names)."""
    return GradeSession(
        submission=opt.submission, train=not opt.no_train, tier=opt.tier,
        timeout_s=opt.exercise_timeout, memory_gb=opt.memory_gb,
        only=[e.strip() for e in opt.only.split(",") if e.strip()] if opt.only else None,
        tests_dirs=tests_dirs, data=opt.data, jobs=opt.jobs, device=opt.device,
        reduced_data=opt.reduced_data)


SESSION = pytest.StashKey()
OUTCOMES = pytest.StashKey()
STARTED = pytest.StashKey()


def pytest_ignore_collect(collection_path, config):
    """``examples/`` of a tests folder holds example hidden tests: only ``--hidden`` runs them."""
    if "examples" not in collection_path.parts:
        return None
    path = collection_path.resolve()
    if any(path.is_relative_to(Path(d).resolve()) or Path(d).resolve().is_relative_to(path)
           for d in config.option.hidden_tests):
        return None
    return True


def _exercise(item):
    return marker_arg(item, "exercise", "other")


def pytest_collection_modifyitems(config, items):
    session = config.stash[SESSION]
    if session.only:
        keep = [i for i in items if _exercise(i) in session.only]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
    if not config.option.collectonly:
        session.start(sorted({_exercise(i) for i in items}))


def _is_hidden(config, item):
    path = Path(str(item.path)).resolve()
    return any(path.is_relative_to(Path(d).resolve()) for d in config.option.hidden_tests)


def _message(call, report):
    if report.skipped:
        longrepr = report.longrepr
        return longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if call.excinfo is None:
        return ""
    exc = call.excinfo.value
    if isinstance(exc, GradeFailure):
        return str(exc)
    if isinstance(exc, AssertionError):
        return str(exc).split("\nassert ")[0] or "assertion failed"
    return (f"error in the grader test itself ({type(exc).__name__}: {exc}); "
            "please tell your instructor")[:2000]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "teardown" or (report.when == "setup" and report.passed):
        return
    config = item.config
    hidden = _is_hidden(config, item)
    visibility = marker_arg(item, "visibility",
                            config.option.hidden_visibility if hidden else "visible")
    status = "skipped" if report.skipped else "passed" if report.passed else "failed"
    config.stash[OUTCOMES][item.nodeid] = Outcome(
        nodeid=item.nodeid, name=rubric_line(item), exercise=_exercise(item),
        points=points_of(item), status=status, message=_message(call, report)[:4000],
        hidden=hidden, visibility=visibility, seconds=round(report.duration, 2))


def result_of(config):
    session = config.stash[SESSION]
    meta = dict(session.meta(), seconds=round(time.time() - config.stash[STARTED], 1))
    return Result(list(config.stash[OUTCOMES].values()), meta)


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if SESSION not in config.stash:
        return
    # Ctrl-C: kill the workers now (they run in their own sessions, so the terminal's
    # signal never reached them) and write no report: a partial grade is not a grade
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    config.stash[SESSION].close(interrupted=interrupted)
    if interrupted:
        return
    result = result_of(config)
    opt = config.option
    writers = [(opt.grade_json, reports.write_json), (opt.gradescope, reports.write_gradescope),
               (opt.grade_junit, reports.write_junit), (opt.classroom, reports.write_classroom)]
    for path, write in writers:
        if path:
            write(result, path)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if SESSION in config.stash and exitstatus != pytest.ExitCode.INTERRUPTED:
        terminalreporter.write(reports.table(result_of(config)))


# -- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def grading(request):
    """The grading session: submission, tier, limits, worker runs."""
    return request.config.stash[SESSION]


@pytest.fixture(scope="session")
def thresholds(grading):
    """{model key: minimum test accuracy} of the active training tier."""
    if grading.no_training:
        pytest.skip(grading.no_training)
    return grading.thresholds()


def _exercise_fixture(name):
    @pytest.fixture(scope="session", name=name)
    def facts(grading):
        return grading.facts(name)
    facts.__doc__ = f"The facts the worker measured for {name} (an ExerciseFacts)."
    return facts


# one fixture per exercise, named after it: ex1, ex2, ...
globals().update({name: _exercise_fixture(name) for name in EXERCISES})
