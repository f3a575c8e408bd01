"""The out folder of a batch: one JSON record per student and the gradebook, written
atomically from what this process holds in memory."""
import csv
import io
import json
import time
from pathlib import Path

from ...files import atomic_write_text, write_json
from ..exercises import EXERCISES

RECORD_FORMAT = "regnetlab-grade-many/1"
COLUMNS_BEFORE = ["student"]
COLUMNS_AFTER = ["total", "isolation", "seconds", "error"]
DEFAULT_EXERCISES = tuple(EXERCISES)  # a column each, even when nobody handed it in


def record(task, status, **fields):
    rec = {"format": RECORD_FORMAT, "student": task["student"], "key": task["key"],
           "source": task["source"], "status": status, "content_hash": None,
           "config_hash": task["config_hash"], "score": None, "max_score": None,
           "exercises": {}, "isolation": "", "seconds": 0.0, "error": "",
           "exit_status": None, "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "grade": None, "log": ""}
    rec.update(fields)
    return rec


def reusable(previous, content, config_hash):
    return (previous is not None and previous.get("content_hash") == content
            and previous.get("config_hash") == config_hash
            and previous.get("status") in ("graded", "refused"))


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
        atomic_write_text(self.out / "gradebook.csv", gradebook_csv(list(self.records.values())))

    def check_written(self):
        """Rewrite any record file that is no longer what this run wrote; name them."""
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


