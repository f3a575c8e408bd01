"""Calibrate the autograder's accuracy thresholds on the reference solutions.

Trains every graded model of ``solutions/`` with the grader's own short run
(``regnetlab.grading.training``, one thread, as the grader's workers do) over several
seeds, plus two controls: the same model untrained (lr = 0), which must fail, and with
every layer but the classifier head frozen, which is reported (it fails for the conv
nets; a random-feature MLP with a trained head is nearly as good as a trained MLP).
Each threshold is the lowest reference accuracy minus a margin; the script refuses to
write a threshold that would not fail the untrained control. It writes
``autograder/calibration.json`` and prints
the Markdown table recorded in ``autograder/CALIBRATION.md``.

Usage: OMP_NUM_THREADS=1 python benchmarks/calibrate_thresholds.py [--seeds 0 1 2]
"""
import argparse
import datetime
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from regnetlab.grading.training import TIERS, load_data, short_train  # noqa: E402
from regnetlab.files import write_json  # noqa: E402

MIN_MARGIN = 0.08    # accuracy points: covers other CPUs' rounding, and thread counts
STD_FACTOR = 4       # ... or four seed-to-seed standard deviations, if that is more
MIN_SEPARATION = 0.05  # a threshold must sit this far above every control


def graded_models():
    """{threshold key: {label: factory}}: what the autograder trains, from solutions/."""
    from solutions.ex1_deeper_regnetx import DeepRegNetX
    from solutions.ex2_de_resnextify import DeResNeXt
    from solutions.ex3_vionet import vionet_family
    from solutions.ex4_perfect_mlp import PerfectMLP
    return {"ex1.DeepRegNetX": {"DeepRegNetX": DeepRegNetX},
            "ex2.DeResNeXt": {"DeResNeXt": DeResNeXt},
            "ex3.VioNet": {f"vionet[{k}]": (lambda k=k: vionet_family()[k]) for k in "dcgb"},
            "ex4.PerfectMLP": {"PerfectMLP": PerfectMLP}}


def untrained(make):
    def build():
        model = make()
        model.lr = 0.0
        return model
    return build


def head_only(make):
    def build():
        model = make()
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith("net.head"))
        return model
    return build


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--tier", default="cpu", choices=["cpu"],
                   help="only the CPU tier can be measured here (see CALIBRATION.md)")
    p.add_argument("--out", default=str(REPO / "autograder" / "calibration.json"))
    p.add_argument("--only", nargs="*", default=None, help="threshold keys to calibrate")
    args = p.parse_args(argv)
    if len(args.seeds) < 3:
        p.error("--seeds: calibrate on at least 3 seeds")
    torch.set_num_threads(1)
    tier = TIERS[args.tier]
    data = load_data(tier)
    models, started = {}, time.time()
    for key, factories in graded_models().items():
        if args.only and key not in args.only:
            continue
        accs = {}
        for label, make in factories.items():
            for seed in args.seeds:
                res = short_train(make, tier, data, seed=seed)
                accs[f"{label}/seed{seed}"] = round(res["test_acc"], 4)
                print(f"{key} {label} seed {seed}: {res['test_acc']:.4f} "
                      f"({res['seconds']:.1f} s)", flush=True)
        first = next(iter(factories.values()))
        controls = {name: round(short_train(wrap(first), tier, data, seed=0)["test_acc"], 4)
                    for name, wrap in (("untrained (lr=0)", untrained),
                                       ("head only (body frozen)", head_only))}
        print(f"{key} controls: {controls}", flush=True)
        values = list(accs.values())
        std = statistics.pstdev(values)
        margin = max(MIN_MARGIN, STD_FACTOR * std)
        threshold = int((min(values) - margin) * 100) / 100  # round down to a whole percent
        # the untrained control must fail; the head-only one is reported, not required:
        # a wide random-feature MLP with a trained head is nearly as good as a trained one
        if threshold < controls["untrained (lr=0)"] + MIN_SEPARATION:
            raise SystemExit(f"{key}: threshold {threshold:.2f} does not clear the untrained "
                             f"control {controls} by {MIN_SEPARATION}; lengthen the run")
        models[key] = {"threshold": threshold, "test_acc": accs, "min": min(values),
                       "mean": round(statistics.mean(values), 4), "std": round(std, 4),
                       "margin": round(margin, 4), "controls": controls}
    payload = {
        "version": 1, "written_by": "benchmarks/calibrate_thresholds.py",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seeds": args.seeds, "torch": torch.__version__, "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "threads": 1, "seconds": round(time.time() - started),
        "rule": f"threshold = floor(min accuracy - max({MIN_MARGIN}, {STD_FACTOR} x std), "
                "0.01); it must exceed the untrained control by " + str(MIN_SEPARATION),
        "tiers": {
            "cpu": {"device": "cpu", "tier": vars(tier) if hasattr(tier, "__dict__") else
                    tier.__dict__, "models": models},
            "gpu": {"device": "cuda (not measured)", "tier": TIERS["gpu"].__dict__,
                    "derived_from": "cpu",
                    "note": "no GPU was available to calibrate; the GPU run trains on 15x "
                            "the images for 2 epochs, so a correct model scores higher "
                            "there; the CPU thresholds are used unchanged, a conservative "
                            "bound that still fails untrained and frozen models",
                    "models": {k: {"threshold": v["threshold"]} for k, v in models.items()}},
        }}
    out = Path(args.out)
    if args.only and out.is_file():  # keep the keys we did not recalibrate
        old = json.loads(out.read_text())
        for tier_name in ("cpu", "gpu"):
            kept = old["tiers"][tier_name]["models"]
            kept.update(payload["tiers"][tier_name]["models"])
            payload["tiers"][tier_name]["models"] = kept
    write_json(out, payload)
    print(f"\nwrote {out}\n")
    print("| model | seeds | accuracies | min | mean | std | margin | threshold | "
          "untrained | head only |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key, m in payload["tiers"]["cpu"]["models"].items():
        c = list(m["controls"].values())
        print(f"| {key} | {', '.join(map(str, args.seeds))} | "
              f"{', '.join(f'{v:.3f}' for v in m['test_acc'].values())} | {m['min']:.3f} | "
              f"{m['mean']:.3f} | {m['std']:.3f} | {m['margin']:.2f} | "
              f"**{m['threshold']:.2f}** | {c[0]:.3f} | {c[1]:.3f} |")


if __name__ == "__main__":
    main()
