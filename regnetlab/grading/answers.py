"""One exercise's worker answers, as the tests see them (``ex1``, ... fixtures).

``facts.get("DeepRegNetX.structure")`` returns what the worker measured, or fails the
calling test with a message saying why it could not be measured: the student's error
(with file and line), the worker's timeout, or its early exit. A test that asks for a
training result when the grader itself chose not to train (``--no-train``) is skipped.
"""
import pytest


class GradeFailure(AssertionError):
    """A rubric line not earned; the message is shown to the student as it is."""


def fail(message):
    raise GradeFailure(message)


def expect(condition, message):
    if not condition:
        fail(message)


class ExerciseFacts:
    def __init__(self, run, training=None):
        self.run = run
        self.no_training = training  # the grader's reason for not training, or None

    def trained(self, probe):
        """A training probe's result; skipped only when the *grader* chose not to train."""
        if self.no_training:
            pytest.skip(self.no_training)
        value = self.get(probe)
        expect(isinstance(value, dict) and isinstance(value.get("test_acc"), float),
               f"{probe}: the worker reported no accuracy ({str(value)[:200]})")
        return value

    def check_sandbox(self):
        """Fail if the worker changed files outside its private folder."""
        changed = self.run.modified
        expect(not changed, f"the {self.exercise} code changed files outside its sandbox: "
               + ", ".join(changed[:5]) + ("..." if len(changed) > 5 else "")
               + "; graded code must not write files, so no point of it counts")
        expect(not self.run.rejected,
               f"the {self.exercise} worker's answers held {len(self.run.rejected)} malformed "
               "line(s); graded code must not write to the grader's channel")

    @property
    def exercise(self):
        return self.run.exercise

    def get(self, probe):
        """The value of ``probe``; fails the test when there is none."""
        self.check_sandbox()
        answer = self.run.answers.get(probe)
        if answer is None:
            ending = self.run.ending() or "did not report it"
            fail(f"{probe}: not measured: the {self.exercise} worker {ending}"
                 + self._output_hint())
        if not answer["ok"]:
            fail(f"{probe}: {answer.get('error', 'failed')}")
        value = answer.get("value")
        if isinstance(value, dict) and "error" in value:
            fail(f"{probe}: {value['error']}")
        return value

    def _output_hint(self):
        last = self.run.output.strip().splitlines()[-3:]
        return ("; its last output lines: " + " | ".join(line[:200] for line in last)) \
            if last else ""
