"""Calibrate the autograder's "learns" thresholds on each exercise's design space.

For each threshold key, the exercise module declares a space of valid answers
(``CALIBRATION`` in ``regnetlab/grading/exercises/exN_*.py``, defined in ``designs.py``).
We train its extremes plus random draws, N designs in all, over several seeds, each
through the grader's real path: built and captured as the worker does
(``worker/worker.capture_network``), sent as JSON + safetensors bytes, rebuilt by
``measure/graph.load_network`` and trained by ``measure/training.short_train`` (one
thread, as the grader's measurer). Controls on the reference design, every seed:
*untrained* (lr = 0) and *head only* (every tensor but the head's frozen here, in this
script: the grader itself trains every tensor and catches a frozen body with its
gradient line). Per key, the first measure of ``MEASURES`` that separates every valid
run from the controls by two margins gets the midpoint as threshold (both controls if
possible, else the untrained one); the script refuses a key that no measure separates.

The CPU tier's calibration writes ``autograder/calibration.json``, with the GPU tier
derived (``--gpu-from``) from the measured H200 runs of the reference solutions. With
``--tier gpu`` the GPU tier is calibrated the same way on a GPU (``benchmarks/gpu_check.sh``
runs it): its recipe, on ``--device`` (cuda by default), the reference design and both
controls first, then the extremes and draws for as long as ``--budget-s`` allows; the
result goes to ``--out`` (a file under ``benchmarks/results/`` naming the GPU), ``--compare``
prints what changed against the recorded GPU thresholds and ``--apply`` writes them into
``autograder/calibration.json``. See ``autograder/CALIBRATION.md``.

Usage: OMP_NUM_THREADS=1 nice python benchmarks/calibrate_thresholds.py --n 9 --cache runs.jsonl
       python benchmarks/calibrate_thresholds.py --tier gpu --budget-s 200 --cache gpu.jsonl \
           --out benchmarks/results/gpu-NAME-calibration.json --compare autograder/calibration.json
(``--list``: the designs, ``--table``: the Markdown tables of CALIBRATION.md; nothing trained)
"""
import argparse
import datetime
import json
import platform
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from regnetlab.files import write_json  # noqa: E402
from regnetlab.grading.exercises import EXERCISES, Network, load  # noqa: E402
import designs  # noqa: E402 - benchmarks/designs.py, beside this file
from designs import draws  # noqa: E402
from regnetlab.grading.measure.graph import load_network  # noqa: E402
from regnetlab.grading.measure.training import TIERS, load_data, short_train  # noqa: E402

DRAW_SEED = 0          # which random designs are drawn (the same every run)
CONTROLS = ("untrained", "head-only")


def spaces():
    """{threshold key: space} from every exercise module's ``CALIBRATION`` (space names in
    benchmarks/designs.py)."""
    out = {}
    for ex in EXERCISES:
        for key, name in getattr(load(ex), "CALIBRATION", {}).items():
            out[key] = getattr(designs, name)
    return out


def captured(design, seed, lr=None):
    """``design`` as the grader sees it: built, captured, serialised, rebuilt from bytes."""
    from safetensors.torch import save

    from regnetlab.grading.worker import capture
    from regnetlab.grading.worker.worker import capture_network
    # train=...: a trained network's train-mode graph is captured too (as the grader does)
    spec = Network(design.label, design.label,
                   lambda _module: design() if lr is None else design(lr=lr), train="calibration")
    meta, tensors = capture_network(spec, None, seed)
    return load_network(capture.dumps(meta).encode(), save(tensors))


def freeze_body(net):
    """Head-only control: only ``net.head.*`` tensors learn (the optimiser skips the rest)."""
    for name, p in net.state.named_parameters():
        p.requires_grad_(net.tensor_name(name).startswith("net.head"))
    return net


