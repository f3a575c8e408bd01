"""The GPU tier's path, tested without a GPU: tier and device apart, reduced data, bf16.

``regnetlab grade --tier gpu`` runs the GPU tier's recipe (all images, 2 epochs, batch 128,
bfloat16 autocast, the GPU thresholds) on whatever device there is; ``--reduced-data``
makes that path short enough for a CPU test, and every report says it was reduced.
Also the CPU-checkable parts of ``benchmarks/gpu_check.sh`` and of
``calibrate_thresholds.py --tier gpu``. Only ``test_gpu_tier_grades_ex2_on_the_cpu`` trains
on real data (slow: 37 s on a shared 2-core CPU, two gradings of ex2); the rest take about
20 s together, most of it starting ``regnetlab grade`` to see its errors.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from regnetlab.grading.measure import training
from regnetlab.grading.measure.training import TIERS, describe, pick_device, pick_tier, reduced

REPO = Path(__file__).resolve().parents[2]
GPU_CHECK = REPO / "benchmarks" / "gpu_check.sh"
HAS_CUDA = torch.cuda.is_available()


def test_tier_and_device_are_chosen_apart(monkeypatch):
    monkeypatch.setattr(training, "cuda_available", lambda: False)
    assert pick_tier("auto").name == "cpu"
    assert pick_device(pick_tier("gpu")) == "cpu"   # no CUDA: the GPU tier on the CPU
    with pytest.raises(ValueError, match=r"--device cuda: torch sees no CUDA"):
        pick_device(pick_tier("gpu"), "cuda")
    monkeypatch.setattr(training, "cuda_available", lambda: True)
    assert pick_tier("auto").name == "gpu" and pick_device(TIERS["gpu"]) == "cuda"
    assert pick_tier("auto", "cpu").name == "cpu"   # --device cpu: auto means the CPU tier
    assert pick_device(TIERS["cpu"]) == "cpu"        # the CPU tier stays where it was calibrated
    assert pick_device(TIERS["gpu"], "cpu") == "cpu"
    with pytest.raises(ValueError, match=r"--device tpu: expected auto, cpu or cuda"):
        pick_device(TIERS["gpu"], "tpu")


def test_reduced_tier_keeps_the_recipe_and_says_so():
    gpu = TIERS["gpu"]
    small = reduced(gpu, 4000, 1000)
    assert (small.limit_train, small.limit_test, small.reduced) == (4000, 1000, True)
    assert (small.epochs, small.batch_size, small.autocast, small.name) == \
        (gpu.epochs, gpu.batch_size, gpu.autocast, "gpu")
    assert "REDUCED DATA: 4,000 training and 1,000 test" in describe(small, "cpu")
    assert describe(gpu, "cuda") == "tier gpu on cuda"
    for train, test in ((60000, 1000), (100, 1000), (4000, 10000), (4000, 0)):
        with pytest.raises(ValueError, match=rf"--reduced-data {train},{test}: expected"):
            reduced(gpu, train, test)
    with pytest.raises(ValueError, match=r"expected TRAIN,TEST"):
        training.parse_reduced("4000")


class _Data:
    """Random 28x28 images: enough for short_train's loops, no real data."""

    def __init__(self, n, batch_size):
        g = torch.Generator().manual_seed(0)
        self.X, self.y = torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,))
        self.batch_size, self.num_train, self.num_val = batch_size, n, n

    def _loader(self, shuffle):
        ds = torch.utils.data.TensorDataset(self.X, self.y)
        return torch.utils.data.DataLoader(ds, batch_size=self.batch_size, shuffle=shuffle,
                                           generator=torch.Generator())

    def train_dataloader(self):
        return self._loader(True)

    def val_dataloader(self):
        return self._loader(False)


class _Net(nn.Module):
    """Records the dtype its linear layer computes in during training steps."""

    def __init__(self):
        super().__init__()
        self.lr, self.seen = 0.1, set()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
        self.body[1].register_forward_hook(
            lambda m, i, o: self.seen.add(o.dtype) if self.training and torch.is_grad_enabled()
            else None)

    def forward(self, x):
        return self.body(x)


