"""Tries to forge the grader's results file, then to delete a file of the submission.

It finds both paths on the grading process's command line, as a determined student
could. Writing fails (the worker may not write files); deleting works, and is noticed.
"""
import json
import os
from pathlib import Path

args = Path(f"/proc/{os.getppid()}/cmdline").read_bytes().decode().split("\0")
submission = Path(args[args.index("grade") + 1])  # `regnetlab grade FOLDER ...`
(submission / "notes.py").unlink()
results = args[args.index("--json") + 1]  # `regnetlab grade ... --json PATH`
with open(results, "w") as f:
    json.dump({"score": 100, "max_score": 100}, f)