def run(design, seed, tier, data, control=None, device=None):
    t0, cpu0 = time.perf_counter(), time.process_time()
    net = captured(design, seed, lr=0.0 if control == "untrained" else None)
    if control == "head-only":
        freeze_body(net)
    res = short_train(net, tier, data, seed=seed, device=device)
    extra = {} if tier.name == "cpu" else {
        "tier": tier.name + ("-reduced" if tier.reduced else ""), "device": res["device"]}
    return {"design": design.label, "seed": seed, "control": control, **extra,
            "test_acc": round(res["test_acc"], 4), "gain": round(res["gain"], 4),
            "before": {k: round(v, 4) for k, v in res["before"].items()},
            "after": {k: round(v, 4) for k, v in res["after"].items()},
            "loss_drop": round(res["loss_drop"], 4), "train_loss": round(res["train_loss"], 4),
            "seconds": round(time.perf_counter() - t0, 1),
            "cpu_seconds": round(time.process_time() - cpu0, 1)}


# Measures of "learns" in order of preference, each with its margin: the eval-mode test
# accuracy (fails a frozen body too, where the space allows), else the drop of the
# held-out loss over training (exactly 0 for a network that does not train).
MEASURES = {"test_acc": 0.05, "loss_drop": 0.10}


def decide(runs, controls):
    """The measure and threshold for one key: the midpoint between the lowest valid run and
    the highest control it must fail, where they are at least two margins apart. Both
    controls if any measure separates them, else the untrained one alone."""
    for must_fail in (CONTROLS, ("untrained",)):
        for measure, margin in MEASURES.items():
            lo = min(r[measure] for r in runs)
            hi = max(c[measure] for c in controls if c["control"] in must_fail)
            if lo - hi >= 2 * margin:
                threshold = int((lo + hi) / 2 * 100) / 100   # down to 0.01
                return {"measure": measure, "threshold": {measure: threshold}, "margin": margin,
                        "lowest_valid": lo, "highest_failed_control": hi,
                        "fails": list(must_fail),
                        "passes": [c for c in CONTROLS if c not in must_fail]}
    return None


class Cache:
    """Runs already made (a JSON line each), so an interrupted calibration resumes."""

    def __init__(self, path, tier="cpu", device=None):
        self.path, self.rows, self.device = (Path(path) if path else None), {}, device
        if self.path and self.path.is_file():
            for line in self.path.read_text().splitlines():
                r = json.loads(line)
                if r.get("tier", "cpu") == tier:  # one tier's runs never stand in for another's
                    self.rows[(r["design"], r["seed"], r["control"])] = r

    def has(self, design, seed, control=None):
        return (design.label, seed, control) in self.rows

    def run(self, design, seed, tier, data, control=None):
        key = (design.label, seed, control)
        if key not in self.rows:
            self.rows[key] = run(design, seed, tier, data, control, self.device)
            if self.path:
                with self.path.open("a") as f:
                    f.write(json.dumps(self.rows[key]) + "\n")
        return self.rows[key]


