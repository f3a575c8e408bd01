"""Where independent jobs run: a process pool on this machine, or a Ray cluster.

The explorer's sweeps (one network per job) and ``regnetlab grade-many`` (one submission
per job) only need one operation, ``engine.map_unordered(fn, items)``: call ``fn(item)``
for every item somewhere and yield ``(item, result)`` pairs as they finish, where a job
that raised yields its exception as the result (so the caller decides whether one
failure stops the batch). ``fn`` must be picklable: a top-level function, or a
``functools.partial`` of one.

Close the iterator (``contextlib.closing``, or exhaust it) to stop: the jobs still queued
are dropped and running ones killed, and a Ray instance the engine started is shut down.
"""
import multiprocessing as mp
import os
import time
from concurrent.futures import (FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor,
                                as_completed, wait)

STOP_GRACE_S = 5.0  # how long a stopped job may take to exit by itself before SIGKILL


class EngineError(ValueError):
    """The engine cannot run here (Ray is not installed, or its cluster is unreachable).

    A ValueError, so that the command line reports it in one line like other bad input."""


class LocalEngine:
    """``workers`` processes on this machine; ``workers=1`` runs every job in this process.
    ``threads=True``: ``workers`` threads of this process, for jobs that are processes of
    their own already (a grading), which a thread only waits on.

    ``initializer(*initargs)`` runs once in each worker (or here, for one worker) before
    its first job: the place to load data that every job shares.
    """

    name = "local"

    def __init__(self, workers=1, initializer=None, initargs=(), threads=False):
        if int(workers) != workers or workers < 1:
            raise ValueError(f"workers={workers!r}: expected a positive whole number")
        self.workers, self.initializer, self.initargs = int(workers), initializer, initargs
        self.threads = threads

    def __repr__(self):
        return f"LocalEngine(workers={self.workers}{', threads=True' if self.threads else ''})"

    def map_unordered(self, fn, items):
        items = list(items)
        if self.threads:
            yield from self._in_threads(fn, items)
        elif self.workers == 1:
            yield from self._in_process(fn, items)
        else:
            yield from self._in_pool(fn, items)

    def _in_process(self, fn, items):
        if self.initializer is not None and items:
            self.initializer(*self.initargs)
        for item in items:
            try:
                result = fn(item)
            except Exception as e:  # a KeyboardInterrupt here is the user's: let it stop us
                result = e
            yield item, result

    def _in_threads(self, fn, items):
        if self.initializer is not None and items:
            self.initializer(*self.initargs)
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="regnetlab-job")
        try:
            futures = {pool.submit(fn, item): item for item in items}
            for fut in as_completed(futures):
                try:
                    result = fut.result()
                except Exception as e:
                    result = e
                yield futures[fut], result
        finally:  # closed early: queued jobs are dropped, running ones waited for
            pool.shutdown(wait=True, cancel_futures=True)

    def _in_pool(self, fn, items):
        # spawn, not fork: torch and fork mix badly (threads, CUDA)
        pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                   initializer=self.initializer, initargs=self.initargs)
        # the worker list is taken early: shutdown() sets the pool's _processes to None
        procs, pending = [], {}
        try:
            pending = {pool.submit(fn, item): item for item in items}
            procs = list((getattr(pool, "_processes", None) or {}).values())
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    item = pending.pop(fut)
                    try:
                        result = fut.result()
                    except BaseException as e:  # the job's own error, KeyboardInterrupt included
                        result = e
                    yield item, result
        except BaseException:  # GeneratorExit too: the caller closed us early
            _stop_pool(pool, procs)
            raise
        pool.shutdown()


def _stop_pool(pool, procs):
    """Drop queued jobs and stop running ones (their results are lost; a rerun redoes
    them); return only once every worker the pool started has exited."""
    # the list taken at the start, and any worker the pool started since (it may replace
    # or add workers while jobs are queued); shutdown() stops it starting more
    known = {}
    for p in [*(procs or []), *(getattr(pool, "_processes", None) or {}).values()]:
        known.setdefault(p.pid, p)
    manager = getattr(pool, "_executor_manager_thread", None)  # shutdown() forgets it
    pool.shutdown(wait=False, cancel_futures=True)
    workers = list(known.values())
    for proc in workers:
        proc.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for proc in workers:
        proc.join(timeout=max(0.0, deadline - time.monotonic()))
    for proc in workers:
        if proc.is_alive():  # SIGTERM not honoured in time: no more asking
            proc.kill()
    for proc in workers:
        proc.join()  # SIGKILL cannot be caught or refused, so this wait ends, loaded or not
    # the pool's own thread reaps workers too; until it has finished, a worker it reaped
    # can still look alive (its exit status not yet stored), so wait for that thread
    if manager is not None:
        manager.join(timeout=STOP_GRACE_S * 6)


