"""One exercise's measured facts, as the tests see them (``ex1``, ... fixtures).

``facts.get("DeepRegNetX.structure")`` returns what the trusted measurer found on the
network's graph, or fails the calling test with a message saying why it could not be
measured: the student's error (with file and line), a graph the grader refuses, the
worker's timeout, or its early exit. A test that asks for a training result when the
grader itself chose not to train (``--no-train``) is skipped.
"""
import pytest

from ..protocol import MEASURER, ProbeResult


class GradeFailure(AssertionError):
    """A rubric line not earned; the message is shown to the student as it is."""


def fail(message):
    raise GradeFailure(message)


def expect(condition, message):
    if not condition:
        fail(message)


class ExerciseFacts:
    def __init__(self, run, probes, training=None):
        self.run = run              # the sandboxed worker's run (how it ended, its output)
        # probe -> ProbeResult, measured by us (a result's JSON is read as one)
        self.probes = {name: ProbeResult.coerce(a) for name, a in probes.items()}
        self.no_training = training  # the grader's reason for not training, or None

    def trained(self, probe):
        """A training probe's result; skipped only when the *grader* chose not to train."""
        if self.no_training:
            pytest.skip(self.no_training)
        value = self.get(probe)
        expect(isinstance(value, dict) and isinstance(value.get("test_acc"), float),
               f"{probe}: no accuracy was measured ({str(value)[:200]})")
        return value

    def check_sandbox(self):
        """Fail if the worker broke out of its limits in a way that voids the exercise."""
        expect(not self.run.survivors,
               f"the {self.exercise} code left {self.run.survivors} process(es) running "
               "after its worker ended; graded code must not start background processes, "
               "so no point of it counts")
        expect(not self.run.rejected,
               f"the {self.exercise} worker sent back files the grader refuses ("
               + "; ".join(self.run.rejected[:3]) + "); graded code must not write to the "
               "grader's output folder")

    @property
    def exercise(self):
        return self.run.exercise

    def get(self, probe):
        """The value of ``probe``; fails the test when there is none."""
        self.check_sandbox()
        answer = self.probes.get(probe)
        if answer is None or answer.missing:
            measurer = self.probes.get(MEASURER)
            why = (measurer.error if measurer else "") or (
                f"the {self.exercise} worker {self.run.ending() or 'did not report it'}")
            fail(f"{probe}: not measured: {why}" + self._output_hint())
        if not answer.ok:
            fail(f"{probe}: {answer.error or 'failed'}")
        value = answer.value
        if isinstance(value, dict) and "error" in value:
            fail(f"{probe}: {value['error']}")
        return value

    def _output_hint(self):
        last = self.run.output.strip().splitlines()[-3:]
        return ("; its last output lines: " + " | ".join(line[:200] for line in last)) \
            if last else ""