def calibrate(key, space, n, seeds, tier, data, cache, deadline=None, cached_only=False,
              decide_it=True):
    """One key's runs and decision. With a ``deadline`` (time.time()), the reference and
    both controls run first, then each further design on every seed while time is left
    (designs already in the cache always count); the designs covered are recorded.
    ``cached_only``: nothing is trained, None when the reference or a control is missing."""
    designs = draws(space, n, random.Random(DRAW_SEED))
    jobs = [(d, None) for d in designs[:1]] + [(space.reference, c) for c in CONTROLS] \
        + [(d, None) for d in designs[1:]]
    done, skipped = {}, []
    for i, (design, control) in enumerate(jobs):
        cached = all(cache.has(design, s, control) for s in seeds)
        if cached_only and not cached:
            if i < 1 + len(CONTROLS):
                what = design.label if control is None else f"CONTROL {control}"
                print(f"{key}: not calibrated: {what} is not in the cache on every seed "
                      f"{seeds}", flush=True)
                return None
            skipped.append(design.label)
            continue
        late = deadline is not None and time.time() >= deadline
        if i >= 1 + len(CONTROLS) and late and not cached:  # never the reference or controls
            skipped.append(design.label)
            continue
        done[(design.label, control)] = []
        for seed in seeds:
            done[(design.label, control)].append(cache.run(design, seed, tier, data, control))
            what = design.label if control is None else f"CONTROL {control}"
            print(f"{key} {what} seed {seed}: {fmt(done[(design.label, control)][-1])}",
                  flush=True)
    covered = [d for d in designs if (d.label, None) in done]
    runs = [r for d in covered for r in done[(d.label, None)]]
    controls = [r for c in CONTROLS for r in done[(space.reference.label, c)]]
    designs = covered
    if not decide_it:
        return None
    decision = decide(runs, controls)
    if decision is None:
        raise SystemExit(f"{key}: no measure in {list(MEASURES)} separates every valid run "
                         f"from the untrained control by {list(MEASURES.values())} x 2; "
                         "lengthen the tier's run (measure/training.py TIERS)")
    out = {**decision, "space": space.note, "reference": space.reference.label,
           "designs": [d.as_json() for d in designs], "runs": runs, "controls": controls}
    if skipped:  # only with a deadline: say which designs the time left out
        out["not_run_for_time"] = sorted(set(skipped) - {space.reference.label})
    return out


def fmt(r):
    return (f"test_acc {r['test_acc']:.3f}, held-out loss {r['before']['loss']:.3f} -> "
            f"{r['after']['loss']:.3f} (drop {r['loss_drop']:.3f}), {r['seconds']:.1f} s")


