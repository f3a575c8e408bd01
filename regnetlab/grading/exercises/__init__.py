"""The graded exercises, one module each, found by name: a fifth is one more file here.

Each module declares everything about its exercise:

- ``ID`` (``"ex1"``), ``MODULE`` (the student's file, ``ex1_deeper_regnetx``) and
  ``RUBRIC`` (its test file in ``autograder/``, one test per rubric line);
- ``NETWORKS``: the graded networks, each a :class:`Network` saying how the worker builds
  it from the student's module and what the trusted side measures on its graphs;
- ``ANSWERS``: the graded non-network answers (JSON the worker reports, e.g. which
  exception a bad argument raised), ``{probe name: function(module) -> JSON}``;
- ``CALIBRATION``: ``{threshold key: space name}``, the valid answers the calibration trains to
  set that key's "learns" threshold: ``space(rng)`` returns a builder of one library
  network (spaces in ``benchmarks/designs.py``, outside the package, since they hold
  working answers; ``autograder/CALIBRATION.md``).

The ``build`` and ``ANSWERS`` functions run in the untrusted worker, on the student's
module; everything else is data that the trusted side reads.
"""
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

# (batch, size, train mode): two batch sizes at 28x28, the book's 96x96, and train mode
CONV_OUTPUT_CASES = ((1, 28, False), (3, 28, False), (2, 96, False), (4, 28, True))
STRUCTURE = ("eval28",)  # the capture every network needs: its structure is read there


@dataclass(frozen=True)
class Network:
    """One graded network. Probes are named ``{name}.structure``, ``.outputs``, ``.train``
    and ``.gradients``; ``structure`` alone can be renamed (``structure_probe``)."""
    name: str                       # "DeepRegNetX", "vionet_family.d"
    label: str                      # how the student reads it: "DeepRegNetX()"
    build: Callable                 # module -> nn.Module (runs in the worker)
    design: str = "anynet"          # "anynet" (stem, stages, head of convs) or "mlp"
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
        return tuple(dict.fromkeys(STRUCTURE + tuple(f"train{s}" for s in sorted(trains))
                                   + tuple(f"eval{s}" for s in sorted(evals))))

    def probe(self, what):
        if what == "structure" and self.structure_probe:
            return self.structure_probe
        return f"{self.name}.{what}"


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
