"""Calibrate the default training recipe: RegNetX32 at 28x28 on the full Fashion-MNIST.

Trains each (epochs, batch size, peak lr) candidate once with the regnetlab recipe and
prints the test accuracy and training time, so the default can be the fastest one that
reaches 90%. Usage: python benchmarks/calibrate_recipe.py [--grid 3:256:0.1 4:256:0.2 ...]
"""
import argparse
import json
import sys

import torch

from regnetlab import DEFAULT, FashionMNIST, RegNetX32, Trainer
from regnetlab.files import write_json


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--grid", nargs="+", default=["3:256:0.1", "3:256:0.2", "4:256:0.1",
                                                  "4:256:0.2"],
                   help="epochs:batch_size:lr candidates")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    rows = []
    for cand in args.grid:
        epochs, bs, lr = cand.split(":")
        torch.manual_seed(args.seed)
        model = RegNetX32(lr=float(lr))
        data = FashionMNIST(batch_size=int(bs), seed=args.seed)
        res = Trainer(int(epochs), recipe=DEFAULT, device="cpu", seed=args.seed,
                      progress=False).fit(model, data)
        row = {"epochs": int(epochs), "batch_size": int(bs), "lr": float(lr),
               "seed": args.seed, "test_acc": res.test_acc,
               "train_time_s": round(res.train_time_s, 1),
               "per_epoch_test_acc": [round(h["test_acc"], 4) for h in res.history]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
