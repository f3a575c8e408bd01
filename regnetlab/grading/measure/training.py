"""The grader's short training runs: one recipe per tier, thresholds from the calibration.

Training happens here, on the trusted side, on the network rebuilt from its graph: the
student's optimizer, ``requires_grad`` flags and training code play no part, and every
trainable tensor is optimised. A correct network must clearly learn in a run short
enough for a laptop, and an untrained or broken one must clearly not. Two tiers:

- ``cpu``: 28x28, the first 4,000 training and 1,000 test images, one epoch (seconds
  per network on a 2-core CPU);
- ``gpu``: 28x28, all 60,000 training and 10,000 test images, two epochs, batch 128,
  the forward pass in bfloat16 autocast.

A tier is a recipe, not a device: each runs on the CPU or on CUDA (``pick_device``), with
the same batch, epochs and autocast either way. ``reduced`` gives a tier run on fewer
images (``regnetlab grade --reduced-data``), so that the GPU tier's whole path can be
tested on a CPU; every report then says that the data was reduced.

The thresholds live in ``autograder/calibration.json``, written by
``benchmarks/calibrate_thresholds.py`` (see ``autograder/CALIBRATION.md``). Grading always trains with seed 0, so a submission gets
the same accuracy on every run on one machine; the margin absorbs other machines.
"""
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

GRADING_SEED = 0


@dataclass(frozen=True)
class Tier:
    name: str
    image_size: int
    limit_train: int | None
    limit_test: int | None
    epochs: int
    batch_size: int
    autocast: str | None = None  # dtype of the forward pass's autocast, on any device
    reduced: bool = False        # fewer images than the tier's own (a test of its path)


TIERS = {
    "cpu": Tier("cpu", 28, 4000, 1000, 1, 64),
    "gpu": Tier("gpu", 28, None, None, 2, 128, autocast="bfloat16"),
}
FULL_TRAIN, FULL_TEST = 60000, 10000  # Fashion-MNIST's splits: a tier's None


def cuda_available():
    import torch
    return torch.cuda.is_available()


def pick_tier(name="auto", device="auto"):
    """``auto`` is ``gpu`` when the run has CUDA (``device`` cuda, or auto and torch sees
    CUDA), else ``cpu``."""
    if name == "auto":
        on_cuda = device == "cuda" or (device == "auto" and cuda_available())
        name = "gpu" if on_cuda else "cpu"
    if name not in TIERS:
        raise ValueError(f"--tier {name}: expected one of auto, {', '.join(TIERS)}")
    return TIERS[name]


def pick_device(tier, device="auto"):
    """``cpu`` or ``cuda`` for a run of ``tier``. ``auto``: the GPU tier on CUDA when
    there is one, else on the CPU; the CPU tier on the CPU (as it was calibrated)."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"--device {device}: expected auto, cpu or cuda")
    if device == "cuda" and not cuda_available():
        raise ValueError("--device cuda: torch sees no CUDA device on this machine; "
                         "use --device cpu (or leave --device out)")
    if device == "auto":
        return "cuda" if tier.name == "gpu" and cuda_available() else "cpu"
    return device


def parse_reduced(text):
    """``--reduced-data TRAIN,TEST`` -> (train images, test images)."""
    try:
        train, test = (int(x) for x in str(text).split(","))
    except ValueError:
        raise ValueError(f"--reduced-data {text}: expected TRAIN,TEST, two whole numbers "
                         "of images (e.g. 4000,1000)") from None
    return train, test


def reduced(tier, train, test):
    """``tier`` on the first ``train`` training and ``test`` test images; its batch,
    epochs and autocast stay. Refused unless both are fewer than the tier's own."""
    full_train = tier.limit_train or FULL_TRAIN
    full_test = tier.limit_test or FULL_TEST
    if not (2 * tier.batch_size <= train < full_train and 1 <= test < full_test):
        raise ValueError(f"--reduced-data {train},{test}: expected {2 * tier.batch_size} to "
                         f"{full_train - 1:,} training and 1 to {full_test - 1:,} test images "
                         f"(fewer than the {tier.name} tier's own, at least two of its "
                         f"batches of {tier.batch_size})")
    return replace(tier, limit_train=train, limit_test=test, reduced=True)


