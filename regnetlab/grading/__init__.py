"""The autograder: trusted pytest tests judge facts measured in an untrusted worker.

The grading process never imports a submission. For each exercise it starts a worker
process (``sandbox.py`` starts it, ``worker.py`` is it) that imports a *copy* of the
student's module under resource limits and reports facts about the networks it builds
(stages, depths, widths, group widths, shortcuts, output shapes, short-training accuracy)
as JSON on a private pipe. The tests in ``autograder/`` (and an instructor's hidden
folder) check those facts (``checks.py`` words the messages in the chapter's terms);
``plugin.py`` runs them under pytest, ``rubric.py`` turns outcomes into points and
``reports.py`` writes the terminal table, Gradescope, GitHub Classroom and JUnit files.
The threat model is written down in ``autograder/README.md``.
"""
EXERCISES = {
    "ex1": "ex1_deeper_regnetx",
    "ex2": "ex2_de_resnextify",
    "ex3": "ex3_vionet",
    "ex4": "ex4_perfect_mlp",
}
