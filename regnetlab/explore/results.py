"""The results file of a sweep: JSON lines, a header first, one finished network per line.

Why this format: a line is appended (and flushed to disk) the moment a network finishes,
so an interrupted sweep loses at most the networks in flight, and a rerun reads the
keys already present and skips them. The header names the format, its version, the
study and the settings that fix the budget (epochs, images, learning rate, seed, ...);
resuming with other settings would mix incomparable networks, so it is refused.

A file we did not write, or one damaged in the middle, is refused with the line number
and never rewritten. The one repair we make is the expected damage of a crash: a last
line cut off mid-write (no newline, not JSON) is dropped before appending.
"""
import json
import math
import os
from pathlib import Path

FORMAT = "regnetlab-explore-results"
VERSION = 1

try:  # an advisory lock stops two sweeps appending to one file; POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


class ResultsFileError(ValueError):
    """A results file that is not ours, is damaged, or belongs to another study or budget."""


def _number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


# Every field the report reads from a record, with what it must be.
FIELDS = {
    "group": (lambda x: isinstance(x, str), "a string"),
    "seed": (lambda x: isinstance(x, int) and not isinstance(x, bool), "an integer"),
    "test_error": (lambda x: _number(x) and 0 <= x <= 1, "a number from 0 to 1"),
    "params": (lambda x: isinstance(x, int) and not isinstance(x, bool) and x >= 0,
               "a non-negative integer"),
    "flops": (lambda x: _number(x) and x >= 0, "a non-negative number"),
    "wall_time_s": (lambda x: _number(x) and x >= 0, "a non-negative number"),
    "device": (lambda x: isinstance(x, str), "a string"),
}
OPTIONAL_FIELDS = {"diverged": (lambda x: isinstance(x, bool), "true or false")}


def check_record(path, lineno, rec):
    """Raise :class:`ResultsFileError` naming the line if ``rec`` lacks a field or has a bad one."""
    for name, (ok, expected) in {**FIELDS, **OPTIONAL_FIELDS}.items():
        if name not in rec:
            if name in OPTIONAL_FIELDS:
                continue
            problem = f"has no {name!r}"
        elif not ok(rec[name]):
            problem = f"has {name!r} = {rec[name]!r}"
        else:
            continue
        raise ResultsFileError(
            f"{path}: line {lineno} (network {rec['key']!r}) {problem}, expected {expected}; "
            "the file is damaged, so it is left untouched. Fix or remove that line by hand")


def make_header(study, settings):
    return {"format": FORMAT, "version": VERSION, "study": study, "settings": settings}


def read_results(path):
    """``(header, records)`` of a results file; raises :class:`ResultsFileError` if bad.

    A last line without its newline that is not valid JSON is an interrupted write: it is
    ignored here (and dropped by :class:`ResultsWriter` before it appends).
    """
    path = Path(path)
    if path.is_dir():
        raise ResultsFileError(f"{path}: is a folder; expected a results file (.jsonl)")
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = lines[-1] != b""  # the last line has no newline: it may be cut off
    if lines[-1] == b"":
        lines = lines[:-1]
    if not lines:
        raise ResultsFileError(f"{path}: is empty; expected a regnetlab explore results file. "
                               "Delete it or choose another --out")
    header = _parse(path, 1, lines[0])
    if not (isinstance(header, dict) and header.get("format") == FORMAT):
        raise ResultsFileError(
            f"{path}: line 1 is not a regnetlab explore header (expected "
            f'{{"format": "{FORMAT}", ...}}); this file was not written by regnetlab '
            "explore, so it is left untouched. Choose another --out")
    if header.get("version") != VERSION:
        raise ResultsFileError(
            f"{path}: results format version {header.get('version')!r}; this regnetlab "
            f"reads version {VERSION}. Choose another --out")
    records, seen = [], set()
    for i, line in enumerate(lines[1:], start=2):
        last = i == len(lines)
        try:
            rec = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if last and torn:
                break  # an interrupted write: that network was in flight, lose it
            raise ResultsFileError(
                f"{path}: line {i} is not valid JSON; the file is damaged, so it is left "
                "untouched. Remove that line by hand, or choose another --out") from None
        if not (isinstance(rec, dict) and isinstance(rec.get("key"), str)):
            raise ResultsFileError(
                f"{path}: line {i} is not a result record (expected an object with a "
                "'key'); the file is damaged, so it is left untouched")
        check_record(path, i, rec)
        if rec["key"] in seen:
            raise ResultsFileError(
                f"{path}: line {i} repeats network {rec['key']!r}; two sweeps may have "
                "written this file at once. Remove the repeated line by hand")
        seen.add(rec["key"])
        records.append(rec)
    return header, records


def _parse(path, lineno, raw):
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ResultsFileError(
            f"{path}: line {lineno} is not JSON; this is not a regnetlab explore results "
            "file (or it is damaged), so it is left untouched. Choose another --out") from None


class ResultsWriter:
    """Open (create or resume) a results file for one study and append records to it.

    ``done`` holds the keys already recorded. Settings must equal the header's:
    resuming a sweep with another budget would mix incomparable networks.
    """

    def __init__(self, path, study, settings):
        self.path = Path(path)
        if self.path.is_dir():
            raise ResultsFileError(f"{self.path}: is a folder; expected a results file")
        self.created = not self.path.exists()  # by this writer (holds only the header)
        if self.created:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "x") as f:  # "x": never clobber a file that appeared
                f.write(json.dumps(make_header(study, settings)) + "\n")
                f.flush()
                os.fsync(f.fileno())
        self._f = open(self.path, "a")
        try:
            self._lock()  # before reading, so no other run is mid-write
            self.header, self.records = read_results(self.path)
            self._check(study, settings)
            self._drop_torn_tail()
        except BaseException:
            self._f.close()
            raise
        self.done = {r["key"] for r in self.records}

    def _lock(self):
        if fcntl is None:
            return
        try:
            fcntl.flock(self._f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ResultsFileError(
                f"{self.path}: another regnetlab explore run is writing this file; "
                "wait for it or choose another --out") from None

    def _check(self, study, settings):
        old = self.header
        if old.get("study") != study:
            raise ResultsFileError(
                f"{self.path}: holds the {old.get('study')!r} study, not {study!r}; "
                "choose another --out")
        if old.get("settings") != settings:
            theirs = old.get("settings") or {}
            diff = sorted(k for k in set(settings) | set(theirs)
                          if settings.get(k) != theirs.get(k))
            raise ResultsFileError(
                f"{self.path}: was recorded with other settings ("
                + ", ".join(f"{k}: file {theirs.get(k)!r} vs now {settings.get(k)!r}"
                            for k in diff)
                + "); networks trained with different budgets are not comparable. "
                "Rerun with the file's settings, or choose another --out")

    def _drop_torn_tail(self):
        data = self.path.read_bytes()
        if data.endswith(b"\n"):
            return
        cut = data.rfind(b"\n") + 1
        tail = data[cut:]
        try:
            json.loads(tail)
        except (json.JSONDecodeError, UnicodeDecodeError):
            with open(self.path, "r+b") as f:
                f.truncate(cut)
            return
        with open(self.path, "ab") as f:  # a complete record that lost only its newline
            f.write(b"\n")

    def append(self, record):
        """Write one record and push it to disk before returning."""
        if record["key"] in self.done:
            raise ValueError(f"network {record['key']!r} is already recorded")
        self._f.write(json.dumps(record) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())
        self.done.add(record["key"])
        self.records.append(record)

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
