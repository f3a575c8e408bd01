"""``regnetlab explore STUDY``: sample, train and compare networks of a design space.

``regnetlab explore anynetx`` trains N networks from each AnyNetX space A..E and prints
their errors' EDF summary and the dominance statistics; ``regnetlab explore report``
re-makes every table and figure from recorded results files. The studies are the
modules of :mod:`regnetlab.explore.studies`.
"""
import os
from pathlib import Path

from ..arguments import positive_int
from ..engines import ENGINES
from .studies import STUDIES

DEFAULTS = {"epochs": 2, "train_images": 4000, "test_images": 2000, "batch_size": 128,
            "lr": 0.1}


def add_arguments(p):
    p.add_argument("study", choices=[*STUDIES, "report"],
                   help="; ".join(f"{k}: {v.summary}" for k, v in STUDIES.items())
                   + "; report: tables and figures from recorded results")
    p.add_argument("--n", type=positive_int, default=None,
                   help="networks per design space (default: the study's, see docs)")
    p.add_argument("--seeds", type=positive_int, default=None,
                   help="seeds per fixed model (vionet, exercises, PerfectMLP); "
                   "default: the study's")
    p.add_argument("--epochs", type=positive_int, default=DEFAULTS["epochs"])
    p.add_argument("--train-images", type=positive_int, default=DEFAULTS["train_images"],
                   metavar="N", help="train on the first N training images")
    p.add_argument("--test-images", type=positive_int, default=DEFAULTS["test_images"],
                   metavar="N", help="measure the error on the first N test images")
    p.add_argument("--batch-size", type=positive_int, default=DEFAULTS["batch_size"])
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="peak learning rate")
    p.add_argument("--seed", type=int, default=0, help="draws networks and seeds training")
    p.add_argument("--band", default=None, metavar="LOW,HIGH",
                   help="sample only networks in this complexity band: MFLOPs per 28x28 "
                   "image (anynetx, regnetx, vionet) or thousands of parameters (mlp), or "
                   "none; default: the study's ("
                   + ", ".join(f"{k} {v.band.describe()}" for k, v in STUDIES.items()
                               if v.band) + ")")
    for study in STUDIES.values():
        study.add_arguments(p)
    p.add_argument("--workers", type=positive_int, default=min(2, os.cpu_count() or 1),
                   help="worker processes, one network each (default: min(2, CPUs)); with "
                   "--engine ray and no --address, the CPUs of the Ray instance started here")
    p.add_argument("--engine", choices=list(ENGINES), default="local",
                   help="local: a process pool here (default); ray: each network a Ray task "
                   "(pip install 'regnetlab[ray]')")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="--engine ray: join this Ray cluster (e.g. auto, ray://HOST:10001) "
                   "instead of starting one here; its workers need regnetlab and the data")
    p.add_argument("--threads", type=positive_int, default=1, help="torch threads per worker")
    p.add_argument("--out", default=None, metavar="PATH",
                   help="results file (default results/STUDY.jsonl); rerun to resume")
    p.add_argument("--source", default="solutions",
                   help="folder with the exercise modules: solutions (default) or exercises")
    p.add_argument("--device", default=None, help="cpu, cuda (default: CUDA if present)")
    p.add_argument("--data", default=None, help="Fashion-MNIST folder (default $REGNETLAB_DATA)")
    p.add_argument("--results", default="results", help="report: folder of results files")
    p.add_argument("--summary", default="results/summary", help="report: markdown tables here")
    p.add_argument("--figures", default="docs/figures/explore", help="report: figures here")


def settings_of(args, study):
    """What fixes a network's budget: resuming with other settings is refused.

    (The sizes are whole numbers >= 1 already: their argparse type is ``positive_int``.)
    """
    if not args.lr > 0:
        raise ValueError(f"--lr {args.lr}: expected a positive learning rate")
    if args.band and study.band is None:
        raise ValueError(f"--band: the {study.name} study samples no networks, so it has "
                         "no complexity band; leave --band out")
    s = {"epochs": args.epochs, "train_images": args.train_images,
         "test_images": args.test_images, "batch_size": args.batch_size, "lr": args.lr,
         "recipe": "regnetlab", "seed": args.seed}
    return {**s, **study.settings(args)}


def make_engine(args, initargs, settings):
    from ..engines import make_engine
    from .sweep import init_worker

    return make_engine(args.engine, args.workers, args.address, init_worker,
                       (settings, *initargs))


def run(args):
    from . import report
    from .sweep import check_data, run_sweep

    if args.study == "report":
        for line in report.make_all(args.results, args.summary, args.figures):
            print(line)
        return 0
    study = STUDIES[args.study]
    n = study.default_n if args.n is None else args.n
    seeds = study.default_seeds if args.seeds is None else args.seeds
    settings = settings_of(args, study)
    todo = study.trials(n, seeds, settings, args.source, args)
    out = args.out or os.path.join("results", f"{args.study}.jsonl")
    # absolute, so that a worker started elsewhere (a Ray worker) finds the same folders
    initargs = (str(Path(args.source).resolve()), args.data and str(Path(args.data).resolve()),
                args.device, args.threads)
    engine = make_engine(args, initargs, settings)
    try:
        records, seconds = run_sweep(out, args.study, settings, todo, engine,
                                     initargs=initargs, check=check_data)
    except KeyboardInterrupt:
        print(f"{args.study}: stopped; every finished network is in {out}. Run the same "
              "command again to resume.")
        raise
    print(f"{args.study}: {len(records)} networks in {out} (this run: {seconds:.0f} s wall)")
    for line in report.study_lines(study, settings, records):
        print(line)
    return 0
