"""One grading session: what is graded, how, and each exercise's measurement (made once).

Everything here runs in the trusted grading process. It checks the options, decides the
training tier and the limits, finds the training data (downloading it once, here, if
allowed) and loads every input the tests read (thresholds, reference FLOPs) *before*
any worker starts. Per exercise, two steps run one after the other:

1. the *worker*, in the sandbox (``../sandbox/``), with the student's code: it builds the
   graded objects and sends back graphs and JSON answers (``../protocol.py``), nothing more;
2. the *measurement* (``../measure/``), in a thread of this process, on those files: it
   rebuilds every network from its graph (allowlisted operations only, sizes checked
   before anything is allocated) and measures and trains it, on data the worker never
   saw. No student code runs in this process.

They start when the tests are collected; each exercise is measured once per run, with
seed 0, and graded the same way every run.
"""
import math
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

from ...project import ROOT as REPO
from .. import intake
from ..exercises import EXERCISES, load
from ..measure.training import (GRADING_SEED, calibration_file, describe, load_data,
                                load_thresholds, parse_reduced, pick_device, pick_tier, reduced)
from ..protocol import MEASURER, Measurement, ProbeResult
from ..sandbox import (LEVELS, Limits, LiveWorkers, WorkerRun, isolation_gaps,
                       isolation_levels, run_worker)
from .facts import ExerciseFacts

DEFAULT_TIMEOUT_S = {"cpu": 480.0, "gpu": 300.0}  # generous: CI runners can be slow
MIN_MEMORY_GB = 4.0  # measured: the reference solutions fail under a 3 GiB cap, pass at 4


def resolve_submission(target=None):
    """``exercises``, ``solutions`` or a folder path -> the folder holding ``exN_*.py``."""
    target = target or os.environ.get("REGNETLAB_SUBMISSION") or "exercises"
    for candidate in (Path(target), REPO / target):
        if candidate.is_dir():
            return candidate.resolve()
    raise FileNotFoundError(
        f"submission {target!r}: no such folder; expected 'exercises', 'solutions' or a "
        f"folder holding {', '.join(m + '.py' for m in EXERCISES.values())}")


@dataclass
class Measured:
    """One exercise's worker run and its probes, measured in ``seconds``; ``training``:
    its training runs still going (``{probe: Future}``), until collected into ``probes``."""
    worker: WorkerRun
    probes: dict                # probe -> ProbeResult
    seconds: float = 0.0
    training: dict = field(default_factory=dict)


class ExerciseRun:
    """One exercise in a session: measured in the session's pool (``future``), then
    collected once, its training runs included (``result()``; ``collected`` until then
    is None)."""

    def __init__(self, future: Future):
        self.future, self.collected = future, None

    def result(self) -> Measured:
        if self.collected is None:
            m = self.future.result()
            runs = {p: f.result() for p, f in m.training.items()}
            self.collected = Measured(m.worker, {**m.probes, **runs}, m.seconds)
        return self.collected


