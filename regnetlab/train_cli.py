"""``regnetlab train MODEL``: train a registered model on Fashion-MNIST and report."""
import argparse

from .arguments import positive_int

# The calibrated default (benchmarks/results/recipe_calibration.jsonl, made by
# benchmarks/calibrate_recipe.py): RegNetX32 at 28x28 reaches >= 90% test accuracy in
# 3 epochs at peak lr 0.2 on seeds 0, 1, 2 (0.9111, 0.9079, 0.9128); lr 0.1 only just.
DEFAULT_EPOCHS = 3
DEFAULT_BATCH_SIZE = 256
DEFAULT_LR = 0.2


def parse_resize(text):
    """``28`` or ``96x96`` -> (h, w)."""
    parts = str(text).lower().split("x")
    try:
        size = tuple(int(p) for p in parts)
    except ValueError:
        size = ()
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) < 1:
        raise argparse.ArgumentTypeError(
            f"expected a positive size such as 96 or 96x96, got {text!r}")
    return size


def add_arguments(p):
    p.add_argument("model", help="a registered model (see `regnetlab info`) or module:Class")
    p.add_argument("--epochs", type=positive_int, default=DEFAULT_EPOCHS)
    p.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE)
    p.add_argument("--lr", type=float, default=DEFAULT_LR, help="peak learning rate")
    p.add_argument("--recipe", choices=["regnetlab", "book"], default="regnetlab",
                   help="regnetlab: Nesterov SGD + one-cycle (default); book: plain SGD")
    p.add_argument("--resize", type=parse_resize, default=None,
                   help="train at this size, e.g. 96 (the book's); default 28")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA if present)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=positive_int, default=None, metavar="N",
                   help="train on the first N training images only")
    p.add_argument("--limit-test", type=positive_int, default=None, metavar="N",
                   help="evaluate on the first N test images only")
    p.add_argument("--data", default=None, help="folder holding FashionMNIST/raw/ "
                   "(default: $REGNETLAB_DATA, else a user cache, downloaded once)")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the figures here")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args):
    import torch

    from .data import FashionMNIST
    from .files import check_writable, write_json
    from .models import get_model
    from .summary import check_input_size, complexity
    from .trainer import BOOK, DEFAULT, Trainer, pick_device

    if not args.lr > 0:
        raise ValueError(f"--lr {args.lr}: expected a positive learning rate")
    if args.json:
        check_writable(args.json)
    device = pick_device(args.device)
    size = args.resize or (28, 28)
    torch.manual_seed(args.seed)
    model = get_model(args.model, lr=args.lr)
    check_input_size(model, min(size))
    cost = complexity(model, (1, *size))
    data = FashionMNIST(batch_size=args.batch_size, resize=size, root=args.data,
                        device=device, limit_train=args.limit_train,
                        limit_test=args.limit_test, seed=args.seed)
    trainer = Trainer(args.epochs, recipe=BOOK if args.recipe == "book" else DEFAULT,
                      device=device, seed=args.seed, progress=not args.no_progress)
    res = trainer.fit(model, data)
    print(f"{args.model}: test accuracy {res.test_acc:.4f} after {res.epochs} epochs "
          f"({data.num_train} train / {data.num_val} test images, {size[0]}x{size[1]}) | "
          f"wall time {res.wall_time_s:.1f} s | {res.images_per_s:.0f} images/s | "
          f"{res.device}")
    if args.json:
        write_json(args.json, {
            "model": args.model, "params": cost.params, "flops": cost.flops,
            "input_size": list(size), "recipe": args.recipe, "lr": args.lr,
            "batch_size": args.batch_size, "seed": args.seed,
            "num_train": data.num_train, "num_test": data.num_val, **res.as_dict()})
    return 0
