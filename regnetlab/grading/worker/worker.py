"""``python -m regnetlab.grading.worker.worker EXERCISE CODE_DIR OUT_DIR``: the sandboxed side.

Started by ``../sandbox/`` inside the sandbox, with a private copy of the submission in
CODE_DIR. It imports the student's module, builds each graded object the exercise
declares (``exercises/exN_*.py``), captures each network as graphs (``capture.py``) and
writes them to OUT_DIR with its report (``protocol.WorkerReport``: the JSON answers and
any error, worded for the student). That is all: it measures nothing and scores nothing,
so nothing it could be made to say raises a score. Before any student code runs it caps its own
resources with hard limits (address space, file size, CPU time, core dumps).
"""
import argparse
import contextlib
import json
import math
import os
import resource
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from ..protocol import (ANSWERS_FILE, ERROR_CHARS, GRAPHS_SUFFIX, IMPORT, TENSORS_SUFFIX,
                        Capture, NetworkEntry, ProbeResult, WorkerReport, network_stem)

GiB = 1024 ** 3
MAX_FILE_BYTES = 64 * 2 ** 20  # the sandbox reads no larger file back
# Each phase of the student's code gets its own limit, so that a hang is named fast and
# the whole exercise's limit is left for slow runners. The reference solutions' slowest
# phase, measured on the 2-core CPU while other jobs loaded it ("phases" in the worker's
# answers.json): import 0.001 s, build 0.11 s (ex3), capture 1.9 s (ex1). Each limit is
# 20x that or more; an import gets most, since a notebook's own imports (matplotlib,
# torchvision) count there.
PHASE_LIMITS_S = {"import": 20.0, "build": 10.0, "capture": 40.0}


class PhaseTimeout(BaseException):
    """A phase of the student's code ran past its limit (a BaseException, so that an
    ``except Exception`` in the student's code does not swallow it)."""


@contextlib.contextmanager
def phase(step, what, log):
    """Run the body with the limit of ``step`` (a key of ``PHASE_LIMITS_S``); record how
    long it took in ``log``."""
    limit = PHASE_LIMITS_S[step]

    def expired(signum, frame):
        raise PhaseTimeout(f"{what} did not return within {limit:g} s (the limit for "
                           f"its {step}): does it loop forever, wait, or train?")
    timed = threading.current_thread() is threading.main_thread()  # signals: main only
    previous = signal.signal(signal.SIGALRM, expired) if timed else None
    if timed:
        signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.perf_counter()
    try:
        yield
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        log.append({"phase": step, "of": what, "seconds": round(time.perf_counter() - start, 3)})


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
    hard("file-size", resource.RLIMIT_FSIZE, MAX_FILE_BYTES)
    hard("core-dump", resource.RLIMIT_CORE, 0)
    hard("CPU-time", resource.RLIMIT_CPU, int(timeout_s * max(1, threads)) + 30)
    return skipped


def describe_error(exc, code_dir):
    """``Type: message (file.py, line N, in function)`` pointing into the student's code."""
    if isinstance(exc, SystemExit):
        text = f"SystemExit: your code called sys.exit({exc.code!r}) or exit()"
    elif isinstance(exc, PhaseTimeout):
        text = str(exc)
    elif isinstance(exc, MemoryError) or (
            isinstance(exc, RuntimeError) and "allocate" in str(exc)):
        text = (f"{type(exc).__name__}: {_text(exc)} (the grader caps a worker's memory; "
                "do you allocate a huge tensor?)")
    elif isinstance(exc, RuntimeError) and "could not create a primitive" in str(exc):
        # oneDNN's word for a failed allocation of its workspace, e.g. under our memory cap
        text = (f"RuntimeError: {_text(exc)} (oneDNN could not set up a layer: most likely "
                "the grader's memory cap was hit; do you allocate a huge tensor or layer?)")
    elif isinstance(exc, OSError) and exc.errno in (27, 30, 13):  # EFBIG, EROFS, EACCES
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


def warm_up(threads):
    """Import and run our own code paths before the limits (torch's lazy imports write
    temporary files) and before the student's folder is on ``sys.path`` (so a student's
    file cannot shadow torch, safetensors or regnetlab)."""
    import torch
    from safetensors.torch import save
    from torch import nn

    from . import capture
    torch.set_num_threads(threads)
    data = capture.capture(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(),
                                         nn.Flatten(), nn.Linear(2 * 26 * 26, 2)),
                           (Capture.TRAIN28,))
    save(data["tensors"])


