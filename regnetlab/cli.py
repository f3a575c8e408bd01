"""The ``regnetlab`` command: ``train``, ``info``, ``grade``, ``explore``, ``grade-many``
and ``release``.

Each subcommand lives in its own module, which provides ``add_arguments(parser)`` and
``run(args) -> exit code``; this file only dispatches, so ``regnetlab --help`` stays fast.
Errors we anticipate (bad data folder, unknown model, bad sizes) print one line and
exit with status 2; they never show a traceback.
"""
import argparse
import importlib
import sys

from .arguments import UsageError

SUBCOMMANDS = {
    "train": ("regnetlab.train_cli", "train a model on Fashion-MNIST"),
    "info": ("regnetlab.info_cli", "list models with their parameters and FLOPs"),
    "grade": ("regnetlab.grading.scoring.cli", "grade the exercises (autograder)"),
    "explore": ("regnetlab.explore.cli", "sample and train networks from a design space"),
    "grade-many": ("regnetlab.grading.batch.cli", "grade a whole class: a gradebook, resumable"),
    "release": ("regnetlab.release", "build the students' template or the Gradescope zip"),
}


def expected_errors():
    from .blocks import BlockConfigError
    from .data import DataError
    from .models import UnknownModelError
    from .summary import InputSizeError
    return (UsageError, DataError, UnknownModelError, InputSizeError, BlockConfigError,
            ValueError, FileNotFoundError, PermissionError)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="regnetlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = (argv if argv is not None else sys.argv[1:])[:1]
    for name, (module, helptext) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=helptext, description=helptext)
        if name in wanted:  # import only the module that will run
            importlib.import_module(module).add_arguments(p)
    args = parser.parse_args(argv)
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    try:
        return module.run(args)
    except expected_errors() as e:
        print(f"regnetlab {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"regnetlab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
