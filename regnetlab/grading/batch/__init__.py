"""``regnetlab grade-many SUBMISSIONS --out DIR``: grade a whole class, resumably.

Every submission (see ``intake/archives.py`` for the layouts) is unpacked into a
private temporary folder, its exercise files copied and hashed, and graded by running
``regnetlab grade`` on the copy in a process of its own (its own session, killed with
everything it started when it overruns), so each grading gets the grader's full
isolation and no submission's grading shares a process with another's. This process
never imports a submission; it only reads the JSON report the grader writes.

Out folder::

    DIR/students/<student>.json   one record per student: scores, isolation, seconds,
                                  error, content hash, and the grader's full report
    DIR/gradebook.csv             student, one column per exercise (ex1, ex2, ...),
                                  total, isolation, seconds, error

Both are written atomically, the gradebook again after every submission, from what this
process holds in memory (a record file changed by anyone else during the run is
rewritten at the end). Run it again after an interruption and it grades only what has no
record, or whose files (content hash) or grading options (config hash) changed.
Exit status: 0 when every submission was graded or refused for a reason of its own
(shown in the gradebook's ``error``), 1 when the grader itself failed on some (they are
graded again on the next run), 2 for bad arguments, 130 when interrupted.

Laid out as the steps of one run: ``cli.py`` checks the options and plans the tasks,
``runner.py`` grades one submission in a process of its own (on the shared engines of
:mod:`regnetlab.engines`), ``store.py`` keeps the records and the gradebook, and
``progress.py`` prints the progress line; ``config.py`` derives the config hash
from the modules a grading imports.
"""
from .cli import add_arguments, run

__all__ = ["add_arguments", "run"]
