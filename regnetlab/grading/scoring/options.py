"""The grading options, declared once for both ``regnetlab grade`` and ``pytest autograder``.

Each entry is (pytest flag, ``regnetlab grade`` flag, argparse keywords). The pytest
plugin adds the first flags; the CLI adds the second and passes their values on to
pytest under the first.
"""
from ...arguments import positive_int
from ..exercises import EXERCISES

SHARED = [
    ("--no-train", "--no-train", dict(
        action="store_true",
        help="skip the short training runs (fast; their points are not graded)")),
    ("--tier", "--tier", dict(
        default="auto", choices=["auto", "cpu", "gpu"],
        help="training tier, its recipe and thresholds (default: gpu when the run has "
             "CUDA, else cpu)")),
    ("--device", "--device", dict(
        default="auto", choices=["auto", "cpu", "cuda"],
        help="where the training runs (default: cuda for the gpu tier when available, "
             "else cpu); the tier's recipe and thresholds are the same on either")),
    ("--reduced-data", "--reduced-data", dict(
        default=None, metavar="TRAIN,TEST",
        help="test the tier's path on the first TRAIN training and TEST test images "
             "instead of its own (e.g. the gpu tier on a CPU); the report says so, and "
             "its scores are not grades")),
    ("--exercise-timeout", "--timeout", dict(
        type=float, default=None, metavar="S",
        help="seconds one exercise's worker may run, > 0 (default 480 on cpu, 300 on gpu)")),
    ("--memory-gb", "--memory-gb", dict(
        type=float, default=6.0, metavar="GB",
        help="memory cap of the process that runs the submission (CPU only; default 6, "
             "at least 4)")),
    ("--jobs", "--jobs", dict(
        type=positive_int, default=None, metavar="N",
        help="exercises graded side by side (default: CPU cores, at most 4)")),
    ("--only", "--only", dict(
        default=None, metavar="ex1,ex3",
        help=f"grade these exercises only, among {', '.join(EXERCISES)}")),
    ("--grade-json", "--json", dict(default=None, metavar="PATH",
                                    help="write the full results as JSON")),
    ("--gradescope", "--gradescope", dict(default=None, metavar="PATH",
                                          help="write Gradescope results.json")),
    ("--grade-junit", "--junit", dict(default=None, metavar="PATH",
                                      help="write JUnit XML, one testcase per rubric line")),
    ("--classroom", "--classroom", dict(
        default=None, metavar="PATH",
        help="write the GitHub Classroom reporter JSON (base64-encode it for the action)")),
    ("--data", "--data", dict(
        default=None, metavar="DIR",
        help="folder holding FashionMNIST/raw/ (default: $REGNETLAB_DATA, else a cache)")),
]


def dest(flag):
    return flag.lstrip("-").replace("-", "_")
