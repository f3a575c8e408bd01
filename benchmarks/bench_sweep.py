"""How a sweep's wall time grows with the number of networks N and of worker processes.

Runs ``regnetlab explore``'s runner on N tiny networks of the RegNetX space (fixed small
budget) for every (N, workers) pair, each into a fresh results file, and prints the
measured wall times side by side, with the speed-up over one worker. The wall time
includes starting the workers and loading the images once per worker, which is why small
sweeps gain less from more workers. Usage (REGNETLAB_DATA set):

    OMP_NUM_THREADS=1 python benchmarks/bench_sweep.py --n 4 8 16 --workers 1 2
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

from regnetlab.arguments import positive_int
from regnetlab.engines import LocalEngine
from regnetlab.explore.studies import trials
from regnetlab.explore.sweep import check_data, run_sweep


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=positive_int, nargs="+", default=[4, 8, 16])
    p.add_argument("--workers", type=positive_int, nargs="+", default=[1, 2])
    p.add_argument("--train-images", type=positive_int, default=1000)
    p.add_argument("--test-images", type=positive_int, default=500)
    p.add_argument("--epochs", type=positive_int, default=1)
    p.add_argument("--data", default=None)
    args = p.parse_args(argv)
    settings = {"epochs": args.epochs, "train_images": args.train_images,
                "test_images": args.test_images, "batch_size": 128, "lr": 0.1,
                "recipe": "regnetlab", "seed": 0}
    print(f"budget per network: {args.epochs} epoch(s) x {args.train_images} train images, "
          f"{args.test_images} test images; RegNetX space; 1 torch thread per worker")
    walls = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.n:
            for w in args.workers:
                path = Path(tmp) / f"n{n}-w{w}.jsonl"
                t0 = time.perf_counter()
                records, _ = run_sweep(path, "regnetx", settings, trials("regnetx", n, 0),
                                       LocalEngine(w), initargs=(None, args.data, "cpu", 1),
                                       log=lambda *_: None, check=check_data)
                walls[n, w] = time.perf_counter() - t0
                assert len(records) == n
                print(f"  N={n:3d} workers={w}: {walls[n, w]:6.1f} s", flush=True)
    base = args.workers[0]
    print()
    print("| N | " + " | ".join(f"{w} worker(s) wall s" for w in args.workers)
          + " | " + " | ".join(f"speed-up {w} vs {base}" for w in args.workers[1:]) + " |")
    print("|---" * (1 + 2 * len(args.workers) - 1) + "|")
    for n in args.n:
        print(f"| {n} | " + " | ".join(f"{walls[n, w]:.1f}" for w in args.workers)
              + " | " + " | ".join(f"{walls[n, base] / walls[n, w]:.2f}x"
                                   for w in args.workers[1:]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
