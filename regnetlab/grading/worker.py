"""``python -m regnetlab.grading.worker EXERCISE CODE_DIR --answer-fd N``: the untrusted side.

Started by ``sandbox.run_worker``; runs one exercise's probes (``probes.py``) on the
student's module in ``CODE_DIR`` (a private copy) and writes one JSON line per probe to
file descriptor N. Before any student code runs it caps its own resources with hard
limits the student's code cannot raise again: address space (so a huge tensor fails
with a clear error instead of taking the machine), file size 0 (so it cannot write
files, only create empty ones), CPU time (a backstop to the grader's wall-clock timeout)
and core dumps. A cap the OS refuses (macOS rejects an address-space limit) is skipped
and named in the report's meta. It imports torch and regnetlab before putting CODE_DIR on ``sys.path``,
so a student's file cannot shadow them.
"""
import argparse
import json
import math
import os
import resource
import sys
import time
import traceback

GiB = 1024 ** 3
ERROR_CHARS = 1500


def limit_resources(memory_gb, timeout_s, threads):
    """Set the hard caps; return a note for each one this OS refused (then not applied)."""
    skipped = []

    def hard(what, limit, value):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError) as e:  # macOS: RLIMIT_AS raises ValueError
            skipped.append(f"{what} cap not applied on this OS ({type(e).__name__}: {e})")
    if memory_gb:
        hard("address-space (--memory-gb)", resource.RLIMIT_AS, int(memory_gb * GiB))
    hard("file-size", resource.RLIMIT_FSIZE, 0)
    hard("core-dump", resource.RLIMIT_CORE, 0)
    hard("CPU-time", resource.RLIMIT_CPU, int(timeout_s * max(1, threads)) + 30)
    return skipped


class Channel:
    """One JSON line per message on the answer pipe; NaN and other oddities made safe."""

    def __init__(self, fd):
        self.stream = os.fdopen(fd, "w", buffering=1, encoding="utf-8")

    def send(self, probe, **fields):
        line = json.dumps({"probe": probe, **fields}, default=repr, allow_nan=False,
                          separators=(",", ":"))
        self.stream.write(line + "\n")
        self.stream.flush()


def safe_json(value):
    """Replace non-finite floats (not valid JSON) with strings saying what they were."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): safe_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_json(v) for v in value]
    return value


def describe_error(exc, code_dir):
    """``Type: message (file.py, line N, in function)`` pointing into the student's code."""
    if isinstance(exc, SystemExit):
        text = f"SystemExit: your code called sys.exit({exc.code!r}) or exit()"
    elif isinstance(exc, MemoryError) or (
            isinstance(exc, RuntimeError) and "allocate" in str(exc)):
        text = (f"{type(exc).__name__}: {exc} (the grader caps a worker's memory; "
                "do you allocate a huge tensor?)")
    elif isinstance(exc, RuntimeError) and "could not create a primitive" in str(exc):
        # oneDNN's word for a failed allocation of its workspace, e.g. under our memory cap
        text = (f"RuntimeError: {exc} (oneDNN could not set up a layer: most likely the "
                "grader's memory cap was hit; do you allocate a huge tensor or a huge layer?)")
    elif isinstance(exc, OSError) and exc.errno == 27:  # EFBIG: RLIMIT_FSIZE is 0
        text = (f"OSError: your code tried to write a file ({exc.filename or 'a file'}); "
                "graded code must not write files")
    else:
        text = f"{type(exc).__name__}: {_text(exc)}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.abspath(f.filename).startswith(os.path.abspath(code_dir))]
    if frames:
        f = frames[-1]
        text += f" ({os.path.basename(f.filename)}, line {f.lineno}, in {f.name})"
    return text[:ERROR_CHARS]


def _text(exc):
    try:
        return str(exc)
    except BaseException:  # noqa: B036 - an exception whose __str__ itself fails
        return "(its message could not be printed)"


def warm_up(exercise, code_dir, options, threads):
    """Import and exercise our own code paths (and load the data) before the limits.

    Some of torch's lazy imports write temporary files, which the file-size limit would
    forbid; running them first keeps the limit for the student's code alone. Importing
    torch here, before the student's folder is on ``sys.path``, means a student's file
    cannot shadow it.
    """
    import torch
    import tqdm.auto  # noqa: F401 - Trainer imports it lazily

    from ..summary import complexity
    from . import probes
    torch.set_num_threads(threads)
    complexity(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3), torch.nn.Flatten(),
                                   torch.nn.LazyLinear(2)), (1, 8, 8))
    ctx = probes.Context(exercise, code_dir, options)
    if options.get("train", True):
        try:
            ctx.dataset()
        except Exception:  # noqa: S110 - reported by the training probes, which need it
            pass
    return ctx


def main(argv=None):
    p = argparse.ArgumentParser(description="grading worker (started by the grader)")
    p.add_argument("exercise")
    p.add_argument("code_dir")
    p.add_argument("--answer-fd", type=int, required=True)
    p.add_argument("--options", default="{}")
    p.add_argument("--timeout", type=float, default=480.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--memory-gb", type=float, default=None)
    args = p.parse_args(argv)
    channel = Channel(args.answer_fd)
    options = json.loads(args.options)
    ctx = warm_up(args.exercise, args.code_dir, options, args.threads)
    skipped = limit_resources(args.memory_gb, args.timeout, args.threads)
    import torch
    channel.send("worker", ok=True, value={
        "python": sys.version.split()[0], "torch": torch.__version__,
        "cuda": torch.cuda.is_available(), "threads": args.threads,
        "limits_not_applied": skipped})
    sys.path.insert(0, args.code_dir)
    from . import probes
    ctx.describe = lambda e: describe_error(e, args.code_dir)
    for name, probe in probes.PLANS[args.exercise](ctx):
        channel.send(name, ok=True, started=True)
        t0 = time.perf_counter()
        try:
            value = safe_json(probe())
            channel.send(name, ok=True, value=value, seconds=round(time.perf_counter() - t0, 2))
        except probes.Failed as e:
            channel.send(name, ok=False, error=str(e)[:ERROR_CHARS], dependent=True)
        except BaseException as e:  # noqa: B036 - SystemExit and KeyboardInterrupt too
            channel.send(name, ok=False, error=describe_error(e, args.code_dir))
    channel.send("done", ok=True)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: student objects' __del__ cannot run after us


if __name__ == "__main__":
    main()
