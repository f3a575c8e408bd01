"""The book's training pipeline vs regnetlab's, same model, same machine, one run.

(1) book: torchvision FashionMNIST + DataLoader with Resize + ToTensor per sample, plain
    SGD (no momentum) at lr 0.05, batch 128, NCHW tensors, d2l's training loop;
(2) regnetlab: the whole set resident as normalised tensors, batches by indexing,
    channels-last, and the default recipe (Nesterov SGD, one-cycle), batch 256, lr 0.2.

At 28x28 both train until --epochs and we report training images/s and the training time
until the test accuracy first reaches --target (evaluation time excluded). At 96x96 (the
book's size) a full run takes hours on a 2-core CPU, so we time --steps-96 steps only and
report images/s. Usage:

    python benchmarks/bench_train.py [--epochs 3] [--target 0.87] [--steps-96 30] [--json F]
"""
import argparse
import platform
import sys
import time

import torch

from regnetlab import DEFAULT, FashionMNIST, RegNetX32, Trainer
from regnetlab.data import book_fashion_mnist
from regnetlab.files import write_json


def book_run(resize, epochs, max_steps=None, lr=0.05, batch_size=128, seed=0, device="cpu"):
    """d2l's Trainer.fit, reduced to its essentials: per-sample transforms, plain SGD."""
    torch.manual_seed(seed)
    model = RegNetX32(lr=lr).to(device)
    train, val = book_fashion_mnist(None, batch_size=batch_size, resize=resize)
    opt = model.configure_optimizers()  # torch.optim.SGD(params, lr) as in d2l
    history, train_time, seen, steps = [], 0.0, 0, 0
    for epoch in range(epochs):
        model.train()
        t0 = time.perf_counter()
        for batch in train:
            batch = [t.to(device) for t in batch]
            loss = model.training_step(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(batch[1])
            steps += 1
            if max_steps and steps >= max_steps:
                break
        train_time += time.perf_counter() - t0
        if max_steps:
            return {"images_per_s": seen / train_time, "history": history}
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for X, y in val:
                X, y = X.to(device), y.to(device)
                correct += (model(X).argmax(1) == y).sum().item()
                total += len(y)
        history.append({"epoch": epoch + 1, "train_time_s": train_time,
                        "test_acc": correct / total})
    return {"images_per_s": seen / train_time, "history": history}


def ours_run(resize, epochs, max_steps=None, lr=0.2, batch_size=256, seed=0, device="cpu"):
    torch.manual_seed(seed)
    model = RegNetX32(lr=lr)
    limit = max_steps * batch_size if max_steps else None
    data = FashionMNIST(batch_size=batch_size, resize=resize, limit_train=limit,
                        limit_test=batch_size if max_steps else None, seed=seed,
                        device=device)
    res = Trainer(1 if max_steps else epochs, recipe=DEFAULT, device=device, seed=seed,
                  progress=False).fit(model, data)
    return {"images_per_s": res.images_per_s, "history": res.history}


def time_to(history, target):
    for h in history:
        if h["test_acc"] >= target:
            return h["train_time_s"]
    return None


def fmt(v, unit=""):
    return "not reached" if v is None else f"{v:,.1f}{unit}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--target", type=float, default=0.87)
    p.add_argument("--steps-96", type=int, default=30)
    p.add_argument("--skip-28", action="store_true")
    p.add_argument("--device", default="cpu", help="cpu or cuda (both pipelines)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    dev = args.device

    where = torch.cuda.get_device_name(dev) if dev.startswith("cuda") else "cpu"
    machine = (f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} "
               f"threads, torch {torch.__version__}, {where}")
    out = {"machine": machine, "epochs": args.epochs, "target": args.target}
    rows = []
    if not args.skip_28:
        book = book_run((28, 28), args.epochs, device=dev)
        ours = ours_run((28, 28), args.epochs, device=dev)
        out["28"] = {"book": book, "ours": ours}
        tb, to = time_to(book["history"], args.target), time_to(ours["history"], args.target)
        rows += [
            ("28x28 training images/s", book["images_per_s"], ours["images_per_s"]),
            (f"28x28 train time to {args.target:.0%} test acc (s)", tb, to),
            (f"28x28 test acc after {args.epochs} epochs", book["history"][-1]["test_acc"],
             ours["history"][-1]["test_acc"]),
        ]
    book96 = book_run((96, 96), 1, max_steps=args.steps_96, device=dev)
    ours96 = ours_run((96, 96), 1, max_steps=args.steps_96, device=dev)
    out["96"] = {"book": book96, "ours": ours96, "steps": args.steps_96}
    rows.append((f"96x96 training images/s ({args.steps_96} steps)",
                 book96["images_per_s"], ours96["images_per_s"]))

    print(f"RegNetX32 on Fashion-MNIST, {machine}")
    print(f"{'figure':<44} {'book':>12} {'regnetlab':>12} {'ratio':>8}")
    for name, b, o in rows:
        if name.startswith("28x28 test acc"):
            print(f"{name:<44} {b:>12.4f} {o:>12.4f} {'':>8}")
            continue
        lower_is_better = "time" in name
        ratio = (b / o if lower_is_better else o / b) if (b and o) else None
        print(f"{name:<44} {fmt(b):>12} {fmt(o):>12} {fmt(ratio, 'x'):>8}")
    print("ratio: how many times better regnetlab is (faster, or more images/s)")
    if args.json:
        write_json(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
