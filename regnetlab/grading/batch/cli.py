"""``regnetlab grade-many``: its options, the options every grading shares (and their
hash), the plan of tasks, and the run."""
import os
import signal
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from ...arguments import UsageError, positive_int
from ...engines import ENGINES, make_engine
from ..intake import archives as subs
from .config import config_hash
from .progress import Progress, _fmt_s
from .runner import Live, grade_one, load
from .store import Store, record

# options handed to every `regnetlab grade` as they are (flag, takes a value)
PASSED_ON = [("--no-train", False), ("--tier", True), ("--timeout", True),
             ("--memory-gb", True), ("--only", True)]


def add_arguments(p):
    from ..scoring.options import SHARED
    p.add_argument("submissions", metavar="SUBMISSIONS",
                   help="folder (or .zip) of submissions: sub-folders or .zip files, "
                        "a GitHub Classroom download or a Gradescope export")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="where the per-student JSON files and gradebook.csv go")
    p.add_argument("--engine", choices=list(ENGINES), default="local",
                   help="where gradings run: this machine (default) or Ray tasks (a private "
                        "Ray instance of --jobs CPUs, or the cluster at --address)")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="with --engine ray: a running Ray cluster (auto, or ray://HOST:PORT)")
    p.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                   help="submissions graded side by side (default 1)")
    shared = {flag: kwargs for _, flag, kwargs in SHARED}
    for flag, _ in PASSED_ON:
        p.add_argument(flag, **shared[flag])
    p.add_argument("--data", default=None, metavar="DIR", help=shared["--data"]["help"])
    p.add_argument("--hidden", action="append", default=[], metavar="DIR",
                   help="an instructor's extra test folder (repeatable)")
    p.add_argument("--tests", default=None, metavar="DIR",
                   help="the public grader tests (default: autograder/)")
    p.add_argument("--submission-timeout", type=float, default=None, metavar="S",
                   help="seconds one whole grading may take (default: 4 x the "
                        "per-exercise limit + 120)")
    p.add_argument("--regrade", action="store_true",
                   help="grade every submission again, even those with a current record")


# -- the options every grading shares, and their hash -------------------------------------