def derive_gpu(cpu_models, path):
    """GPU thresholds from the CPU ones, checked against the measured GPU runs in ``path``:
    each must pass every measured valid run and fail every untrained control there."""
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    models = {}
    for key, m in cpu_models.items():
        measure, threshold = m["measure"], m["threshold"][m["measure"]]
        mine = [r for r in rows if r["key"] == key]
        valid = [r for r in mine if not r["label"].startswith("CONTROL")]
        ctrl = {r["label"].removeprefix("CONTROL ").strip(): r for r in mine
                if r["label"].startswith("CONTROL")}
        row = {"threshold": {measure: threshold}, "measure": measure,
               "gpu_runs": {f"{r['label']}/seed{r['seed']}": r["test_acc"] for r in valid},
               "gpu_controls": {k: r["test_acc"] for k, r in ctrl.items()}}
        if measure == "test_acc":
            low = min(r["test_acc"] for r in valid)
            if not (low - threshold >= MEASURES[measure]
                    and threshold - ctrl["untrained"]["test_acc"] >= MEASURES[measure]):
                raise SystemExit(f"{key}: the CPU threshold {threshold} does not separate the "
                                 f"GPU runs in {path}; calibrate the GPU tier on a GPU")
            row["fails"] = [k for k, r in ctrl.items() if r["test_acc"] < threshold]
            row["passes"] = [k for k, r in ctrl.items() if r["test_acc"] >= threshold]
        else:  # lr = 0 leaves the weights as they were: the drop is 0 on any device
            row["fails"], row["passes"] = ["untrained"], ["head-only"]
            row["note"] = ("loss_drop was not measured on the GPU: an untrained network's "
                           "is 0 on any device; a trained head lowers the loss there too")
        models[key] = row
    return models


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n", type=int, default=6,
                   help="designs per key, at least 6; the reference and extremes always")
    p.add_argument("--keys", nargs="*", default=None, help="threshold keys to calibrate")
    p.add_argument("--out", default=str(REPO / "autograder" / "calibration.json"))
    p.add_argument("--gpu-from", default=str(REPO.parent / "shared" / "measurements"
                                             / "gpu-tier-h200.jsonl"),
                   help="measured GPU-tier runs the GPU thresholds are checked against")
    p.add_argument("--list", action="store_true", help="list the designs, train nothing")
    p.add_argument("--table", action="store_true",
                   help="print the Markdown tables of --out (for CALIBRATION.md), train nothing")
    p.add_argument("--cache", default=None,
                   help="JSON-lines file of runs made: reused, so a stopped run resumes")
    p.add_argument("--tier", choices=("cpu", "gpu"), default="cpu",
                   help="the tier to calibrate (default cpu; gpu: see --device, --budget-s)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None,
                   help="where to train (default: cuda for --tier gpu, else cpu)")
    p.add_argument("--budget-s", type=float, default=None, metavar="S",
                   help="--tier gpu: start no further design after S seconds (the reference "
                        "and both controls always run; cached runs always count)")
    p.add_argument("--runs-only", action="store_true",
                   help="--tier gpu: train into --cache and write nothing else (to run keys "
                        "side by side, then decide from the merged caches)")
    p.add_argument("--cached-only", action="store_true",
                   help="--tier gpu: train nothing; decide from the runs in --cache (a design "
                        "counts once every seed of it is there; a key without its reference "
                        "and controls is left out, and said so)")
    p.add_argument("--reduced-data", default=None, metavar="TRAIN,TEST",
                   help="--tier gpu: the first TRAIN training and TEST test images only, to "
                        "test this path on a CPU; recorded in --out, refused with --apply")
    p.add_argument("--compare", default=None, metavar="CALIBRATION_JSON",
                   help="--tier gpu: print what changed against this file's GPU thresholds")
    p.add_argument("--apply", default=None, metavar="CALIBRATION_JSON",
                   help="--tier gpu: write the measured GPU tier into this file, keeping its "
                        "CPU tier")
    args = p.parse_args(argv)
    if len(args.seeds) < 3 and not args.runs_only:  # runs only: a later call decides
        p.error("--seeds: calibrate on at least 3 seeds")
    if args.n < (1 if args.tier == "gpu" else 6):
        p.error("--n: calibrate on at least 6 designs per key (1 with --tier gpu)")
    if args.tier == "cpu" and (args.budget_s is not None or args.runs_only or args.compare
                               or args.apply or args.reduced_data or args.cached_only
                               or args.device == "cuda"):
        p.error("--budget-s, --runs-only, --cached-only, --reduced-data, --compare, --apply "
                "and --device cuda go with --tier gpu only: the CPU tier is calibrated on "
                "the CPU, in full")
    if args.runs_only and args.cached_only:
        p.error("--runs-only with --cached-only: one trains, the other must not")
    if args.apply and args.reduced_data:
        p.error("--apply with --reduced-data: thresholds from reduced data are not the "
                "tier's; apply only a full calibration")
    if args.budget_s is not None and not args.budget_s >= 0:
        p.error(f"--budget-s {args.budget_s:g}: expected seconds >= 0")
    todo = {k: s for k, s in spaces().items() if not args.keys or k in args.keys}
    if args.keys and set(args.keys) - set(todo):
        p.error(f"--keys: unknown {sorted(set(args.keys) - set(todo))}; have {list(spaces())}")
    if args.table:
        print(table(json.loads(Path(args.out).read_text())))
        return
    if args.list:
        for key, space in todo.items():
            for d in draws(space, args.n, random.Random(DRAW_SEED)):
                print(f"{key}: {d.label}")
        return
    torch.set_num_threads(1)
    if args.tier == "gpu":
        return main_gpu(args, todo)
    tier = TIERS["cpu"]
    data = load_data(tier)
    started = time.time()
    cache = Cache(args.cache)
    models = {key: calibrate(key, space, args.n, args.seeds, tier, data, cache)
              for key, space in todo.items()}
    out = Path(args.out)
    if args.keys and out.is_file():  # keep the keys we did not recalibrate
        models = {**json.loads(out.read_text())["tiers"]["cpu"]["models"], **models}
    gpu_from = Path(args.gpu_from)
    payload = {
        "version": 2, "written_by": "benchmarks/calibrate_thresholds.py",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seeds": args.seeds, "designs_per_key": {k: len(m["designs"]) for k, m in models.items()},
        "draw_seed": DRAW_SEED,
        "torch": torch.__version__, "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "threads": 1, "seconds": round(time.time() - started),
        "cpu_seconds_of_runs": round(sum(r.get("cpu_seconds", 0) for m in models.values()
                                         for r in m["runs"] + m["controls"])),
        "rule": "threshold = midpoint (rounded down to 0.01) between the lowest valid run "
                "and the highest control it must fail, on the first measure of "
                f"{list(MEASURES)} where they are at least 2 x its margin {MEASURES} apart; "
                "both controls if possible, else the untrained one",
        "tiers": {
            "cpu": {"device": "cpu", "tier": asdict(tier), "models": models},
            "gpu": {"device": "cuda (not measured here)", "tier": asdict(TIERS["gpu"]),
                    "derived_from": "../shared/measurements/gpu-tier-h200.jsonl",
                    "note": "no GPU was available to calibrate: the CPU thresholds, checked "
                            "against the measured GPU-tier runs of the reference solutions "
                            "(NVIDIA H200, seeds 0 and 1, with controls): they pass every "
                            "measured valid run and fail every untrained control there; "
                            "'passes' lists the controls they do not fail (see CALIBRATION.md)",
                    "models": derive_gpu(models, gpu_from)},
        }}
    write_json(out, payload)
    print(f"\nwrote {out}\n")
    print(table(payload))


