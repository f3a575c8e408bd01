"""Print the options of every ``regnetlab`` subcommand, as JSON, read off their parsers.

    python docs/hooks/cli_facts.py   ->  {"train": [{"flags": [...], "metavar": ..., ...}], ...}

Run by the docs hook in a separate process, because the subcommands' modules import
torch, which the mkdocs process should not carry. The subcommands come from
``regnetlab.cli.SUBCOMMANDS``, so a new one appears here without an edit.
"""
import argparse
import importlib
import json
import sys

from regnetlab.cli import SUBCOMMANDS


def options(module):
    parser = argparse.ArgumentParser()
    importlib.import_module(module).add_arguments(parser)
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        choices = list(action.choices) if action.choices and not action.option_strings else None
        out.append({"flags": action.option_strings or [action.dest],
                    "metavar": None if action.nargs == 0 else
                    (action.metavar or (action.dest.upper() if action.option_strings
                                        else None)),
                    # by identity: `0 in (False,)` is True, which hid `--seed`'s default 0
                    "default": None if any(action.default is x for x in (
                        None, False, argparse.SUPPRESS)) or action.default == []
                    else (action.default if isinstance(action.default, (int, float, str))
                          else str(action.default)),
                    "choices": choices,
                    "help": action.help or ""})
    return out


def explore_studies():
    """Each explorer study's default size (networks per space, seeds per fixed model),
    which ``regnetlab explore --help`` leaves to the docs; None if the explorer does not
    keep them in ``regnetlab.explore.studies.STUDIES`` (then the docs hook says so)."""
    try:
        from regnetlab.explore.studies import STUDIES
        return [{"name": s.name, "n": s.default_n, "seeds": s.default_seeds}
                for s in STUDIES.values()]
    except (ImportError, AttributeError):
        return None


if __name__ == "__main__":
    facts = {name: options(module) for name, (module, _) in SUBCOMMANDS.items()}
    json.dump({"commands": facts, "explore_studies": explore_studies()}, sys.stdout, indent=1)
