"""The progress of a batch: a bar with an ETA on a terminal, a line per submission in a log."""
import sys
import time


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