def device_name(device):
    return torch.cuda.get_device_name(0) if device == "cuda" else \
        (platform.processor() or platform.machine())


def main_gpu(args, todo):
    """The GPU tier calibrated on a device, into its own result file (``--out``)."""
    from regnetlab.grading.measure.training import parse_reduced, pick_device, reduced
    tier = TIERS["gpu"]
    try:
        device = pick_device(tier, args.device or "cuda")
        if args.reduced_data:
            tier = reduced(tier, *parse_reduced(args.reduced_data))
    except ValueError as e:
        raise SystemExit(f"calibrate_thresholds.py: {e}") from None
    if not args.runs_only and args.out == str(REPO / "autograder" / "calibration.json"):
        raise SystemExit("--tier gpu: --out names the result file (e.g. benchmarks/results/"
                         "gpu-NAME-calibration.json); --apply writes calibration.json")
    data = None if args.cached_only else load_data(tier, device=device)
    started = time.time()
    deadline = None if args.budget_s is None else started + args.budget_s
    cache = Cache(args.cache, tier="gpu-reduced" if tier.reduced else "gpu", device=device)
    models = {key: calibrate(key, space, args.n, args.seeds, tier, data, cache, deadline,
                             args.cached_only, decide_it=not args.runs_only)
              for key, space in todo.items()}
    if args.runs_only:
        return
    missing = sorted(k for k, m in models.items() if m is None)
    models = {k: m for k, m in models.items() if m is not None}
    if not models:
        raise SystemExit("calibrate_thresholds.py: no key could be calibrated from the runs "
                         f"in {args.cache}")
    payload = {
        "version": 2, "written_by": "benchmarks/calibrate_thresholds.py --tier gpu",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seeds": args.seeds, "draw_seed": DRAW_SEED, "device": device,
        "device_name": device_name(device), "torch": torch.__version__,
        "python": platform.python_version(), "budget_s": args.budget_s,
        "seconds": round(time.time() - started),
        "designs_per_key": {k: len(m["designs"]) for k, m in models.items()},
        "not_calibrated": missing, "tier": asdict(tier), "models": models}
    write_json(args.out, payload)
    print(f"\nwrote {args.out}")
    if args.compare:
        print(compare(json.loads(Path(args.compare).read_text()), payload, args.compare))
    if args.apply and missing:
        raise SystemExit(f"--apply: {', '.join(missing)} not calibrated; the GPU tier needs "
                         "every key (rerun with more time, the cache keeps what was done)")
    if args.apply:
        target = Path(args.apply)
        recorded = json.loads(target.read_text())
        recorded["tiers"]["gpu"] = {
            "device": f"{device} ({payload['device_name']})", "tier": asdict(tier),
            "measured": payload["date"], "seeds": args.seeds,
            "designs_per_key": payload["designs_per_key"], "models": models}
        write_json(target, recorded)
        print(f"wrote the GPU tier into {target}")