def describe(tier, device):
    """One line for the reports: tier, device, and a reduced budget when there is one."""
    text = f"tier {tier.name} on {device}"
    if tier.reduced:
        text += (f" (REDUCED DATA: {tier.limit_train:,} training and {tier.limit_test:,} "
                 "test images, not the tier's own; scores are not grades)")
    return text


def as_tier(tier):
    """A Tier, or the name of one."""
    return tier if isinstance(tier, Tier) else TIERS[tier]


def load_data(tier, root=None, device="cpu"):
    from ...data import FashionMNIST
    return FashionMNIST(batch_size=tier.batch_size, resize=(tier.image_size,) * 2, root=root,
                        device=device, limit_train=tier.limit_train,
                        limit_test=tier.limit_test, seed=GRADING_SEED)


def heldout(model, data, device):
    """Loss and accuracy on the tier's test images, with batch statistics.

    Train-mode batch norm (running statistics saved and put back), no gradient. Unlike
    the eval-mode accuracy this compares like with like before and after training, and
    it does not depend on running statistics, which lag far behind in a deep, narrow
    network after one short epoch (its eval-mode accuracy can sit at chance while its
    predictions have improved: ``autograder/CALIBRATION.md``).
    """
    import torch
    import torch.nn.functional as F

    saved = {k: v.clone() for k, v in model.state_dict().items()}
    was_training = model.training
    model.train()
    loss = correct = count = 0
    with torch.no_grad():
        for X, y in data.val_dataloader():
            X, y = X.to(device), y.to(device)
            out = model(X).float()
            loss += F.cross_entropy(out, y, reduction="sum").item()
            correct += (out.argmax(1) == y).sum().item()
            count += len(y)
    model.load_state_dict(saved)
    model.train(was_training)
    return {"loss": loss / max(1, count), "acc": correct / max(1, count)}


def short_train(model, tier, data, seed=GRADING_SEED, device=None):
    """Train ``model`` (a ``CapturedNetwork``, or any Classifier) one tier's run, report.

    ``test_acc`` is the usual eval-mode accuracy. ``before`` and ``after`` are the
    held-out loss and accuracy with batch statistics (:func:`heldout`) of the network as
    it came and as trained; ``loss_drop`` (before minus after loss) and ``gain`` (after
    minus before accuracy) are exactly 0 for a network that does not train (lr = 0).
    ``checks.check_accuracy`` judges the measure ``calibration.json`` names.
    """
    import torch

    from ...trainer import Trainer

    class TierTrainer(Trainer):
        def _autocast(self):  # the tier's, not the device's: the GPU tier's bf16 on a CPU too
            if tier.autocast is None:
                return torch.autocast(self.device.type, enabled=False)
            return torch.autocast(self.device.type, dtype=getattr(torch, tier.autocast))

    torch.manual_seed(seed)
    trainer = TierTrainer(tier.epochs, seed=seed, device=device, progress=False,
                          eval_every_epoch=False)
    model.to(trainer.device)
    before = heldout(model, data, trainer.device)
    res = trainer.fit(model, data)
    after = heldout(model, data, trainer.device)
    return {"test_acc": res.test_acc, "train_loss": res.train_loss,
            "train_acc": res.train_acc, "before": before, "after": after,
            "loss_drop": before["loss"] - after["loss"], "gain": after["acc"] - before["acc"],
            "seconds": round(res.wall_time_s, 2),
            "images_per_s": round(res.images_per_s), "device": res.device,
            "tier": asdict(tier), "seed": seed, "lr": model.lr,
            "num_train": data.num_train, "num_test": data.num_val}


def calibration_file(tests_dir):
    return Path(tests_dir) / "calibration.json"


def load_thresholds(path, tier):
    """{model key: minimum test accuracy} for ``tier`` from a calibration file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no calibration file; run "
                                "benchmarks/calibrate_thresholds.py to write it")
    data = json.loads(path.read_text())
    try:
        models = data["tiers"][tier]["models"]
    except KeyError:
        raise ValueError(f"{path}: no thresholds for tier {tier!r}") from None
    return {key: row["threshold"] for key, row in models.items()}