@pytest.mark.parametrize("tier, dtype", [("gpu", torch.bfloat16), ("cpu", torch.float32)])
def test_short_train_uses_the_tiers_autocast_on_the_cpu(tier, dtype):
    net, t = _Net(), reduced(TIERS[tier], 2 * TIERS[tier].batch_size, 64)
    res = short_train_quiet(net, t)
    assert net.seen == {dtype}
    assert res["device"] == "cpu" and res["tier"]["autocast"] == TIERS[tier].autocast
    assert res["tier"]["epochs"] == TIERS[tier].epochs
    assert res["tier"]["batch_size"] == TIERS[tier].batch_size and res["tier"]["reduced"]


def short_train_quiet(net, tier):
    return training.short_train(net, tier, _Data(tier.limit_train, tier.batch_size),
                                device="cpu")


def _grade(*args, cwd, timeout=300):
    return subprocess.run([sys.executable, "-m", "regnetlab", "grade", "solutions", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))


@pytest.mark.skipif(HAS_CUDA, reason="this machine has CUDA: --device cuda is allowed")
def test_device_cuda_without_cuda_is_a_one_line_error(tmp_path):
    for args, words in ((["--device", "cuda"], "--device cuda: torch sees no CUDA"),
                        (["--tier", "gpu", "--reduced-data", "4000"], "expected TRAIN,TEST"),
                        (["--tier", "gpu", "--reduced-data", "60000,100"],
                         "--reduced-data 60000,100: expected 256 to 59,999 training")):
        proc = _grade(*args, "--no-train", cwd=REPO)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        err = proc.stderr.strip()
        assert words in err and "Traceback" not in err and len(err.splitlines()) == 1, err


def _tests_copy(tmp_path, cpu_ex2_threshold):
    """The public grader tests with ex2's CPU-tier threshold replaced (GPU tier's kept)."""
    tests = tmp_path / "autograder"
    shutil.copytree(REPO / "autograder", tests, ignore=shutil.ignore_patterns("examples"))
    cal = json.loads((tests / "calibration.json").read_text())
    cal["tiers"]["cpu"]["models"]["ex2.DeResNeXt"]["threshold"] = {"test_acc": cpu_ex2_threshold}
    (tests / "calibration.json").write_text(json.dumps(cal))
    return tests, cal["tiers"]["gpu"]["models"]["ex2.DeResNeXt"]["threshold"]


@pytest.mark.slow
def test_gpu_tier_grades_ex2_on_the_cpu(tmp_path, data_root):
    """The solutions' ex2 through the GPU tier's whole path on the CPU, 4,000/1,000 images:
    scored against the GPU thresholds (the CPU one is made unreachable, and the CPU tier
    fails on it), the reports naming tier, device and the reduced data."""
    tests, gpu_threshold = _tests_copy(tmp_path, 0.99)
    assert gpu_threshold["test_acc"] < 0.99
    out = tmp_path / "gpu.json"
    proc = _grade("--tier", "gpu", "--device", "cpu", "--reduced-data", "4000,1000", "--only",
                  "ex2", "--tests", str(tests), "--json", str(out), cwd=tmp_path)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-3000:]
    result = json.loads(out.read_text())
    assert result["score"] == result["max_score"] == 25 and result["training"] == "on"
    assert (result["tier"], result["device"]) == ("gpu", "cpu")
    assert result["reduced_data"] == {"train": 4000, "test": 1000}
    assert re.search(r"tier gpu on cpu \(REDUCED DATA: 4,000 training and 1,000 test", text)
    runs = result["training_runs"]
    assert runs and set(runs) == {"DeResNeXt.train"}
    run = runs["DeResNeXt.train"]
    gpu = TIERS["gpu"]
    assert run["device"] == "cpu" and (run["num_train"], run["num_test"]) == (4000, 1000)
    assert {k: run["tier"][k] for k in ("name", "epochs", "batch_size", "autocast", "reduced")} \
        == {"name": "gpu", "epochs": gpu.epochs, "batch_size": gpu.batch_size,
            "autocast": "bfloat16", "reduced": True}
    assert result["workers"]["ex2"]["test_acc"]["DeResNeXt.train"] >= gpu_threshold["test_acc"]

    # the same tests on the CPU tier meet the unreachable threshold: so the pass above
    # came from the GPU tier's own
    cpu_out = tmp_path / "cpu.json"
    proc = _grade("--tier", "cpu", "--only", "ex2", "--tests", str(tests), "--json",
                  str(cpu_out), cwd=tmp_path)
    cpu = json.loads(cpu_out.read_text())
    assert proc.returncode == 1 and (cpu["tier"], cpu["device"], cpu["reduced_data"]) == \
        ("cpu", "cpu", None)
    lost = [t for t in cpu["tests"] if t["status"] == "failed"]
    assert [t["nodeid"].split("::")[-1] for t in lost] == ["test_learns"]
    assert "expected at least 99.0%" in lost[0]["message"]
    assert "tier cpu on cpu;" in proc.stdout and "REDUCED" not in proc.stdout


