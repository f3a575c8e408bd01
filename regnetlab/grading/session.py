"""One grading session: what is graded, how, and each exercise's worker run (made once).

Everything here runs in the trusted grading process. It decides the training tier, the
limits and whether there is data to train on, and starts an exercise's worker the first
time a test asks for that exercise's facts; later tests reuse the answers, so a
submission is measured once per run, with seed 0, and graded the same way every run.
"""
import os
from pathlib import Path

from . import EXERCISES
from .answers import ExerciseFacts
from .sandbox import Limits, WorkerRun, run_worker
from .training import GRADING_SEED, calibration_file, load_thresholds, pick_tier

REPO = Path(__file__).resolve().parents[2]
COST_ORDER = ("ex3", "ex2", "ex1", "ex4")  # slowest first, so parallel workers finish together
DEFAULT_TIMEOUT_S = {"cpu": 480.0, "gpu": 300.0}  # generous: CI runners can be slow


def resolve_submission(target=None):
    """``exercises``, ``solutions`` or a folder path -> the folder holding ``exN_*.py``."""
    target = target or os.environ.get("REGNETLAB_SUBMISSION") or "exercises"
    for candidate in (Path(target), REPO / target):
        if candidate.is_dir():
            return candidate.resolve()
    raise FileNotFoundError(
        f"submission {target!r}: no such folder; expected 'exercises', 'solutions' or a "
        f"folder holding {', '.join(m + '.py' for m in EXERCISES.values())}")


class GradeSession:
    def __init__(self, submission=None, train=True, tier="auto", timeout_s=None,
                 memory_gb=6.0, only=None, tests_dirs=(), data=None, jobs=None):
        self.submission = resolve_submission(submission)
        self.tier = pick_tier(tier)
        self.device = "cuda" if self.tier.name == "gpu" else "cpu"
        self.only = set(only) if only else None
        unknown = (self.only or set()) - set(EXERCISES)
        if unknown:
            raise ValueError(f"--only {','.join(sorted(unknown))}: expected exercises among "
                             f"{', '.join(EXERCISES)}")
        self.tests_dirs = [Path(d).resolve() for d in tests_dirs]
        self.no_training = None if train else "training disabled (--no-train)"
        self.data = data
        if train:
            self.no_training = self._check_data()
        # One thread per worker, always: the same arithmetic (so the same accuracy) on
        # every machine, and no OpenMP thrashing on a busy runner, where two threads
        # measured 16x slower than one. Parallelism comes from running workers side by side.
        self.limits = Limits(timeout_s=timeout_s or DEFAULT_TIMEOUT_S[self.tier.name],
                             memory_gb=None if self.device == "cuda" else memory_gb,
                             threads=1)
        self.jobs = jobs or max(1, min(4, os.cpu_count() or 1))
        if self.device == "cuda":
            self.jobs = 1  # one GPU: workers take turns
        self.runs, self._pool = {}, None

    def _check_data(self):
        """None if the training data is there (downloading it here, if allowed), else why not."""
        from ..data import DataError, load_split
        try:
            load_split(self.data, train=False)
        except (DataError, OSError) as e:
            return f"no Fashion-MNIST data to train on ({e})"
        return None

    def options(self):
        return {"train": self.no_training is None, "tier": self.tier.name, "seed": GRADING_SEED,
                "device": self.device, "data": self.data}

    def start(self, exercises):
        """Start the workers of ``exercises``, ``jobs`` at a time, in the background."""
        from concurrent.futures import ThreadPoolExecutor
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="grade-worker")
        # the grader's own code and tests: a worker that edits them is tampering
        watch = [*self.tests_dirs, Path(__file__).parent]
        for ex in sorted(exercises, key=lambda e: COST_ORDER.index(e) if e in COST_ORDER else 9):
            if ex in EXERCISES and ex not in self.runs:
                self.runs[ex] = self._pool.submit(run_worker, ex, self.submission,
                                                  self.options(), self.limits, watch=watch)

    def facts(self, exercise):
        """The worker's answers for ``exercise`` (waiting for its worker)."""
        self.start([exercise])
        run = self.runs[exercise]
        if not isinstance(run, WorkerRun):
            run = self.runs[exercise] = run.result()
        return ExerciseFacts(run, training=self.no_training)

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def thresholds(self):
        """Accuracy thresholds for this tier, from the first tests folder that has them."""
        for d in self.tests_dirs:
            if calibration_file(d).is_file():
                return load_thresholds(calibration_file(d), self.tier.name)
        raise FileNotFoundError("no calibration.json in the tests folders "
                                f"{', '.join(map(str, self.tests_dirs))}")

    def meta(self):
        return {"submission": str(self.submission), "tier": self.tier.name,
                "training": f"off: {self.no_training}" if self.no_training else "on",
                "timeout_s": self.limits.timeout_s, "jobs": self.jobs,
                "workers": {ex: {"seconds": round(r.elapsed_s, 1), "returncode": r.returncode,
                                 "timed_out": r.timed_out, "output_chars": r.output_chars,
                                 "modified_files": r.modified, "rejected_answers": r.rejected,
                                 "test_acc": {p: a["value"]["test_acc"]
                                              for p, a in r.answers.items()
                                              if p.endswith(".train") and a.get("ok")
                                              and isinstance(a.get("value"), dict)
                                              and "test_acc" in a["value"]}}
                            for ex, r in sorted(self.runs.items())
                            if isinstance(r, WorkerRun)}}
