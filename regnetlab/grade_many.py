"""``regnetlab grade-many SUBMISSIONS --out DIR``: grade a whole class, resumably.

Every submission (see ``regnetlab/submissions.py`` for the layouts) is unpacked into a
private temporary folder, its exercise files copied and hashed, and graded by running
``regnetlab grade`` on the copy in a process of its own (its own session, killed with
everything it started when it overruns), so each grading gets the grader's full
isolation and no submission's grading shares a process with another's. This process
never imports a submission; it only reads the JSON report the grader writes.

Out folder::

    DIR/students/<student>.json   one record per student: scores, isolation, seconds,
                                  error, content hash, and the grader's full report
    DIR/gradebook.csv             student, ex1..ex4, total, isolation, seconds, error

Both are written atomically, the gradebook again after every submission, from what this
process holds in memory (a record file changed by anyone else during the run is
rewritten at the end). Run it again after an interruption and it grades only what has no
record, or whose files (content hash) or grading options (config hash) changed.
Exit status: 0 when every submission was graded or refused for a reason of its own
(shown in the gradebook's ``error``), 1 when the grader itself failed on some (they are
graded again on the next run), 2 for bad arguments, 130 when interrupted.
"""
import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import submissions as subs
from .cli import positive_int
from .files import write_json

RECORD_FORMAT = "regnetlab-grade-many/1"
COLUMNS_BEFORE = ["student"]
COLUMNS_AFTER = ["total", "isolation", "seconds", "error"]
DEFAULT_EXERCISES = ("ex1", "ex2", "ex3", "ex4")
MAX_REPORT_BYTES = 16 * 2 ** 20   # the grader's JSON report; far above a real one
LOG_TAIL_CHARS = 4000
ATTEMPTS = 3
KILL_GRACE_S = 15                 # after SIGINT, before SIGKILL: the grader cleans up
# options handed to every `regnetlab grade` as they are (flag, takes a value)
PASSED_ON = [("--no-train", False), ("--tier", True), ("--timeout", True),
             ("--memory-gb", True), ("--only", True)]
PACKAGE_PARENT = Path(__file__).resolve().parents[1]


def add_arguments(p):
    from .grading.trusted.options import SHARED
    p.add_argument("submissions", metavar="SUBMISSIONS",
                   help="folder (or .zip) of submissions: sub-folders or .zip files, "
                        "a GitHub Classroom download or a Gradescope export")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="where the per-student JSON files and gradebook.csv go")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
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