# -- benchmarks/gpu_check.sh: what can be checked without a GPU ------------------------------

def _check(*args, env=None):
    return subprocess.run(["bash", str(GPU_CHECK), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, **(env or {})))


def test_gpu_check_dry_run_lists_steps_within_eight_minutes():
    proc = _check("--dry-run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = re.findall(r"^\s*(\d+)\. (\S+)\s+budget\s+(\d+) s", proc.stdout, re.M)
    names = [name for _, name, _ in steps]
    assert names == ["setup", "preflight", "bench", "grade", "calibrate", "compare"], proc.stdout
    total = sum(int(s) for _, _, s in steps)
    assert 0 < total <= 480 and f"total budget {total} s" in proc.stdout
    assert "benchmarks/results/" in proc.stdout and "nothing run" in proc.stdout
    # each step shows the command it would run
    assert "regnetlab grade solutions --tier gpu --device cuda" in proc.stdout
    assert "calibrate_thresholds.py --tier gpu" in proc.stdout
    assert "bench_train.py --device cuda" in proc.stdout


def test_gpu_check_refuses_bad_arguments():
    proc = _check("--dry-rum")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("gpu_check.sh: unknown argument '--dry-rum'; expected "
                                   "--dry-run, --skip-setup or --help")
    assert "--dry-run" in _check("--help").stdout


@pytest.mark.skipif(HAS_CUDA or shutil.which("nvidia-smi") is not None,
                    reason="this machine has a GPU")
def test_gpu_check_refuses_to_run_without_cuda():
    results = REPO / "benchmarks" / "results"
    before = sorted(results.iterdir())
    for args in ((), ("--skip-setup",)):  # before the setup: no minutes spent on it
        proc = _check(*args)
        assert proc.returncode == 3, proc.stdout + proc.stderr
        assert proc.stderr.strip().startswith("gpu_check.sh: no CUDA GPU on this machine")
        assert "--dry-run" in proc.stderr and "===" not in proc.stdout  # no step ran
    assert sorted(results.iterdir()) == before


# -- calibrate_thresholds.py --tier gpu: deciding from runs made elsewhere (no training) -------

def _calibrate(capsys, *args):
    """calibrate_thresholds.main(args) here: (exit status, stdout, stderr + exit message)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "calibrate_thresholds", REPO / "benchmarks" / "calibrate_thresholds.py")
    module = importlib.util.module_from_spec(spec)
    code, message = 0, ""
    threads, path = torch.get_num_threads(), list(sys.path)  # main() sets both; put back
    try:
        spec.loader.exec_module(module)
        module.main(list(args))
    except SystemExit as e:
        code, message = (e.code, "") if isinstance(e.code, int) else (1, str(e.code))
    finally:
        torch.set_num_threads(threads)
        sys.path[:] = path
    out, err = capsys.readouterr()
    return code, out, err + message


def _gpu_runs(path, reference, valid_acc, seeds=(0, 1, 2)):
    """A cache of GPU-tier runs as the side-by-side processes write them (made up here)."""
    rows = []
    for seed in seeds:
        for control, acc, drop in ((None, valid_acc, 2.0), ("untrained", 0.1, 0.0),
                                   ("head-only", 0.8, 1.95)):
            rows.append({"design": reference, "seed": seed, "control": control, "tier": "gpu",
                         "device": "cuda", "test_acc": acc + seed / 100, "loss_drop": drop,
                         "gain": 0.5, "before": {"loss": 3.0, "acc": 0.1},
                         "after": {"loss": 1.0, "acc": acc}, "train_loss": 1.0, "seconds": 1.0})
    rows.append(dict(rows[0], tier="cpu", test_acc=0.0))  # another tier's run: never used
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_gpu_calibration_decides_compares_and_applies_from_cached_runs(tmp_path, capsys):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import designs
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    key = "ex4.PerfectMLP"
    _gpu_runs(tmp_path / "runs.jsonl", designs.PERFECT_MLP.reference.label, 0.9)
    recorded = tmp_path / "calibration.json"
    shutil.copyfile(REPO / "autograder" / "calibration.json", recorded)
    out = tmp_path / "gpu.json"
    common = ["--tier", "gpu", "--device", "cpu", "--cached-only", "--n", "1",
              "--cache", str(tmp_path / "runs.jsonl"), "--out", str(out)]
    code, out_text, err = _calibrate(capsys, *common, "--compare", str(recorded))
    assert code == 0, out_text + err
    result = json.loads(out.read_text())
    m = result["models"][key]
    # head-only (0.82, drop 1.95) is too close to fail on either measure; the untrained
    # control (0.12) is not
    assert (m["measure"], m["threshold"], m["fails"]) == ("test_acc", {"test_acc": 0.51},
                                                          ["untrained"])
    assert result["tier"]["name"] == "gpu" and result["device"] == "cpu"
    assert set(result["not_calibrated"]) == {"ex1.DeepRegNetX", "ex2.DeResNeXt", "ex3.VioNet"}
    assert f"{key}: test_acc 0.39 -> test_acc 0.51" in out_text and "CHANGED" in out_text
    assert "ex1.DeepRegNetX: not calibrated" in out_text

    # --apply refuses a GPU tier with keys missing, and leaves the file as it was
    before = recorded.read_text()
    code, _, err = _calibrate(capsys, *common, "--apply", str(recorded))
    assert code != 0 and "--apply: ex1.DeepRegNetX, ex2.DeResNeXt, ex3.VioNet not " \
        "calibrated" in err
    assert recorded.read_text() == before
    code, out_text, err = _calibrate(capsys, *common, "--keys", key, "--apply", str(recorded))
    assert code == 0, out_text + err
    applied = json.loads(recorded.read_text())
    assert applied["tiers"]["cpu"] == json.loads(before)["tiers"]["cpu"]
    assert applied["tiers"]["gpu"]["models"][key]["threshold"] == {"test_acc": 0.51}
    assert "derived_from" not in applied["tiers"]["gpu"]


def test_gpu_calibration_options_are_checked(capsys):
    for args, words in ((["--budget-s", "10"], "go with --tier gpu only"),
                        (["--tier", "gpu", "--runs-only", "--cached-only"], "one trains"),
                        (["--tier", "gpu", "--reduced-data", "512,256", "--apply", "x.json"],
                         "--apply with --reduced-data"),
                        (["--tier", "gpu", "--seeds", "0"], "--seeds: calibrate on at least 3")):
        code, _, err = _calibrate(capsys, *args)
        assert code == 2 and words in err, err
