"""The Training page's tables, read from measurement files, each with its command.

Sources (all committed; nothing here is typed):

- laptop-class CPU: ``benchmarks/results/bench_train_cpu.json`` (``benchmarks/bench_train.py``,
  the book's pipeline and ours side by side) and
  ``benchmarks/results/recipe_calibration.jsonl`` (``benchmarks/calibrate_recipe.py``, the
  main job ``regnetlab train RegNetX32`` at its defaults);
- GPU: ``docs/measurements/gpu-h200/`` (``SOURCE.md`` says what ran, where and when):
  ``gpu-h200-run.log`` (every command and its output, in order) and
  ``gpu-h200-bench.json`` (the same benchmark on the GPU).

``python docs/scripts/build_assets.py`` writes the snippets; ``--check`` finds them stale
when a measurement file changes.
"""
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CPU_BENCH = REPO / "benchmarks/results/bench_train_cpu.json"
CPU_RECIPE = REPO / "benchmarks/results/recipe_calibration.jsonl"
GPU_DIR = REPO / "docs/measurements/gpu-h200"
GPU_LOG = GPU_DIR / "gpu-h200-run.log"
GPU_BENCH = GPU_DIR / "gpu-h200-bench.json"
BENCH_COMMAND = "benchmarks/bench_train.py --epochs 3 --target 0.87"


class MeasurementError(ValueError):
    """A measurement file is missing or not as this module expects."""


def _read(path):
    if not path.is_file():
        raise MeasurementError(f"{path.relative_to(REPO)} is missing")
    return path.read_text()


def gpu_runs(log=GPU_LOG):
    """Each ``=== HH:MM:SS name (limit Ns): COMMAND`` block of the GPU log: command, output."""
    text = _read(log)
    runs = {}
    for m in re.finditer(r"^=== \S+ (\w+) \(limit \d+s\): (.+?)\n(.*?)^=== \1 rc=(\d+)",
                         text, re.M | re.S):
        runs[m.group(1)] = {"command": m.group(2).strip(), "output": m.group(3),
                            "rc": int(m.group(4))}
    header = text.splitlines()[:3]
    gpu = header[1].split(",")[0].strip() if len(header) > 1 else "?"
    torch_version = re.search(r"torch (\S+)", text)
    cpus = re.search(r"cpus (\d+)", text)
    return runs, {"gpu": gpu, "torch": torch_version.group(1) if torch_version else "?",
                  "cpus": cpus.group(1) if cpus else "?"}


TRAIN_LINE = re.compile(r"test accuracy ([\d.]+) after (\d+) epochs \((\d+) train / (\d+) "
                        r"test images, (\d+x\d+)\) \| wall time ([\d.]+) s \| (\d+) images/s")


def train_result(run):
    m = TRAIN_LINE.search(run["output"])
    if m is None:
        raise MeasurementError(f"no `regnetlab train` result line in {run['command']!r}")
    acc, epochs, n_train, n_test, size, wall, ips = m.groups()
    return {"acc": float(acc), "epochs": int(epochs), "n_train": int(n_train), "size": size,
            "wall": float(wall), "ips": int(ips)}


def grade_result(run):
    total = re.search(r"total: (\d+)/(\d+) points", run["output"])
    secs = re.search(r"tier (\w+); training on; (\d+) s", run["output"])
    if total is None or secs is None:
        raise MeasurementError(f"no grading summary in {run['command']!r}")
    return {"points": f"{total.group(1)}/{total.group(2)}", "tier": secs.group(1),
            "seconds": int(secs.group(2))}


def main_job_cpu():
    """The recipe-calibration record of ``regnetlab train RegNetX32`` at its defaults."""
    import sys
    sys.path.insert(0, str(REPO))
    from regnetlab.train_cli import DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, DEFAULT_LR
    for line in _read(CPU_RECIPE).splitlines():
        r = json.loads(line)
        if (r["epochs"], r["batch_size"], r["lr"], r["seed"]) == (
                DEFAULT_EPOCHS, DEFAULT_BATCH_SIZE, DEFAULT_LR, 0):
            return r
    raise MeasurementError(f"{CPU_RECIPE.name} has no seed-0 run at the defaults "
                           f"({DEFAULT_EPOCHS} epochs, batch {DEFAULT_BATCH_SIZE}, lr {DEFAULT_LR})")


def _fmt(x, digits=1):
    return f"{x:,.{digits}f}"


