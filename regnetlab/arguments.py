"""What every command shares, below all of them: the one-line usage error and the argparse
types. Commands (and the grader, which must not import the top-level CLI) import it from here."""
import argparse


def positive_int(text):
    """An argparse type: a whole number >= 1, with a message that says so."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 or str(value) != str(text).strip():
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


class UsageError(Exception):
    """A problem with what the user asked for; printed as one line, exit status 2."""