def compare(recorded, measured, name="calibration.json"):
    """What the measured GPU calibration changes against the GPU tier of ``recorded``."""
    old = recorded.get("tiers", {}).get("gpu", {}).get("models", {})
    lines = [f"GPU tier on {measured['device_name']} against {name}:"]
    for key, m in measured["models"].items():
        ms, new = m["measure"], m["threshold"][m["measure"]]
        before = old.get(key)
        was = "none" if before is None else ", ".join(
            f"{k} {v:.2f}" for k, v in before["threshold"].items())
        same = before is not None and before["threshold"] == m["threshold"] \
            and sorted(before.get("fails", [])) == sorted(m["fails"])
        lines.append(f"  {key}: {was} -> {ms} {new:.2f}; fails {', '.join(m['fails'])} "
                     f"(was {', '.join(before.get('fails', [])) if before else 'none'}); "
                     f"{len(m['designs'])} designs x {len(measured['seeds'])} seeds; "
                     f"lowest valid {m['lowest_valid']:.3f}, highest failed control "
                     f"{m['highest_failed_control']:.3f}" + ("; unchanged" if same else
                                                              "; CHANGED"))
    for key in measured.get("not_calibrated", []):
        lines.append(f"  {key}: not calibrated (its reference or a control is missing on some "
                     "seed); the recorded threshold stays")
    return "\n".join(lines)


def table(payload):
    """The Markdown tables of CALIBRATION.md: one summary row per key, then per design."""
    seeds = payload["seeds"]
    lines = ["| key | designs x seeds | measure | lowest valid | untrained (max) | "
             "head only (max) | threshold | fails |", "|---|---|---|---|---|---|---|---|"]
    for key, m in payload["tiers"]["cpu"]["models"].items():
        ms = m["measure"]
        ctrl = {c: max(r[ms] for r in m["controls"] if r["control"] == c) for c in CONTROLS}
        lines.append(f"| {key} | {len(m['designs'])} x {len(seeds)} | {ms} | "
                     f"{m['lowest_valid']:.3f} | {ctrl['untrained']:.3f} | "
                     f"{ctrl['head-only']:.3f} | **{m['threshold'][ms]:.2f}** | "
                     f"{', '.join(m['fails'])} |")
    for key, m in payload["tiers"]["cpu"]["models"].items():
        ms = m["measure"]
        lines += ["", f"**{key}**, judged on {ms}; each cell: test accuracy / held-out loss "
                  "drop:", "",
                  "| design | " + " | ".join(f"seed {s}" for s in seeds) + " | CPU s |",
                  "|---|" + "---|" * (len(seeds) + 1)]
        rows = [(d["label"], [r for r in m["runs"] if r["design"] == d["label"]])
                for d in m["designs"]]
        rows += [(f"CONTROL {c} ({m['reference']})",
                  [r for r in m["controls"] if r["control"] == c]) for c in CONTROLS]
        for label, runs in rows:
            by_seed = {r["seed"]: r for r in runs}
            cells = [f"{by_seed[s]['test_acc']:.3f} / {by_seed[s]['loss_drop']:.2f}"
                     for s in seeds]
            cpu = sum(r.get("cpu_seconds", 0) for r in runs) / max(1, len(runs))
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {cpu:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
