"""Run a study's trials on an engine, appending each result to the results file at once.

Trials are independent, so any engine of :mod:`regnetlab.engines` runs them: a process
pool here (the default) or Ray tasks. Every worker loads the (small) training set once,
uses one thread (``torch.set_num_threads``), and trains one network at a time; this
process alone writes the results file, one line per finished network. Ctrl-C (or a
killed job) loses only the networks in flight; rerunning the same command skips every
network already in the file. A network's draw and its training seed depend on its key
only, so the engine does not change what is recorded.
"""
import contextlib
import functools
import time
from datetime import datetime, timezone

from ..engines import LocalEngine
from .results import ResultsWriter
from .study import build_model

_WORKER = {}
TRAIN_ARGS = ("source", "data_root", "device", "threads")  # after ``settings``, in order


def init_worker(settings, source=None, data_root=None, device=None, threads=1):
    """Set up one worker: threads, device and the resident training/test images."""
    import torch

    from ..data import FashionMNIST
    from ..trainer import pick_device

    torch.set_num_threads(threads)
    dev = pick_device(device)
    _WORKER.update(settings=settings, source=source, device=dev, data=FashionMNIST(
        batch_size=settings["batch_size"], root=data_root, device=dev,
        limit_train=settings["train_images"], limit_test=settings["test_images"],
        seed=settings["seed"]))


def check_data(settings, source=None, data_root=None, device=None, threads=1):
    """Verify the data folder once here, before any worker starts (same arguments as
    :func:`init_worker`): a bad ``--data`` then fails with one error, not one per worker,
    and a first download happens once."""
    from ..data import load_split

    load_split(data_root, train=False)


def train_one(trial, settings, source=None, data_root=None, device=None, threads=1):
    """Train one trial in this process, loading the data on first use.

    The entry point for a distributed engine (Ray, Dask, submitit): ship ``trial`` and
    ``settings`` to any machine, call this, send the record back to one writer.
    """
    if _WORKER.get("settings") != settings or _WORKER.get("source") != source:
        init_worker(settings, source, data_root, device, threads)
    return train_trial(trial)


def train_trial(trial):
    """Train the trial's network with the worker's budget; return its result record."""
    import torch

    from ..summary import complexity
    from ..trainer import DEFAULT, Trainer

    s, data = _WORKER["settings"], _WORKER["data"]
    start = time.perf_counter()
    torch.manual_seed(trial.seed)
    model = build_model(trial, s["lr"], _WORKER["source"])
    cost = complexity(model)
    trainer = Trainer(s["epochs"], recipe=DEFAULT, device=_WORKER["device"], seed=trial.seed,
                      progress=False, eval_every_epoch=False)
    try:
        res = trainer.fit(model, data)
        err, train_err, loss, diverged = 1 - res.test_acc, 1 - res.train_acc, res.train_loss, False
        train_time, dev = res.train_time_s, res.device
    except FloatingPointError:  # a diverged network errs like chance; keep it in the EDF
        err, train_err, loss, diverged = 0.9, 0.9, None, True
        train_time, dev = None, str(_WORKER["device"])
    return {"key": trial.key, "group": trial.group, "kind": trial.kind,
            "config": trial.config, "seed": trial.seed, "params": cost.params,
            "flops": cost.flops, "test_error": err, "train_error": train_err,
            "train_loss": loss, "diverged": diverged, "train_time_s": train_time,
            "wall_time_s": time.perf_counter() - start, "device": dev,
            "epochs": s["epochs"], "num_train": data.num_train, "num_test": data.num_val,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def run_sweep(path, study, settings, trials, engine=None, runner=None, initargs=(),
              log=print, check=None):
    """Train every trial not yet in ``path`` on ``engine``; returns ``(records, seconds)``.

    ``engine`` is a :mod:`regnetlab.engines` engine (default: one local process).
    ``runner(trial)`` returns the record to append; it must be picklable for a process
    pool or Ray, and defaults to :func:`train_one` with ``settings`` and ``initargs``
    (source, data folder, device, threads). ``check(settings, *initargs)``, if given
    (e.g. :func:`check_data`), runs once here before any training; if it fails, a
    results file this call created holds no network and is removed again. A job that
    raises stops the sweep with its own error; the networks already finished stay.
    """
    engine = engine or LocalEngine(1)
    runner = runner or functools.partial(train_one, settings=settings,
                                         **dict(zip(TRAIN_ARGS, initargs)))
    keys = [t.key for t in trials]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{study}: trial keys are not unique")
    start = time.perf_counter()
    with ResultsWriter(path, study, settings) as writer:
        todo = [t for t in trials if t.key not in writer.done]
        if todo and check is not None:
            try:
                check(settings, *initargs)
            except BaseException:
                if writer.created:
                    writer.path.unlink(missing_ok=True)
                raise
        log(f"{study}: {len(trials)} networks; {len(trials) - len(todo)} already in {path}; "
            f"training {len(todo)} on {engine!r}")
        if not todo:
            return writer.records, 0.0
        with contextlib.closing(engine.map_unordered(runner, todo)) as results:
            for i, (trial, rec) in enumerate(results, 1):
                if isinstance(rec, BaseException):
                    raise rec  # closing() then stops the jobs still running
                writer.append(rec)
                took = time.perf_counter() - start
                log(f"[{i}/{len(todo)}] {rec['key']}: error {rec['test_error']:.3f} "
                    f"({rec['params']:,} params, {rec['flops'] / 1e6:.2f} MFLOPs, "
                    f"{rec['wall_time_s']:.1f} s){' DIVERGED' if rec.get('diverged') else ''} "
                    f"| {took:.0f} s elapsed, ~{took / i * (len(todo) - i):.0f} s left")
        return writer.records, time.perf_counter() - start
