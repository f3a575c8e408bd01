"""d2l's ``Trainer``: ``Trainer(max_epochs, num_gpus).fit(model, data)``, with a faster recipe.

As in the book, ``fit`` asks the model for each batch's loss (``model.training_step``,
which calls ``model.loss``) and evaluates with ``model.validation_step``, so a model that
overrides them is trained with its own; ``num_gpus=0`` (the default) trains on the CPU,
``num_gpus=1`` on the first GPU if there is one. What differs is the optimisation: the
book trains with plain SGD at a constant learning rate, our default ``Recipe`` adds
Nesterov momentum, weight decay and a one-cycle schedule (warm up, then anneal to ~0),
which reaches a given accuracy in far fewer epochs; ``recipe=BOOK`` restores the book's.
A model that overrides ``configure_optimizers`` gets its own optimizer (under the
recipe's schedule). Batches are channels-last (faster on CPU and GPU); on a GPU the
forward pass runs in bfloat16 autocast.
"""
import math
import sys
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.nn import functional as F


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


def pick_device(device=None, num_gpus=None):
    """The device to train on: an explicit ``device`` wins; else d2l's ``num_gpus``
    (0: CPU; 1 or more: the first GPU if there is one, else CPU); ``num_gpus=None``
    (the command line's default) means CUDA if present, else CPU."""
    if device not in (None, "auto"):
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ValueError(f"--device {device}: expected cpu, cuda or cuda:N") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"--device {device}: CUDA is not available on this machine; "
                             "use --device cpu or leave --device out")
        return dev
    if num_gpus is not None and (int(num_gpus) != num_gpus or num_gpus < 0):
        raise ValueError(f"num_gpus={num_gpus!r}: expected a whole number >= 0")
    if num_gpus == 0 or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", 0)


def live_progress():
    """A redrawn progress bar on a terminal or in a notebook (tqdm draws a widget there);
    in a log (CI, ``| cat``) one line per epoch instead."""
    if "ipykernel" in sys.modules:
        return True
    return sys.stdout.isatty() and sys.stderr.isatty()


def uses_own_optimizer(model):
    """True when the model's class overrides ``configure_optimizers`` (the book's hook)."""
    from .classifier import Classifier

    own = getattr(type(model), "configure_optimizers", None)
    return own is not None and own is not Classifier.configure_optimizers


def scores(y_hat, y):
    """True when ``y_hat`` (what the model's forward returned) is one row of logits per
    label of ``y``, so its argmax can be scored."""
    return (torch.is_tensor(y_hat) and y_hat.ndim == y.ndim + 1
            and y_hat.shape[:-1] == y.shape)


def has_lazy_parameters(model):
    return any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters())


