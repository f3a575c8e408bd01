"""Run a study's trials in worker processes on one machine, appending each result at once.

Trials are independent, so the sweep is a plain process pool: every worker loads the
(small) training set once, uses one thread (``torch.set_num_threads``), and trains one
network at a time; the parent alone writes the results file, one line per finished
network. Ctrl-C (or a killed job) loses only the networks in flight; rerunning the same
command skips every network already in the file.
"""
import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime, timezone

from .results import ResultsWriter
from .studies import build_model

_WORKER = {}


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


def run_sweep(path, study, settings, trials, workers=1, initargs=(), runner=train_trial,
              init=init_worker, log=print, check=None):
    """Train every trial not yet in ``path``; returns ``(records, seconds)``.

    ``init(settings, *initargs)`` prepares each worker (or this process when
    ``workers == 1``); ``runner(trial)`` returns the record to append. ``check(settings,
    *initargs)``, if given (e.g. :func:`check_data`), runs once here before any training;
    if it fails, a results file this call created holds no network and is removed again.
    """
    if workers < 1:
        raise ValueError(f"--workers {workers}: expected at least 1")
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
            f"training {len(todo)} with {workers} worker(s)")
        if not todo:
            return writer.records, 0.0

        def record(rec, i):
            writer.append(rec)
            took = time.perf_counter() - start
            log(f"[{i}/{len(todo)}] {rec['key']}: error {rec['test_error']:.3f} "
                f"({rec['params']:,} params, {rec['flops'] / 1e6:.2f} MFLOPs, "
                f"{rec['wall_time_s']:.1f} s){' DIVERGED' if rec['diverged'] else ''} "
                f"| {took:.0f} s elapsed, ~{took / i * (len(todo) - i):.0f} s left")

        if workers == 1:
            init(settings, *initargs)
            for i, t in enumerate(todo, 1):
                record(runner(t), i)
        else:
            pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                       initializer=init, initargs=(settings, *initargs))
            try:
                futures = [pool.submit(runner, t) for t in todo]
                for i, fut in enumerate(as_completed(futures), 1):
                    record(fut.result(), i)
            except BaseException:
                # Stop now: queued trials are dropped, running ones killed (their
                # networks were not recorded, so a rerun trains them again). The worker
                # list is taken first: shutdown() sets the pool's _processes to None.
                procs = list((getattr(pool, "_processes", None) or {}).values())
                pool.shutdown(wait=False, cancel_futures=True)
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.join(timeout=5)
                    if proc.is_alive():  # SIGTERM not honoured in time: no more asking
                        proc.kill()
                        proc.join(timeout=5)
                raise
            pool.shutdown()
        return writer.records, time.perf_counter() - start
