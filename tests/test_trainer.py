"""Trainer: the book's fit(model, data) API, our recipe, reproducibility, clear failures."""
import math

import pytest
import torch
from torch import nn

import regnetlab as d2l  # the book's code ports with this one line changed
from regnetlab.trainer import BOOK, DEFAULT, Trainer


class Tiny(d2l.Classifier):
    def __init__(self, lr=0.1):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))


class Toy:
    """A data module with the d2l interface and a learnable rule."""
    def __init__(self, n=64):
        g = torch.Generator().manual_seed(0)
        self.X = torch.randn(n, 1, 2, 2, generator=g)
        self.y = self.X.flatten(1)[:, :3].argmax(1)

    def train_dataloader(self):
        return d2l.data.TensorLoader(self.X, self.y, 16, shuffle=True)

    def val_dataloader(self):
        return d2l.data.TensorLoader(self.X, self.y, 16)


def test_save_hyperparameters_stores_init_arguments():
    assert Tiny(lr=0.3).lr == 0.3 and Tiny(lr=0.3).hparams == {"lr": 0.3}


def test_one_cycle_warms_up_then_anneals_to_zero():
    model = Tiny(lr=0.2)
    opt, sched = Trainer(1, progress=False).configure_optimizers(model, steps=100)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] < 0.01 and max(lrs) == pytest.approx(0.2) and lrs[-1] < 0.001
    assert lrs.index(max(lrs)) == 24  # 25% warm-up
    assert opt.param_groups[0]["momentum"] == 0.9 and opt.param_groups[0]["nesterov"]
    assert opt.param_groups[1]["weight_decay"] == 0.0  # no decay on biases


def test_book_recipe_is_the_models_plain_sgd():
    opt, sched = Trainer(1, recipe=BOOK, progress=False).configure_optimizers(Tiny(lr=0.05), 10)
    assert sched is None and opt.param_groups[0]["momentum"] == 0
    assert opt.param_groups[0]["lr"] == 0.05


def test_fit_learns_and_reports_figures():
    torch.manual_seed(0)
    res = Trainer(5, progress=False, device="cpu").fit(Tiny(lr=0.5), Toy())
    assert res.test_acc > 0.8
    assert res.epochs == 5 and len(res.history) == 5 and res.images_per_s > 0
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]


def _run(seed):
    torch.manual_seed(seed)
    return Trainer(2, progress=False, seed=seed, device="cpu").fit(d2l.RegNetX32(), Toy(n=48))


def test_seeded_runs_are_reproducible():
    a, b = _run(3), _run(3)
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    assert a.test_acc == b.test_acc


def test_a_diverging_run_stops_with_a_clear_error():
    class Exploding(Tiny):
        def forward(self, X):
            return self.net(X) * float("nan")

    with pytest.raises(FloatingPointError, match="training loss is not finite; lower the learning rate"):
        Trainer(1, progress=False).fit(Exploding(), Toy())


def test_bad_epochs_and_devices_are_refused():
    with pytest.raises(ValueError, match="max_epochs=0"):
        Trainer(0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            Trainer(1, device="cuda")


class CountingLoss(Tiny):
    """Overrides the book's hook ``loss``: the trainer must train with it."""
    def __init__(self, lr=0.1):
        super().__init__(lr)
        self.calls = 0

    def loss(self, Y_hat, Y, averaged=True):
        self.calls += self.training  # validation_step calls it too, in eval mode
        return super().loss(Y_hat, Y) + 100.0  # a constant: same gradients, visible value


def test_a_models_own_loss_is_the_one_trained_and_reported():
    torch.manual_seed(0)
    model = CountingLoss(lr=0.5)
    res = Trainer(2, progress=False).fit(model, Toy())
    assert model.calls == 2 * 4  # 64 images, batches of 16, 2 epochs
    assert all(h["train_loss"] > 100 for h in res.history)
    assert res.test_acc > 0.5


def test_a_models_own_training_step_and_optimizer_are_used():
    class Own(Tiny):
        steps = 0

        def training_step(self, batch):
            Own.steps += 1
            return super().training_step(batch)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=self.lr)

    trainer = Trainer(1, progress=False)
    res = trainer.fit(Own(lr=0.01), Toy())
    assert Own.steps == 4 and isinstance(trainer.optim, torch.optim.Adam)
    assert math.isfinite(res.train_acc)


def test_num_gpus_means_what_it_means_in_d2l():
    assert Trainer(10).device == torch.device("cpu")  # the book: no num_gpus, no GPU
    assert Trainer(10, num_gpus=0).device == torch.device("cpu")
    gpu = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    assert Trainer(10, num_gpus=1).device == gpu
    assert Trainer(10, num_gpus=1, device="cpu").device == torch.device("cpu")  # device wins
    with pytest.raises(ValueError, match="num_gpus=-1: expected a whole number >= 0"):
        Trainer(1, num_gpus=-1)


def test_a_piped_train_prints_one_line_per_epoch(data_root, tmp_path):
    """`regnetlab train ... | cat`: no progress-bar redraws in a log, one line an epoch."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "REGNETLAB_DATA": str(data_root), "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "regnetlab", "train", "RegNetX32", "--epochs", "2",
         "--limit-train", "64", "--limit-test", "32", "--batch-size", "32"],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [["epoch", "1"], ["epoch", "2"]]
    assert lines[-1].startswith("RegNetX32: test accuracy")
    assert "\r" not in run.stdout + run.stderr


def test_too_few_images_for_one_batch_is_refused():
    class One(Toy):
        def train_dataloader(self):
            return d2l.data.TensorLoader(self.X[:1], self.y[:1], 16, shuffle=True)

    with pytest.raises(ValueError, match="no training batch: training needs at least 2 images"):
        Trainer(1, progress=False).fit(Tiny(), One())