def _minutes(seconds):
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def times_table():
    """Measured times on a laptop-class CPU and on a GPU, side by side, with commands."""
    cpu = json.loads(_read(CPU_BENCH))
    gpu = json.loads(_read(GPU_BENCH))
    runs, machine = gpu_runs()
    main_cpu = main_job_cpu()
    t28, t96 = train_result(runs["train28"]), train_result(runs["train96"])
    grade = grade_result(runs["grade_gpu"])
    n_train = t28["n_train"]

    def to_target(bench, who):
        target = bench["target"]
        for h in bench["28"][who]["history"]:
            if h["test_acc"] >= target:
                return h["train_time_s"]
        return None

    def ips(bench, size, who):
        return bench[size][who]["images_per_s"]

    rows = [
        ("`regnetlab train RegNetX32` (our recipe, 3 epochs at 28x28)",
         f"{_fmt(main_cpu['train_time_s'])} s training, test accuracy {main_cpu['test_acc']:.4f}",
         f"{_fmt(t28['wall'])} s wall, test accuracy {t28['acc']:.4f}"),
        ("the same at 96x96 (`--resize 96`, the book's image size)",
         "not run (see the estimate below)",
         f"{_fmt(t96['wall'])} s wall, test accuracy {t96['acc']:.4f}"),
        ("training images/s at 28x28: book's pipeline / ours",
         f"{_fmt(ips(cpu, '28', 'book'))} / {_fmt(ips(cpu, '28', 'ours'))}",
         f"{_fmt(ips(gpu, '28', 'book'))} / {_fmt(ips(gpu, '28', 'ours'))}"),
        (f"time to {cpu['target']:.0%} test accuracy at 28x28: book / ours",
         f"{_fmt(to_target(cpu, 'book'))} s / {_fmt(to_target(cpu, 'ours'))} s",
         f"{_fmt(to_target(gpu, 'book'))} s / {_fmt(to_target(gpu, 'ours'))} s"),
        ("training images/s at 96x96: book's pipeline / ours",
         f"{_fmt(ips(cpu, '96', 'book'))} / {_fmt(ips(cpu, '96', 'ours'))}",
         f"{_fmt(ips(gpu, '96', 'book'))} / {_fmt(ips(gpu, '96', 'ours'))}"),
        (f"**the book's listing** (10 epochs of {n_train:,} images at 96x96), estimated as "
         "10 x images / our 96x96 images/s, training only",
         f"about {_minutes(10 * n_train / ips(cpu, '96', 'ours'))}",
         f"about {_minutes(10 * n_train / ips(gpu, '96', 'ours'))}"),
        ("`regnetlab grade` of the reference solutions",
         "not run for the four solutions alone; [grading a class](../instructors/index.md"
         "#a-course-in-four-commands) gives the CPU time per student",
         f"{grade['seconds']} s, {grade['points']} points (tier `{grade['tier']}`)"),
    ]
    head = ["", f"CPU: {cpu['machine']}",
            f"GPU: {machine['gpu']}, {machine['cpus']} CPU cores, torch {machine['torch']}"]
    lines = ["| " + " | ".join(head) + " |", "|:---|:---|:---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def gpu_commands():
    """The commands of the GPU run, in the order they ran, as the log records them."""
    runs, machine = gpu_runs()
    out = [f"# on one {machine['gpu']} ({machine['cpus']} CPU cores), torch {machine['torch']}"]
    for name in ("train28", "grade_gpu", "bench", "train96"):
        out.append(runs[name]["command"].replace("$OUT/", "out/"))
    return "```bash\n" + "\n".join(out) + "\n```\n"


def cpu_commands():
    cpu = json.loads(_read(CPU_BENCH))
    main_cpu = main_job_cpu()
    return ("```bash\n"
            f"# {cpu['machine']}\n"
            "# the main job, regnetlab train RegNetX32 at its defaults:\n"
            f"python benchmarks/calibrate_recipe.py --grid {main_cpu['epochs']}:"
            f"{main_cpu['batch_size']}:{main_cpu['lr']} --seed {main_cpu['seed']}\n"
            f"python {BENCH_COMMAND} --steps-96 30 --json benchmarks/results/bench_train_cpu.json\n"
            "```\n")


def quick_times():
    """One paragraph for the home page: the main job and a grading, CPU and GPU."""
    runs, machine = gpu_runs()
    main_cpu = main_job_cpu()
    t28, grade = train_result(runs["train28"]), grade_result(runs["grade_gpu"])
    cpu = json.loads(_read(CPU_BENCH))
    return (f"How long: the main job trained in {_fmt(main_cpu['train_time_s'])} s on this "
            f"project's CPU ({', '.join(cpu['machine'].split(', ')[:2])}) and in "
            f"{_fmt(t28['wall'])} s on an {machine['gpu']}; grading the four reference "
            f"solutions took {grade['seconds']} s on that GPU. The first run also downloads "
            "Fashion-MNIST once. [Training](chapter/training.md#how-long-it-takes) has "
            "every measurement and its command.\n")