def _tree_hash(paths):
    """sha256 over every file (name and bytes) under ``paths``, skipping caches."""
    h = hashlib.sha256()
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            h.update(f"{path.relative_to(root.parent)}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def grade_options(args):
    """(the `regnetlab grade` options every submission gets, their config hash).

    Checked here, once, so that a bad option is one line and exit status 2 before any
    grading starts; the hash covers the options, the tests (public and hidden) and the
    grader's own code, so that changing any of them regrades everybody.
    """
    from .cli import UsageError
    from .grading.trusted.cli import default_tests_dir
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
    fingerprint = json.dumps(options) + _tree_hash(
        [tests, *hidden, Path(__file__).resolve().parent / "grading"])
    if not args.no_train:
        options += ["--data", str(training_data(args.data))]
    return options, hashlib.sha256(fingerprint.encode()).hexdigest()


def training_data(folder):
    """The verified Fashion-MNIST folder every grading trains on (downloaded once here)."""
    from .data import load_split, resolve_root
    root, _ = resolve_root(folder)
    load_split(folder, train=False)  # verifies it, or downloads into the cache once
    return root.resolve()


# -- grading one submission, in a process of its own --------------------------------------

class Live:
    """The process groups of the gradings running now, so that Ctrl-C can end them all."""

    def __init__(self):
        self.lock, self.groups, self.stopping = threading.Lock(), set(), False

    def add(self, pid):
        with self.lock:
            if self.stopping:
                return False
            self.groups.add(pid)
            return True

    def remove(self, pid):
        with self.lock:
            self.groups.discard(pid)

    def stop_all(self):
        """SIGINT to every grading (the grader then ends its workers), then SIGKILL."""
        with self.lock:
            self.stopping = True
            groups = list(self.groups)
        for pid in groups:
            _signal_group(pid, signal.SIGINT)
        deadline = time.monotonic() + KILL_GRACE_S
        while groups and time.monotonic() < deadline:
            with self.lock:
                groups = [pid for pid in groups if pid in self.groups]
            time.sleep(0.2)
        for pid in groups:
            _signal_group(pid, signal.SIGKILL)


def _signal_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _end_group(pid, proc=None):
    """SIGINT (the grader then kills its workers and writes nothing), then SIGKILL."""
    _signal_group(pid, signal.SIGINT)
    deadline = time.monotonic() + KILL_GRACE_S
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    _signal_group(pid, signal.SIGKILL)


def _tail(path):
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - LOG_TAIL_CHARS))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _last_line(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _report(path):
    """The grader's JSON report at ``path``, checked for the fields the gradebook needs."""
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_REPORT_BYTES:
        raise ValueError(f"the grader's report is over {MAX_REPORT_BYTES // 2 ** 20} MiB")
    report = json.loads(path.read_text(encoding="utf-8"))
    ok = (isinstance(report, dict) and isinstance(report.get("score"), (int, float))
          and isinstance(report.get("max_score"), (int, float))
          and isinstance(report.get("exercises"), dict))
    if not ok:
        raise ValueError("the grader's report lacks score, max_score or exercises")
    return report


def _isolation(report):
    value = report.get("isolation") if report else None
    if value is None:
        return "not reported"
    if isinstance(value, (list, tuple)):
        return "+".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return "+".join(k for k, v in value.items() if v) or "none"
    return str(value)


def _record(task, status, **fields):
    rec = {"format": RECORD_FORMAT, "student": task["student"], "key": task["key"],
           "source": task["source"], "status": status, "content_hash": None,
           "config_hash": task["config_hash"], "score": None, "max_score": None,
           "exercises": {}, "isolation": "", "seconds": 0.0, "error": "",
           "exit_status": None, "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "grade": None, "log": ""}
    rec.update(fields)
    return rec


def _reusable(previous, content, config_hash):
    return (previous is not None and previous.get("content_hash") == content
            and previous.get("config_hash") == config_hash
            and previous.get("status") in ("graded", "refused"))


def grade_one(task, live=None):
    """:func:`grade_submission`, with any unforeseen error recorded as ``failed``."""
    try:
        return grade_submission(task, live)
    except Exception as e:  # one submission must never stop the batch
        return _record(task, "failed", error=f"grade-many: {type(e).__name__}: {e}")


def load(source):
    """``(files {name: bytes}, content hash, None)`` of the submission at ``source``, or
    ``(None, hash of the .zip or None, why it is refused)``.

    Read once, before any grading starts, and graded from this copy in memory: nothing a
    submission does while it is graded can change what another one is graded on.
    """
    source = Path(source)
    with tempfile.TemporaryDirectory(prefix="regnetlab-grade-many-load-") as work:
        try:
            root = subs.safe_extract(source, Path(work) / "unpacked") \
                if source.suffix.lower() == ".zip" else source
            folder = subs.exercise_folder(root)
            files = {p.name: p.read_bytes() for p in subs.exercise_files(folder)}
        except (subs.SubmissionError, OSError) as e:
            digest = hashlib.sha256(source.read_bytes()).hexdigest() if source.is_file() \
                else None
            return None, digest, str(e)
    return files, subs.files_hash(files), None


def _stage(files, folder):
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def grade_submission(task, live=None):
    """Grade one submission (a task dict); return its record. Never raises for a bad one.

    ``status`` is ``graded`` (the grader ran: scores below), ``refused`` (the submission
    itself cannot be graded: not a zip, unsafe, no exercise files) or ``failed`` (the
    grader did not finish: timed out, crashed or interrupted; graded again next run).
    A grading whose copy of the files changed while it ran (another submission's doing,
    where the grader's isolation does not stop it) is run again, up to ``ATTEMPTS`` times.
    """
    started = time.monotonic()
    content = task["content_hash"]
    if _reusable(task["previous"], content, task["config_hash"]):
        return {**task["previous"], "reused": True}
    if task["refused"]:
        return _record(task, "refused", content_hash=content, error=task["refused"])
    for attempt in range(1, ATTEMPTS + 1):
        rec = _grade_copy(task, live or Live(), started)
        if rec is not None:
            return {**rec, "attempts": attempt}
    return _record(task, "failed", content_hash=content,
                   seconds=round(time.monotonic() - started, 1),
                   error=f"the submission's files changed while it was graded, {ATTEMPTS} "
                         "times; it will be graded again on the next run")


def _grade_copy(task, live, started):
    """One run of the grader on a fresh copy; None when the copy changed meanwhile."""
    content = task["content_hash"]
    with tempfile.TemporaryDirectory(prefix="regnetlab-grade-many-") as work:
        work = Path(work)
        copy = _stage(task["files"], work / "submission")
        report_path = work / "report.json"
        log_path = work / "grade.log"
        cmd = [sys.executable, "-m", "regnetlab", "grade", str(copy), "--json",
               str(report_path), "--jobs", str(task["grade_jobs"]), *task["options"]]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(PACKAGE_PARENT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
        if not live.add(proc.pid):
            _end_group(proc.pid, proc)
        timed_out = False
        try:
            proc.wait(timeout=task["timeout_s"])
        except subprocess.TimeoutExpired:
            timed_out = True
            _end_group(proc.pid, proc)
            proc.wait()
        finally:
            live.remove(proc.pid)
            _signal_group(proc.pid, signal.SIGKILL)  # anything it left in its group
        try:
            unchanged = subs.files_hash({p.name: p.read_bytes()
                                         for p in subs.exercise_files(copy)}) == content
        except (OSError, subs.SubmissionError):
            unchanged = False
        if not unchanged and not live.stopping:
            return None
        seconds = round(time.monotonic() - started, 1)
        log_text = _tail(log_path)
        fields = dict(content_hash=content, seconds=seconds, exit_status=proc.returncode,
                      log=log_text)
        if timed_out:
            return _record(task, "failed", **fields, error=f"grading took longer than "
                           f"{task['timeout_s']:g} s and was stopped")
        try:
            report = _report(report_path) if proc.returncode in (0, 1) else None
        except (ValueError, OSError) as e:
            return _record(task, "failed", **fields, error=str(e))
        if report is None:
            why = _last_line(log_text) or f"exit status {proc.returncode}"
            return _record(task, "failed", **fields, error=f"the grader did not finish: {why}")
        exercises = {ex: v.get("score") for ex, v in report["exercises"].items()
                     if isinstance(v, dict)}
        return _record(task, "graded", **fields, score=report["score"],
                       max_score=report["max_score"], exercises=exercises,
                       isolation=_isolation(report), grade=report)


# -- running many: the engine, the progress line, the records ----------------------------

def run_tasks(fn, items, jobs, engine="local", address=None):
    """Yield ``fn(item)`` for every item as each finishes, ``jobs`` at a time.

    The one place that decides where gradings run. Locally each grading is already a
    process of its own, so threads that wait on them are enough; with ``engine="ray"``
    each is a Ray task (``grade_one``, without the local process registry), on a private
    Ray instance of ``jobs`` CPUs or on the cluster at ``address``.
    """
    if engine == "ray":
        from .engines import RayEngine
        ray = RayEngine(address) if address else RayEngine(num_cpus=jobs)
        for task, rec in ray.map_unordered(grade_one, items):
            yield rec if isinstance(rec, dict) else _record(
                task, "failed", error=f"grade-many: {type(rec).__name__}: {rec}")
        return
    from concurrent.futures import ThreadPoolExecutor, as_completed
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade-many")
    try:
        futures = [pool.submit(fn, item) for item in items]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _fmt_s(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """A bar with an ETA on a terminal; one line per submission otherwise (CI logs)."""

    def __init__(self, total, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total, self.done, self.graded_s, self.graded = total, 0, 0.0, 0
        self.start = time.monotonic()

    def eta(self, jobs):
        if self.graded == 0:
            return "?"
        left = self.total - self.done
        return _fmt_s(left * (self.graded_s / self.graded) / max(1, jobs))

    def update(self, rec, jobs):
        self.done += 1
        if not rec.get("reused"):
            self.graded += 1
            self.graded_s += rec.get("seconds") or 0.0
        what = (f"{_fmt_num(rec['score'])}/{_fmt_num(rec['max_score'])}"
                if rec["status"] == "graded" else f"{rec['status']}: {rec['error'][:80]}")
        how = "unchanged, not graded again" if rec.get("reused") else f"{rec['seconds']:.1f} s"
        eta = self.eta(jobs) if self.done < self.total else "0s"
        if self.tty:
            width = 24
            filled = int(width * self.done / max(1, self.total))
            self.stream.write(f"\r\033[K[{'#' * filled}{'.' * (width - filled)}] "
                              f"{self.done}/{self.total}  ETA {eta}  last: {rec['student']} "
                              f"{what}" + ("\n" if self.done == self.total else ""))
        else:
            self.stream.write(f"grade-many: [{self.done}/{self.total}] {rec['student']}: "
                              f"{what} ({how}); ETA {eta}\n")
        self.stream.flush()


def _fmt_num(x):
    return "-" if x is None else f"{x:g}"


def _csv_num(x):
    return "" if x is None else f"{x:g}"


def _cell(value):
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_csv(records):
    exercises = sorted({*DEFAULT_EXERCISES, *(ex for r in records for ex in r["exercises"])},
                       key=lambda ex: (len(ex), ex))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS_BEFORE, *exercises, *COLUMNS_AFTER])
    for r in sorted(records, key=lambda r: r["key"]):
        graded = r["status"] == "graded"
        writer.writerow([_cell(r["student"]),
                         *(_csv_num(r["exercises"].get(ex) if graded else None)
                           for ex in exercises),
                         _csv_num(r["score"] if graded else None),
                         _cell(r["isolation"]), f"{r['seconds']:.1f}", _cell(r["error"])])
    return out.getvalue()


class Store:
    """The out folder: records read at start, and everything written from memory."""

    def __init__(self, out):
        self.out = Path(out)
        self.students = self.out / "students"
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"--out {out}: is a file; expected a folder")
        self.students.mkdir(parents=True, exist_ok=True)
        self.records, self.written = {}, {}

    def previous(self, key):
        path = self.students / f"{key}.json"
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return rec if isinstance(rec, dict) and rec.get("format") == RECORD_FORMAT else None

    def _text(self, rec):
        return json.dumps({k: v for k, v in rec.items() if k != "reused"}, indent=2) + "\n"

    def save(self, rec):
        self.records[rec["key"]] = rec
        if not rec.get("reused") and rec["status"] != "failed":
            write_json(self.students / f"{rec['key']}.json",
                       {k: v for k, v in rec.items() if k != "reused"})
        if rec["status"] != "failed":
            self.written[rec["key"]] = self._text(rec)
        self.write_gradebook()

    def write_gradebook(self):
        from .files import atomic_write_text
        atomic_write_text(self.out / "gradebook.csv", gradebook_csv(list(self.records.values())))

    def check_written(self):
        """Rewrite any record file that is no longer what this run wrote; name them."""
        from .files import atomic_write_text
        altered = []
        for key, text in self.written.items():
            path = self.students / f"{key}.json"
            try:
                same = path.read_text(encoding="utf-8") == text
            except OSError:
                same = False
            if not same:
                atomic_write_text(path, text)
                altered.append(key)
        self.write_gradebook()
        return altered


def plan(args, store, options, config_hash):
    from .cli import UsageError
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
    from .cli import UsageError
    if not Path(args.submissions).exists():
        raise UsageError(f"SUBMISSIONS {args.submissions}: no such folder or .zip file")
    if Path(args.submissions).is_file() and Path(args.submissions).suffix.lower() != ".zip":
        # said before the data is looked for: a wrong argument is the first thing to fix
        raise UsageError(f"SUBMISSIONS {args.submissions}: expected a folder or a .zip file")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out}: is a file; expected a folder")
    if args.address is not None and args.engine != "ray":
        raise UsageError(f"--address {args.address}: only used with --engine ray")
    options, config_hash = grade_options(args)
    store = Store(args.out)
    tasks, unpacked = plan(args, store, options, config_hash)
    live = Live()
    progress = Progress(len(tasks))
    print(f"grade-many: {len(tasks)} submissions from {args.submissions}, {args.jobs} at a "
          f"time; records in {store.students}", file=sys.stderr)
    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    results = run_tasks(lambda t: grade_one(t, live), tasks, args.jobs) \
        if args.engine == "local" else run_tasks(grade_one, tasks, args.jobs, args.engine,
                                                 args.address)
    try:
        for rec in results:
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