def grade_options(args):
    """(the `regnetlab grade` options every submission gets, their config hash).

    Checked here, once, so that a bad option is one line and exit status 2 before any
    grading starts; the hash (``config.py``) covers the options, the tests (public and
    hidden) and every module of the package a grading imports, so that changing any of
    them regrades everybody.
    """
    from ..scoring.cli import default_tests_dir
    tests = Path(args.tests).resolve() if args.tests else default_tests_dir()
    if not (tests / "conftest.py").is_file():
        raise UsageError(f"--tests {tests}: not a folder of grader tests (no conftest.py)")
    hidden = []
    for d in args.hidden:
        if not Path(d).is_dir():
            raise UsageError(f"--hidden {d}: no such folder")
        hidden.append(Path(d).resolve())
    for name in ("timeout", "submission_timeout"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise UsageError(f"--{name.replace('_', '-')} {value:g}: expected a number of "
                             "seconds above 0")
    options = ["--tests", str(tests)]
    for d in hidden:
        options += ["--hidden", str(d)]
    for flag, takes_value in PASSED_ON:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if takes_value and value is not None:
            options += [flag, str(value)]
        elif not takes_value and value:
            options.append(flag)
    # where the data lies does not change a grade (it is verified to be the same files)
    digest = config_hash(options, [tests, *hidden])
    if not args.no_train:
        options += ["--data", str(training_data(args.data))]
    return options, digest


def training_data(folder):
    """The verified Fashion-MNIST folder every grading trains on (downloaded once here)."""
    from ...data import load_split, resolve_root
    root, _ = resolve_root(folder)
    load_split(folder, train=False)  # verifies it, or downloads into the cache once
    return root.resolve()


def plan(args, store, options, config_hash):
    source = Path(args.submissions)
    if not source.exists():
        raise UsageError(f"SUBMISSIONS {source}: no such folder or .zip file")
    unpacked = None
    if source.is_file():
        if source.suffix.lower() != ".zip":
            raise UsageError(f"SUBMISSIONS {source}: expected a folder or a .zip file")
        unpacked = Path(tempfile.mkdtemp(prefix="regnetlab-grade-many-export-"))
        try:
            source = subs.safe_extract(args.submissions, unpacked / "export")
        except subs.SubmissionError as e:
            raise UsageError(f"SUBMISSIONS {e}") from None
    found = subs.discover(source)
    if not found:
        raise UsageError(f"SUBMISSIONS {args.submissions}: no sub-folders or .zip files in it")
    per_exercise = args.timeout or 480.0
    timeout_s = args.submission_timeout or 4 * per_exercise + 120
    grade_jobs = max(1, (os.cpu_count() or 1) // args.jobs)
    tasks = []
    for s in found:
        files, content, refused = load(s.source)
        tasks.append({"key": s.key, "student": s.student, "source": s.source.name,
                      "files": files, "content_hash": content, "refused": refused,
                      "options": options, "config_hash": config_hash,
                      "timeout_s": timeout_s, "grade_jobs": grade_jobs,
                      "previous": None if args.regrade else store.previous(s.key)})
    return tasks, unpacked


def run(args):
    import shutil
    if not Path(args.submissions).exists():
        raise UsageError(f"SUBMISSIONS {args.submissions}: no such folder or .zip file")
    if Path(args.submissions).is_file() and Path(args.submissions).suffix.lower() != ".zip":
        # said before the data is looked for: a wrong argument is the first thing to fix
        raise UsageError(f"SUBMISSIONS {args.submissions}: expected a folder or a .zip file")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out}: is a file; expected a folder")
    # where gradings run: locally each grading is already a process of its own, so threads
    # that wait on them are enough; with Ray each is a task (without the local registry)
    engine = make_engine(args.engine, args.jobs, args.address, threads=True)
    options, config_hash = grade_options(args)
    store = Store(args.out)
    tasks, unpacked = plan(args, store, options, config_hash)
    live = Live()
    progress = Progress(len(tasks))
    print(f"grade-many: {len(tasks)} submissions from {args.submissions}, {args.jobs} at a "
          f"time; records in {store.students}", file=sys.stderr)
    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    results = engine.map_unordered(
        partial(grade_one, live=live) if args.engine == "local" else grade_one, tasks)
    try:
        for task, rec in results:
            if not isinstance(rec, dict):
                rec = record(task, "failed", error=f"grade-many: {type(rec).__name__}: {rec}")
            store.save(rec)
            progress.update(rec, args.jobs)
            if rec["status"] == "failed" and rec["exit_status"] == 2:
                # exit status 2: the grader could not run at all (options, data, platform);
                # it would fail the same way for everybody
                live.stop_all()
                results.close()
                _restore(store)
                raise UsageError(f"stopped: {rec['error']} (grading {rec['student']}); "
                                 "fix that and run the same command again")
    except KeyboardInterrupt:
        live.stop_all()
        results.close()
        _restore(store)
        print(f"grade-many: interrupted; {len(store.records)} of {len(tasks)} recorded. Run "
              "the same command again to grade the rest", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        if unpacked:
            shutil.rmtree(unpacked, ignore_errors=True)
    _restore(store)
    records = list(store.records.values())
    counts = {s: sum(r["status"] == s for r in records) for s in ("graded", "refused", "failed")}
    reused = sum(bool(r.get("reused")) for r in records)
    print(f"grade-many: {counts['graded']} graded ({reused} unchanged since the last run), "
          f"{counts['refused']} refused, {counts['failed']} failed, in "
          f"{_fmt_s(time.monotonic() - started)}; gradebook: {store.out / 'gradebook.csv'}",
          file=sys.stderr)
    return 1 if counts["failed"] else 0


def _restore(store):
    """Write back any record changed behind this process's back, and the gradebook."""
    for key in store.check_written():
        print(f"grade-many: warning: the record of {key} was changed during the run by "
              "something else; rewritten from what was graded", file=sys.stderr)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