def _call(fn, item):
    """Run one job in a Ray worker; errors travel back as values, with their own type."""
    try:
        return fn(item)
    except BaseException as e:
        return e


class RayEngine:
    """Each job a Ray task (one CPU each) on a Ray cluster.

    ``address=None`` starts a private Ray instance on this machine (``num_cpus`` CPUs,
    default all) and shuts it down when the jobs are done; ``address="auto"`` or
    ``"ray://host:10001"`` joins a running cluster, whose workers must be able to import
    regnetlab and read the data folder. ``ray_init`` adds keyword arguments for
    ``ray.init`` (e.g. ``_temp_dir``).
    """

    name = "ray"

    def __init__(self, address=None, num_cpus=None, **ray_init):
        try:
            import ray  # noqa: F401
        except ImportError:
            raise EngineError("--engine ray needs Ray, which is not installed; install it "
                              "with: pip install 'regnetlab[ray]'") from None
        if num_cpus is not None and (int(num_cpus) != num_cpus or num_cpus < 1):
            raise ValueError(f"num_cpus={num_cpus!r}: expected a positive whole number")
        if address is not None and num_cpus is not None:
            raise ValueError("num_cpus applies to a Ray instance started here; with "
                             "--address the cluster decides how many CPUs it has")
        self.address, self.num_cpus, self.ray_init = address, num_cpus, ray_init

    def __repr__(self):
        return f"RayEngine(address={self.address!r}, num_cpus={self.num_cpus!r})"

    def _start(self, ray):
        kwargs = {"include_dashboard": False, "log_to_driver": False, **self.ray_init}
        if self.address is None:
            # our workers import regnetlab the way this process does
            kwargs.setdefault("runtime_env", {"env_vars": _import_env()})
            if self.num_cpus is not None:
                kwargs["num_cpus"] = self.num_cpus
        try:
            ray.init(address=self.address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise EngineError(f"--engine ray: could not start or join Ray at "
                              f"{self.address or 'a new local instance'} ({e})") from None

    def map_unordered(self, fn, items):
        import ray

        items = list(items)
        if not items:
            return
        started = not ray.is_initialized()
        if started:
            self._start(ray)
        pending = {}
        try:
            task = ray.remote(num_cpus=1, max_retries=0)(_call)
            fn_ref = ray.put(fn)  # shipped once, not once per job
            pending = {task.remote(fn_ref, item): item for item in items}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    item = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except Exception as e:  # the worker died, or the task was cancelled
                        result = e
                    yield item, result
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            if pending:  # a cancelled task is done once its worker has been killed
                ray.wait(list(pending), num_returns=len(pending), timeout=STOP_GRACE_S * 6)
            if started:
                ray.shutdown()


def _import_env():
    """PYTHONPATH and thread settings that Ray workers need to run our jobs like this process."""
    env = {k: os.environ[k] for k in ("PYTHONPATH", "REGNETLAB_DATA", "OMP_NUM_THREADS")
           if k in os.environ}
    from .project import ROOT
    here = str(ROOT)
    paths = env.get("PYTHONPATH", "").split(os.pathsep) if env.get("PYTHONPATH") else []
    if here not in paths:
        env["PYTHONPATH"] = os.pathsep.join([here, *paths])
    return env


ENGINES = {"local": LocalEngine, "ray": RayEngine}  # what --engine accepts


def make_engine(name="local", workers=1, address=None, initializer=None, initargs=(),
                threads=False):
    """The engine a command line asked for: ``--engine local|ray``, ``workers`` jobs at a time
    (with Ray and no ``address``: the CPUs of the Ray instance started here), ``--address``.
    The one place that turns those options into an engine (explorer and grade-many)."""
    if name not in ENGINES:
        raise ValueError(f"--engine {name!r}: expected one of {', '.join(ENGINES)}")
    if name == "ray":
        return RayEngine(address) if address is not None else RayEngine(num_cpus=workers)
    if address is not None:
        raise ValueError(f"--address {address}: only used with --engine ray; the local "
                         "engine runs here")
    return LocalEngine(workers, initializer, initargs, threads=threads)
