"""Grading one submission of a batch: in a process of its own (``regnetlab grade`` on a
private copy), in its own session, killed with everything it started when it overruns.
This process never imports a submission; it only reads the JSON report the grader writes."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ...project import ROOT
from ..intake import archives as subs
from ..sandbox.process import LiveGroups, end_group, signal_group
from .store import record as _record, reusable as _reusable

MAX_REPORT_BYTES = 16 * 2 ** 20   # the grader's JSON report; far above a real one
LOG_TAIL_CHARS = 4000
ATTEMPTS = 3
KILL_GRACE_S = 15                 # after SIGINT, before SIGKILL: the grader cleans up


class Live(LiveGroups):
    """The process groups of the gradings running now, so that Ctrl-C can end them all:
    SIGINT to every grading (the grader then ends its workers), then SIGKILL."""

    def __init__(self):
        super().__init__(KILL_GRACE_S)


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
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
        # ending a grading: SIGINT (the grader then kills its workers and writes nothing),
        # then SIGKILL after KILL_GRACE_S
        if not live.add(proc.pid):
            end_group(proc.pid, KILL_GRACE_S, proc)
        timed_out = False
        try:
            proc.wait(timeout=task["timeout_s"])
        except subprocess.TimeoutExpired:
            timed_out = True
            end_group(proc.pid, KILL_GRACE_S, proc)
            proc.wait()
        finally:
            live.remove(proc.pid)
            signal_group(proc.pid, signal.SIGKILL)  # anything it left in its group
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


