"""d2l's ``Trainer``: ``Trainer(max_epochs).fit(model, data)``, with a faster recipe.

The book trains with plain SGD at a constant learning rate. Our default ``Recipe`` adds
Nesterov momentum, weight decay and a one-cycle schedule (warm up, then anneal to ~0),
which reaches a given accuracy in far fewer epochs; ``recipe=BOOK`` restores the book's.
It trains with channels-last tensors (faster on CPU and GPU), and on a GPU in bfloat16
autocast.
"""
import math
import time
from dataclasses import asdict, dataclass, field

import torch


@dataclass(frozen=True)
class Recipe:
    """How to optimise. The peak learning rate is the model's ``lr`` (as in the book)."""
    name: str = "regnetlab"
    model_optimizer: bool = False  # True: use model.configure_optimizers() (the book's SGD)
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "onecycle"  # "onecycle" or "constant"
    warmup: float = 0.25        # fraction of steps spent warming up (onecycle)
    label_smoothing: float = 0.0


BOOK = Recipe("book", model_optimizer=True, momentum=0.0, nesterov=False, weight_decay=0.0,
              schedule="constant")
DEFAULT = Recipe()


@dataclass
class FitResult:
    """What one ``fit`` measured. Times exclude evaluation; images/s counts training only."""
    test_acc: float
    train_acc: float
    train_loss: float
    epochs: int
    train_time_s: float
    wall_time_s: float
    images_per_s: float
    device: str
    history: list = field(default_factory=list)

    def as_dict(self):
        return asdict(self)


def pick_device(device=None, num_gpus=0):
    """An explicit device wins; else CUDA if asked for (``num_gpus``) or present, else CPU."""
    if device not in (None, "auto"):
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ValueError(f"--device {device}: expected cpu, cuda or cuda:N") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"--device {device}: CUDA is not available on this machine; "
                             "use --device cpu or leave --device out")
        return dev
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Trainer:
    """``Trainer(max_epochs, num_gpus)`` as in d2l, plus ``recipe``, ``device``, ``seed``."""

    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0, *, recipe=DEFAULT,
                 device=None, seed=0, progress=True, eval_every_epoch=True):
        if int(max_epochs) != max_epochs or max_epochs < 1:
            raise ValueError(f"max_epochs={max_epochs!r}: expected a positive integer")
        self.max_epochs, self.gradient_clip_val = int(max_epochs), gradient_clip_val
        self.recipe, self.seed, self.progress = recipe, seed, progress
        self.eval_every_epoch = eval_every_epoch
        self.device = pick_device(device, num_gpus)
        self.result = None

    # -- optimisation --------------------------------------------------------------
    def configure_optimizers(self, model, steps):
        r = self.recipe
        if r.model_optimizer:
            opt = model.configure_optimizers()  # the model's own choice, as in the book
        else:
            decay = [p for p in model.parameters() if p.ndim > 1]
            no_decay = [p for p in model.parameters() if p.ndim <= 1]  # biases, BN
            opt = torch.optim.SGD(
                [{"params": decay, "weight_decay": r.weight_decay},
                 {"params": no_decay, "weight_decay": 0.0}],
                lr=model.lr, momentum=r.momentum, nesterov=r.nesterov and r.momentum > 0)
        if r.schedule == "onecycle":
            warm = max(1, int(r.warmup * steps))

            def factor(step):
                if step < warm:
                    return (step + 1) / warm
                t = (step - warm) / max(1, steps - warm)
                return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
            sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        elif r.schedule == "constant":
            sched = None
        else:
            raise ValueError(f"recipe schedule {r.schedule!r}: expected onecycle or constant")
        return opt, sched

    # -- the loop ---------------------------------------------------------------------
    def _autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cpu", enabled=False)

    def _prepare(self, X):
        # channels-last is faster for these convs on CUDA and on CPU (oneDNN) alike
        return X.to(self.device, non_blocking=True).contiguous(memory_format=torch.channels_last)

    def evaluate(self, model, loader):
        """Accuracy of ``model`` over ``loader`` (eval mode, no gradients)."""
        model.eval()
        correct = total = 0
        with torch.no_grad(), self._autocast():
            for X, y in loader:
                y = y.to(self.device)
                correct += (model(self._prepare(X)).argmax(1) == y).sum().item()
                total += len(y)
        return correct / max(1, total)

    def fit(self, model, data):
        """Train ``model`` on ``data`` (anything with ``train_dataloader``/``val_dataloader``)."""
        from tqdm.auto import tqdm

        start = time.perf_counter()
        model.to(self.device, memory_format=torch.channels_last)
        train_loader, val_loader = data.train_dataloader(), data.val_dataloader()
        if hasattr(train_loader, "generator"):
            train_loader.generator.manual_seed(self.seed)
        if len(train_loader) == 0:
            raise ValueError("no training batch: training needs at least 2 images "
                             "(batch norm cannot learn from one)")
        steps = self.max_epochs * len(train_loader)
        opt, sched = self.configure_optimizers(model, steps)
        loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=self.recipe.label_smoothing)
        history, train_time, seen = [], 0.0, 0
        for epoch in range(self.max_epochs):
            model.train()
            t0 = time.perf_counter()
            loss_sum = correct = count = 0
            bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{self.max_epochs}",
                       disable=not self.progress, leave=False, unit="batch")
            for X, y in bar:
                X, y = self._prepare(X), y.to(self.device, non_blocking=True)
                with self._autocast():
                    Y_hat = model(X)
                    loss = loss_fn(Y_hat.float(), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if self.gradient_clip_val:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), self.gradient_clip_val)
                opt.step()
                if sched is not None:
                    sched.step()
                n = len(y)
                loss_sum += loss.detach() * n
                correct += (Y_hat.detach().argmax(1) == y).sum()
                count += n
                if self.progress and bar.n % 20 == 0:
                    bar.set_postfix(loss=f"{loss_sum.item() / count:.3f}",
                                    acc=f"{correct.item() / count:.3f}")
            bar.close()
            if not math.isfinite(float(loss_sum)):
                raise FloatingPointError(
                    f"epoch {epoch + 1}: the training loss is not finite; lower the "
                    f"learning rate (lr={model.lr})")
            train_time += time.perf_counter() - t0
            seen += count
            row = {"epoch": epoch + 1, "train_loss": float(loss_sum) / count,
                   "train_acc": float(correct) / count, "train_time_s": train_time}
            if self.eval_every_epoch or epoch == self.max_epochs - 1:
                row["test_acc"] = self.evaluate(model, val_loader)
            history.append(row)
            if self.progress:
                tqdm.write(" ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                    for k, v in row.items()))
        last = history[-1]
        self.result = FitResult(
            test_acc=last["test_acc"], train_acc=last["train_acc"],
            train_loss=last["train_loss"], epochs=self.max_epochs,
            train_time_s=train_time, wall_time_s=time.perf_counter() - start,
            images_per_s=seen / train_time if train_time else 0.0,
            device=str(self.device), history=history)
        return self.result