def load_student_module(exercise, code_dir):
    from ...files import load_module
    path = Path(code_dir) / f"{exercise.MODULE}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{exercise.MODULE}.py: not found in the submission")
    # under its own name and registered, so a sibling's ``import ex1_deeper_regnetx`` works
    module = sys.modules[exercise.MODULE] = load_module(path, module_name=exercise.MODULE)
    return module


def materialize(model, in_channels):
    """One dry eval pass, so lazy layers get their shapes (book-style code leaves them
    lazy); batch-norm statistics stay untouched in eval mode."""
    import torch
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(2, in_channels, 28, 28))
    model.train(was_training)


def capture_network(spec, module, seed, phases=None):
    import torch
    from torch import nn

    from . import capture
    torch.manual_seed(seed)
    phases = [] if phases is None else phases
    with phase("build", spec.label, phases):
        model = spec.build(module)
    if not isinstance(model, nn.Module):
        raise TypeError(f"{spec.label} returned a {type(model).__name__}, expected an "
                        "nn.Module (a d2l Classifier)")
    in_channels = getattr(model, "in_channels", 1)
    if in_channels != 1:
        raise ValueError(f"{spec.label}.in_channels = {in_channels!r}; Fashion-MNIST images "
                         "have 1 channel")
    with phase("capture", f"capturing {spec.label}", phases):
        materialize(model, 1)
        data = capture.capture(model, spec.captures)
    lr = getattr(model, "lr", None)
    meta = {"name": spec.name, "class": type(model).__name__, "graphs": data["graphs"],
            "lr": lr if isinstance(lr, (int, float)) and not isinstance(lr, bool)
            and math.isfinite(lr) else None}
    if meta["lr"] is None:
        raise ValueError(f"{type(model).__name__}.lr = {lr!r}: expected a learning rate "
                         ">= 0 (the `lr` argument of __init__, 0.1 by default)")
    return meta, data["tensors"]


def main(argv=None):
    p = argparse.ArgumentParser(description="grading worker (started by the grader)")
    p.add_argument("exercise")
    p.add_argument("code_dir")
    p.add_argument("out_dir")
    p.add_argument("--options", default="{}")
    p.add_argument("--timeout", type=float, default=480.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--memory-gb", type=float, default=None)
    args = p.parse_args(argv)
    options = json.loads(args.options)
    from ..exercises import load
    exercise = load(args.exercise)
    warm_up(args.threads)
    skipped = limit_resources(args.memory_gb, args.timeout, args.threads)
    import torch
    report = WorkerReport(worker={"python": sys.version.split()[0], "torch": torch.__version__,
                                  "limits_not_applied": skipped})
    sys.path.insert(0, args.code_dir)
    describe = lambda e: describe_error(e, args.code_dir)  # noqa: E731
    try:
        with phase("import", f"importing {exercise.MODULE}", report.phases):
            module = load_student_module(exercise, args.code_dir)
        report.probes[IMPORT] = ProbeResult.of(
            {"names": sorted(n for n in vars(module) if not n.startswith("_"))[:500]})
    except BaseException as e:  # noqa: B036 - SystemExit too
        report.probes[IMPORT] = ProbeResult.failed(describe(e))
        module = None
    if module is not None:
        for i, spec in enumerate(exercise.NETWORKS):
            report.networks[spec.name] = write_network(
                i, spec, module, options.get("seed", 0), Path(args.out_dir), report.phases,
                describe)
        for name, answer in exercise.ANSWERS.items():
            try:
                report.probes[name] = ProbeResult.of(answer(module))
            except BaseException as e:  # noqa: B036
                report.probes[name] = ProbeResult.failed(describe(e))
    (Path(args.out_dir) / ANSWERS_FILE).write_text(report.dumps())
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: student objects' __del__ cannot run after us


def write_network(index, spec, module, seed, out, phases, describe):
    """Capture network ``index`` of the exercise into its two files; its report entry."""
    from safetensors.torch import save

    from . import capture
    t0 = time.perf_counter()
    try:
        meta, tensors = capture_network(spec, module, seed, phases)
        stem = network_stem(index)
        (out / f"{stem}{GRAPHS_SUFFIX}").write_text(capture.dumps(meta))
        (out / f"{stem}{TENSORS_SUFFIX}").write_bytes(save(tensors))
        return NetworkEntry(stem=stem, seconds=round(time.perf_counter() - t0, 2))
    except capture.CaptureError as e:
        return NetworkEntry(error=f"{spec.label}: {e}"[:ERROR_CHARS])
    except BaseException as e:  # noqa: B036
        text = describe(e)  # a timeout names the object itself
        return NetworkEntry(error=text if text.startswith(spec.label) else f"{spec.label}: {text}")


if __name__ == "__main__":
    main()