class GradeSession:
    def __init__(self, submission=None, train=True, tier="auto", timeout_s=None,
                 memory_gb=6.0, only=None, tests_dirs=(), data=None, jobs=None,
                 device="auto", reduced_data=None):
        check_platform()
        check_limits(timeout_s, memory_gb, jobs)
        self.submission = resolve_submission(submission)
        # the tier is the recipe (data, epochs, batch, autocast, thresholds), the device
        # only where it runs: the GPU tier's whole path runs on a CPU too
        self.tier = pick_tier(tier, device or "auto")
        self.device = pick_device(self.tier, device or "auto")
        if reduced_data:  # never silent: the tier records it and every report says it
            self.tier = reduced(self.tier, *parse_reduced(reduced_data))
        self.only = set(only) if only else None
        unknown = (self.only or set()) - set(EXERCISES)
        if unknown:
            raise ValueError(f"--only {','.join(sorted(unknown))}: expected exercises among "
                             f"{', '.join(EXERCISES)}")
        check_plans(self.only or EXERCISES)
        self.tests_dirs = [Path(d).resolve() for d in tests_dirs]
        self.no_training = None if train else "training disabled (--no-train)"
        # the workers get this absolute folder: their HOME is a private one, so a default
        # resolved there would be another (empty) cache
        self.data = prepare_data(data) if train else None
        self._thresholds = self._load_thresholds() if train else {}
        self.reference = reference_facts()
        # One thread per worker, always: the same arithmetic (so the same accuracy) on
        # every machine, and no OpenMP thrashing on a busy runner, where two threads
        # measured 16x slower than one. Parallelism comes from running workers side by side.
        self.limits = Limits(timeout_s=timeout_s or DEFAULT_TIMEOUT_S[self.tier.name],
                             memory_gb=None if self.device == "cuda" else memory_gb,
                             threads=1)
        self.jobs = jobs or max(1, min(4, os.cpu_count() or 1))
        if self.device == "cuda":
            self.jobs = 1  # one GPU: workers take turns
        self.live = LiveWorkers()
        # which file each exercise is graded from (a notebook converted): the workers
        # import this staged copy, never the submission's folder itself
        self.staged = Path(tempfile.mkdtemp(prefix="regnetlab-intake-"))
        self.sources = intake.stage(self.submission, self.staged,
                                    {ex: m for ex, m in EXERCISES.items()
                                     if self.only is None or ex in self.only})
        self.runs: dict[str, ExerciseRun] = {}
        self._pool = None
        self._dataset, self._data_lock = None, threading.Lock()
        # measurements run in threads of this process, one torch thread each: the same
        # arithmetic on every machine (so the same accuracy), parallel across exercises
        import torch
        torch.set_num_threads(1)

    def options(self):
        """What the trusted measurer needs (the worker gets only the seed)."""
        return {"train": self.no_training is None, "tier": self.tier, "seed": GRADING_SEED,
                "device": self.device, "data": self.data}

    def start(self, exercises):
        """Start measuring ``exercises``, ``jobs`` at a time, in the background."""
        from concurrent.futures import ThreadPoolExecutor
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="grade-worker")
        for ex in sorted(exercises, key=_cost, reverse=True):
            if ex in EXERCISES and ex not in self.runs:
                self.runs[ex] = ExerciseRun(self._pool.submit(self._measure, ex))

    def _measure(self, exercise):
        """Worker in the sandbox, then the trusted measurement of what it sent back."""
        from ..measure.exercise import measure_exercise
        worker_options = {"seed": GRADING_SEED}  # the worker learns nothing else
        source = self.sources[exercise]
        if source.error:  # a notebook that cannot be read: nothing to start a worker on
            run = WorkerRun(exercise, returncode=0, isolation=isolation_levels())
            return Measured(run, {MEASURER: ProbeResult.failed(source.error)})
        run = run_worker(exercise, self.staged, worker_options, self.limits,
                         live=self.live)
        t0 = time.perf_counter()
        if self.live.stopped:
            return Measured(run, {})
        later = {}
        try:
            probes = measure_exercise(run.files, exercise, self.options(), self.dataset,
                                      later=later)
        except Exception as e:  # a bug of ours: say so, never a score
            probes = {MEASURER: ProbeResult.failed((
                f"the grader's measurement failed ({type(e).__name__}: {e}); please tell "
                "your instructor")[:2000])}
        probes = {name: _located(answer, source) for name, answer in probes.items()}
        # each training run is a task of its own, so that an exercise with four networks
        # to train (ex3) uses every thread once the other exercises are done
        training = {probe: self._pool.submit(job) for probe, job in later.items()}
        return Measured(run, probes, time.perf_counter() - t0, training)

    def dataset(self):
        """The tier's training data, loaded once and shared by the measuring threads."""
        with self._data_lock:
            if self._dataset is None:
                self._dataset = load_data(self.tier, self.data, self.device)
            return self._dataset

    def facts(self, exercise):
        """The measured facts for ``exercise`` (waiting for its measurement)."""
        self.start([exercise])
        measured = self.runs[exercise].result()
        return ExerciseFacts(measured.worker, measured.probes, training=self.no_training)

    def close(self, interrupted=False):
        """Wait for the workers; when ``interrupted`` (Ctrl-C), kill them first."""
        if interrupted:
            self.live.kill_all()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        intake.remove(self.staged)

    def thresholds(self):
        """Accuracy thresholds for this tier (read before any worker started)."""
        return self._thresholds

    def _load_thresholds(self):
        for d in self.tests_dirs:
            if calibration_file(d).is_file():
                return load_thresholds(calibration_file(d), self.tier.name)
        raise FileNotFoundError("the grader could not run: no calibration.json in the tests "
                                f"folders {', '.join(map(str, self.tests_dirs)) or '(none)'}")

    def isolation(self):
        """The isolation levels in force for every worker of this run (the weakest)."""
        runs = [m.worker for m in self.done().values()]
        if not runs:
            return isolation_levels()
        common = set(runs[0].isolation)
        for r in runs[1:]:
            common &= set(r.isolation)
        return [level for level in runs[0].isolation if level in common] or ["none"]

    def isolation_gaps(self):
        """``{level: why}`` for each isolation level not in force for every worker."""
        inforce, why = set(self.isolation()), isolation_gaps()
        return {level: why.get(level, "not in force for every worker of this run")
                for level in LEVELS if level not in inforce}

    def done(self):
        """{exercise: Measured} of the exercises collected so far, in order."""
        return {ex: r.collected for ex, r in sorted(self.runs.items()) if r.collected}

    def training_runs(self):
        """{probe: the recipe each training run used, where, on how many images}."""
        keep = ("tier", "device", "num_train", "num_test", "seconds", "images_per_s")
        return {p: {k: value.get(k) for k in keep}
                for ex, m in self.done().items()
                for p, value in sorted(trained(ex, m.probes).items()) if "tier" in value}

    def meta(self):
        return {"submission": str(self.submission), "tier": self.tier.name,
                "device": self.device,
                "reduced_data": {"train": self.tier.limit_train, "test": self.tier.limit_test}
                if self.tier.reduced else None,
                "run": describe(self.tier, self.device),
                "training_runs": self.training_runs(),
                "training": f"off: {self.no_training}" if self.no_training else "on",
                "data": self.data, "isolation": self.isolation(),
                "isolation_gaps": self.isolation_gaps(),
                "sources": {ex: src.describe() for ex, src in sorted(self.sources.items())},
                "timeout_s": self.limits.timeout_s, "jobs": self.jobs,
                "workers": {ex: _worker_meta(ex, m) for ex, m in self.done().items()}}


