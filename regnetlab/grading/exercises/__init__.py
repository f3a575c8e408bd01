"""The graded exercises: data, plus the builders that run in the worker. One module each,
found by name: a fifth exercise is one more file here, and no list names it.

This package is imported on both sides of the sandbox. What *runs in the worker*, in
the student's process and on the student's module, is each ``Network.build`` and each
``ANSWERS`` function; the named ones are marked ``@worker_side``. Everything else is
data that the trusted side reads: it never calls a builder. Each module declares:

- ``ID`` (``"ex1"``), ``MODULE`` (the student's file, ``ex1_deeper_regnetx``) and
  ``RUBRIC`` (its test file in ``autograder/``, one test per rubric line);
- ``NETWORKS``: the graded networks, each a :class:`Network` saying how the worker builds
  it and what the trusted side measures on its graphs;
- ``ANSWERS``: the graded non-network answers (JSON the worker reports, e.g. which
  exception a bad argument raised), ``{probe name: function(module) -> JSON}``;
- ``CALIBRATION``: ``{threshold key: space name}``, the valid answers the calibration trains to
  set that key's "learns" threshold: ``space(rng)`` returns a builder of one library
  network (spaces in ``benchmarks/designs.py``, outside the package, since they hold
  working answers; ``autograder/CALIBRATION.md``).
"""
import importlib
import pkgutil
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable

from ..protocol import STRUCTURE_CAPTURE, Capture, Measurement

# (batch, size, train mode): two batch sizes at 28x28, the book's 96x96, and train mode
CONV_OUTPUT_CASES = ((1, 28, False), (3, 28, False), (2, 96, False), (4, 28, True))


def worker_side(fn):
    """Mark ``fn`` as run by the worker, in the sandbox, on the student's module (for
    the reader: it changes nothing, and the trusted side never calls it)."""
    fn.worker_side = True
    return fn


class Family(StrEnum):
    """How the trusted side reads a network's structure: one describer per family
    (``measure/conv.py``, ``measure/mlp.py``)."""
    CONV = "conv"   # AnyNet's layout (stem, stages, head) of convolutional blocks
    MLP = "mlp"     # the same layout of linear blocks (ex4's AnyMLP)


@dataclass(frozen=True)
class Network:
    """One graded network. Its probes are ``{name}.{measurement}`` (``protocol.Measurement``);
    the structure probe alone can be named otherwise (``structure_probe``)."""
    name: str                       # "DeepRegNetX", "vionet_family.d"
    label: str                      # how the student reads it: "DeepRegNetX()"
    build: Callable                 # worker side: the student's module -> nn.Module
    family: Family = Family.CONV
    outputs: tuple = ()             # (batch, size, train mode) cases to check the logits of
    train: str | None = None        # calibration key of the "learns" threshold, if trained
    structure_probe: str | None = None
    extra: dict = field(default_factory=dict)  # merged into the structure facts

    @property
    def captures(self):
        """The graphs to capture: eval at 28x28, train mode where the network is trained or
        its train-mode logits are checked, eval at each other size the checks use."""
        evals = {size for _, size, train in self.outputs if not train}
        trains = {size for _, size, train in self.outputs if train} | ({28} if self.train else set())
        return tuple(dict.fromkeys([STRUCTURE_CAPTURE]
                                   + [Capture.of(True, s) for s in sorted(trains)]
                                   + [Capture.of(False, s) for s in sorted(evals)]))

    @property
    def measurements(self):
        """What the trusted side measures on it: always its structure; its logits where it
        has output cases; its gradients and a training run where it is trained."""
        return [Measurement.STRUCTURE] + ([Measurement.OUTPUTS] if self.outputs else []) \
            + ([Measurement.GRADIENTS, Measurement.TRAIN] if self.train else [])

    def probe(self, measurement):
        measurement = Measurement(measurement)
        if measurement is Measurement.STRUCTURE and self.structure_probe:
            return self.structure_probe
        return f"{self.name}.{measurement}"


def load(exercise_id):
    """The module of exercise ``exercise_id`` (``ex1``)."""
    if exercise_id not in EXERCISES:
        raise ValueError(f"exercise {exercise_id!r}: expected one of {', '.join(EXERCISES)}")
    return importlib.import_module(f"{__name__}.{EXERCISES[exercise_id]}")


def _discover():
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("ex") and "_" in info.name:
            found[info.name.split("_")[0]] = info.name
    return dict(sorted(found.items()))


EXERCISES = _discover()  # {"ex1": "ex1_deeper_regnetx", ...}
