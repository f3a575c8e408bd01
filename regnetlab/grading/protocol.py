"""What crosses the sandbox boundary, and nothing else: imported by both sides.

The worker (``worker/``, in the sandbox with the student's code) leaves files in its
output folder; the trusted side (``measure/``, ``scoring/``) gets them back as bytes,
under the sandbox's caps. This module names those files and the graphs captured in them,
the measurements made of each network, and the worker's report (``answers.json``) with
the schema version the worker writes and the trusted side checks. Whatever the worker
wrote is hostile input: the trusted side parses it here, checking every type, into these
dataclasses, and believes nothing else. Pure Python: the worker imports it before any
student code runs, and it imports nothing of the grader.
"""
import json
import math
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

SCHEMA_VERSION = 1              # of answers.json; bump it when its shape changes
ANSWERS_FILE = "answers.json"   # the worker's report (WorkerReport)
GRAPHS_SUFFIX, TENSORS_SUFFIX = ".json", ".safetensors"  # one network: net-{i} + each
NETWORK_STEM = re.compile(r"net-\d{1,4}")
MAX_JSON_BYTES = 8 * 2 ** 20    # any JSON file the worker sends
ERROR_CHARS = 1500              # of an error the worker reports

# probe names the exercises may not use: the worker's own and the trusted side's
IMPORT = "import"       # the worker's: whether the student's module imported, its names
MEASURER = "measurer"   # the trusted side's: why nothing of an exercise was measured


class ProtocolError(ValueError):
    """The worker's files do not follow this protocol; the message says how."""


def network_stem(index):
    """``net-{index}``: the files of the exercise's ``index``-th network."""
    return f"net-{index}"


def capture_name(train, size):
    """``train28``, ``eval96``: the name of a graph of that mode and image size."""
    return f"{'train' if train else 'eval'}{size}"


class Capture(StrEnum):
    """A graph the worker captures, named as in its files: a mode and an image size."""
    TRAIN28 = "train28"
    EVAL28 = "eval28"
    EVAL96 = "eval96"

    @property
    def train(self):
        return self.value.startswith("train")

    @property
    def size(self):
        return int(self.value.removeprefix("train").removeprefix("eval"))

    @classmethod
    def of(cls, train, size):
        """The capture of that mode and size; ValueError where none is declared above."""
        return cls(capture_name(train, size))


STRUCTURE_CAPTURE = Capture.EVAL28  # every network's: its structure and cost are read there


class Measurement(StrEnum):
    """What the trusted side measures on a network: its probe is ``{network}.{value}``."""
    STRUCTURE = "structure"
    OUTPUTS = "outputs"
    GRADIENTS = "gradients"
    TRAIN = "train"


@dataclass(frozen=True)
class ProbeResult:
    """What one probe produced: a JSON value, or an error worded for the student; or
    ``missing``, nothing at all, because the worker stopped first (the trusted side's
    word, never the worker's)."""
    ok: bool
    value: object = None
    error: str = ""
    missing: bool = False

    @classmethod
    def of(cls, value):
        return cls(True, value)

    @classmethod
    def failed(cls, error):
        return cls(False, error=error)

    def with_error(self, error):
        return replace(self, error=error)

    def to_json(self):
        return {"ok": True, "value": self.value} if self.ok else {"ok": False, "error": self.error}

    @classmethod
    def from_json(cls, data):
        """From JSON (the worker's, so hostile): only ``"ok": true`` is a success, the
        error is text of bounded length, and ``missing`` is never read."""
        if not isinstance(data, dict):
            raise ProtocolError(f"a probe result that is not an object: {str(data)[:80]}")
        return cls(data.get("ok") is True, data.get("value"),
                   str(data.get("error", ""))[:ERROR_CHARS])

    @classmethod
    def coerce(cls, answer):
        """A ProbeResult as it is, or from its JSON."""
        return answer if isinstance(answer, cls) else cls.from_json(answer)


@dataclass(frozen=True)
class NetworkEntry:
    """What the worker says of one network: the stem of its two files, or why it has none."""
    stem: str | None = None
    error: str | None = None    # worded for the student
    seconds: float | None = None  # how long its capture took: for people, not read back

    def to_json(self):
        if self.error is not None:
            return {"error": self.error}
        return {"file": self.stem, "seconds": self.seconds}

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict):
            raise ProtocolError(f"a network entry that is not an object: {str(data)[:80]}")
        if "error" in data:
            return cls(error=str(data["error"])[:ERROR_CHARS])
        stem = data.get("file")  # only a name of ours: no path into another file
        return cls(stem=stem if isinstance(stem, str) and NETWORK_STEM.fullmatch(stem) else None)


@dataclass
class WorkerReport:
    """``answers.json``: the worker's probes (``IMPORT`` and the exercise's ``ANSWERS``),
    its word on each network's files, and notes for people (its versions, the limits it
    could not set, how long each phase of the student's code took), never read for a
    score. The worker fills one in as it goes and writes it last."""
    probes: dict = field(default_factory=dict)      # name -> ProbeResult
    networks: dict = field(default_factory=dict)    # network name -> NetworkEntry
    worker: dict = field(default_factory=dict)
    phases: list = field(default_factory=list)

    def dumps(self):
        """The report as JSON text: non-finite floats as strings, anything else not JSON as
        its repr (an answer is whatever the student's code returned)."""
        data = {"schema": SCHEMA_VERSION, "worker": self.worker,
                "probes": {k: v.to_json() for k, v in self.probes.items()},
                "networks": {k: v.to_json() for k, v in self.networks.items()},
                "phases": self.phases}
        return json.dumps(_finite(data), default=repr, allow_nan=False)

    @classmethod
    def loads(cls, data):
        """The report from the worker's bytes, every part checked; None when there is no
        report to read (none written, or the worker was stopped while writing it: the
        tests then say how it ended). ProtocolError when it is of another schema."""
        if data is None or len(data) > MAX_JSON_BYTES:
            return None
        try:
            raw = json.loads(data.decode("utf-8"), parse_constant=_refuse)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        if not isinstance(raw, dict):
            return None
        schema = raw.get("schema")
        if type(schema) is not int or schema != SCHEMA_VERSION:
            raise ProtocolError(
                f"the worker's {ANSWERS_FILE} is of schema {str(schema)[:20]}, and this "
                f"grader reads schema {SCHEMA_VERSION}: the worker is not this grader's own")
        probes, networks = _object(raw.get("probes")), _object(raw.get("networks"))
        return cls(
            probes={str(k): ProbeResult.from_json(v) for k, v in probes.items()
                    if isinstance(v, dict)},
            networks={str(k): NetworkEntry.from_json(v) for k, v in networks.items()
                      if isinstance(v, dict)})


def _object(value):
    return value if isinstance(value, dict) else {}


def _refuse(constant):  # NaN and Infinity are not JSON
    raise ValueError(constant)


def _finite(value):
    """Non-finite floats (not valid JSON) as strings saying what they were."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