class Trainer:
    """``Trainer(max_epochs, num_gpus, gradient_clip_val)`` as in d2l, plus ``recipe``,
    ``device`` (wins over ``num_gpus``), ``seed`` and ``progress``."""

    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0, *, recipe=DEFAULT,
                 device=None, seed=0, progress=True, eval_every_epoch=True):
        if int(max_epochs) != max_epochs or max_epochs < 1:
            raise ValueError(f"max_epochs={max_epochs!r}: expected a positive integer")
        self.max_epochs, self.gradient_clip_val = int(max_epochs), gradient_clip_val
        self.num_gpus = num_gpus
        self.recipe, self.seed, self.progress = recipe, seed, progress
        self.eval_every_epoch = eval_every_epoch
        self.device = pick_device(device, num_gpus)
        self.result = None

    # -- optimisation --------------------------------------------------------------
    def configure_optimizers(self, model, steps):
        """``(optimizer, scheduler or None)`` for ``steps`` training steps."""
        r = self.recipe
        if r.model_optimizer or uses_own_optimizer(model):
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

    def prepare_batch(self, batch):
        """d2l's ``prepare_batch``: the batch on our device; images channels-last, which is
        faster for these convs on CUDA and on CPU (oneDNN) alike."""
        out = []
        for a in batch:
            a = a.to(self.device, non_blocking=True)
            if a.ndim == 4 and a.is_floating_point():
                a = a.contiguous(memory_format=torch.channels_last)
            out.append(a)
        return out

    def _materialize(self, model, loader):
        """Give lazy layers their shapes with one batch (d2l's ``apply_init``), so that an
        optimizer can be built over real tensors; eval mode leaves batch norm untouched."""
        if not has_lazy_parameters(model):
            return
        was_training = model.training
        model.eval()
        with torch.no_grad():
            batch = self.prepare_batch(next(iter(loader)))
            model(*batch[:-1])
        model.train(was_training)

    def _loss(self, model, batch):
        step = getattr(model, "training_step", None)
        if step is None:  # a plain nn.Module: the classifier's loss
            return F.cross_entropy(model(*batch[:-1]), batch[-1])
        return step(batch)

    def evaluate(self, model, loader):
        """Accuracy over ``loader``: the model's ``validation_step`` on each batch (eval
        mode, no gradients), scored on the logits it computed."""
        out = {}
        hook = model.register_forward_hook(lambda m, i, o: out.__setitem__("y_hat", o))
        model.eval()
        correct = total = 0
        try:
            with torch.no_grad(), self._autocast():
                for batch in loader:
                    batch = self.prepare_batch(batch)
                    out.clear()
                    step = getattr(model, "validation_step", None)
                    step(batch) if step is not None else model(*batch[:-1])
                    y = batch[-1]
                    if not scores(out.get("y_hat"), y):  # validation_step never called forward
                        out["y_hat"] = model(*batch[:-1])
                    correct += (out["y_hat"].argmax(-1).reshape(-1) == y.reshape(-1)).sum().item()
                    total += y.numel()
        finally:
            hook.remove()
        return correct / max(1, total)

    def fit(self, model, data):
        """Train ``model`` on ``data`` (anything with ``train_dataloader``/``val_dataloader``)."""
        from tqdm.auto import tqdm

        start = time.perf_counter()
        train_loader, val_loader = data.train_dataloader(), data.val_dataloader()
        if hasattr(train_loader, "generator"):
            train_loader.generator.manual_seed(self.seed)
        if len(train_loader) == 0:
            raise ValueError("no training batch: training needs at least 2 images "
                             "(batch norm cannot learn from one)")
        model.trainer, self.model = self, model  # as d2l's prepare_model
        model.to(self.device)
        self._materialize(model, train_loader)
        model.to(memory_format=torch.channels_last)
        steps = self.max_epochs * len(train_loader)
        opt, sched = self.configure_optimizers(model, steps)
        self.optim = opt
        seen_out = {}
        hook = model.register_forward_hook(lambda m, i, o: seen_out.__setitem__("y_hat", o))
        live = self.progress and live_progress()
        history, train_time, seen = [], 0.0, 0
        try:
            for epoch in range(self.max_epochs):
                self.epoch = epoch
                model.train()
                t0 = time.perf_counter()
                loss_sum = correct = count = 0
                bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{self.max_epochs}",
                           disable=not live, leave=False, unit="batch")
                for batch in bar:
                    batch = self.prepare_batch(batch)
                    y = batch[-1]
                    seen_out.clear()
                    with self._autocast():
                        loss = self._loss(model, batch)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    if self.gradient_clip_val:
                        torch.nn.utils.clip_grad_norm_(model.parameters(),
                                                       self.gradient_clip_val)
                    opt.step()
                    if sched is not None:
                        sched.step()
                    n = y.numel()
                    loss_sum += loss.detach().float() * n
                    if correct is not None and scores(seen_out.get("y_hat"), y):
                        y_hat = seen_out["y_hat"].detach()
                        correct += (y_hat.argmax(-1).reshape(-1) == y.reshape(-1)).sum()
                    else:  # its training_step never called forward: no accuracy to report
                        correct = None
                    count += n
                    if live and bar.n % 20 == 0:
                        bar.set_postfix(loss=f"{loss_sum.item() / count:.3f}")
                bar.close()
                if not math.isfinite(float(loss_sum)):
                    raise FloatingPointError(
                        f"epoch {epoch + 1}: the training loss is not finite; lower the "
                        f"learning rate (lr={getattr(model, 'lr', '?')})")
                train_time += time.perf_counter() - t0
                seen += count
                row = {"epoch": epoch + 1, "train_loss": float(loss_sum) / count,
                       "train_acc": float(correct) / count if correct is not None
                       else float("nan"), "train_time_s": train_time}
                if self.eval_every_epoch or epoch == self.max_epochs - 1:
                    row["test_acc"] = self.evaluate(model, val_loader)
                history.append(row)
                if self.progress:  # one line per epoch, on a terminal or in a log
                    line = " ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                    for k, v in row.items())
                    tqdm.write(line) if live else print(line, flush=True)
        finally:
            hook.remove()
        last = history[-1]
        self.result = FitResult(
            test_acc=last["test_acc"], train_acc=last["train_acc"],
            train_loss=last["train_loss"], epochs=self.max_epochs,
            train_time_s=train_time, wall_time_s=time.perf_counter() - start,
            images_per_s=seen / train_time if train_time else 0.0,
            device=str(self.device), history=history)
        return self.result