def _worker_meta(exercise, measured):
    r = measured.worker
    return {"seconds": round(r.elapsed_s, 1), "returncode": r.returncode,
            "timed_out": r.timed_out, "output_chars": r.output_chars,
            "isolation": r.isolation, "survivors": r.survivors, "rejected_files": r.rejected,
            "measure_seconds": round(measured.seconds, 1),
            "test_acc": {p: value["test_acc"] for p, value in
                         trained(exercise, measured.probes).items() if "test_acc" in value}}


def trained(exercise, probes):
    """{probe: value} of the exercise's training runs that measured something."""
    found = {}
    for spec in load(exercise).NETWORKS:
        answer = probes.get(spec.probe(Measurement.TRAIN)) if spec.train else None
        if answer is not None and answer.ok and isinstance(answer.value, dict):
            found[spec.probe(Measurement.TRAIN)] = answer.value
    return found


def _located(answer, source):
    """``answer`` with its errors pointing at the notebook's cells."""
    value = answer.value
    if isinstance(value, dict) and "error" in value:
        value = dict(value, error=source.locate(value["error"]))
    return replace(answer, error=source.locate(answer.error), value=value)


def _cost(exercise):
    """Networks to train, then to capture: slowest first, so parallel ones finish together."""
    if exercise not in EXERCISES:
        return (0, 0)
    nets = load(exercise).NETWORKS
    return (sum(1 for n in nets if n.train), len(nets))


def check_platform():
    """The sandbox needs POSIX process groups and resource limits: refuse Windows now."""
    if sys.platform == "win32":
        from ...arguments import UsageError
        raise UsageError("regnetlab grade needs Linux, macOS or WSL on Windows (its sandbox "
                         "uses POSIX process groups and resource limits)")


def check_limits(timeout_s, memory_gb, jobs):
    if timeout_s is not None and not (math.isfinite(timeout_s) and timeout_s > 0):
        raise ValueError(f"--timeout {timeout_s:g}: expected a number of seconds > 0")
    if memory_gb is not None and not (math.isfinite(memory_gb)
                                      and memory_gb >= MIN_MEMORY_GB):
        raise ValueError(f"--memory-gb {memory_gb:g}: expected at least {MIN_MEMORY_GB:g} "
                         "(GiB): under a smaller cap even the reference solutions fail")
    if jobs is not None and (int(jobs) != jobs or jobs < 1):
        raise ValueError(f"--jobs {jobs}: expected a whole number >= 1")


def check_plans(exercises):
    """Every exercise to grade needs its module, or its worker would capture nothing."""
    missing = sorted(set(exercises) - set(EXERCISES))
    if missing:
        raise ValueError(f"exercise {', '.join(missing)} has no module: add "
                         "regnetlab/grading/exercises/exN_name.py (see 'Adding an exercise' "
                         "in docs/instructors/index.md)")


def prepare_data(data):
    """The absolute Fashion-MNIST folder the workers read, verified (downloaded if allowed)."""
    from ...data import DataError, load_split, resolve_root
    root, may_download = resolve_root(data)
    root = root.expanduser().resolve()
    try:
        load_split(root, train=False, download_ok=may_download)
    except (DataError, OSError) as e:
        raise DataError(f"the grader could not run: no Fashion-MNIST data to train on ({e}); "
                        "--no-train grades without the training lines") from None
    return str(root)


def reference_facts():
    """Quantities the tests compare with, measured here on the library's own models."""
    from ...anynet import RegNetX32
    from ...summary import complexity
    return {"RegNetX32.flops": complexity(RegNetX32()).flops}
