"""One exercise, end to end: the worker's files in, a ``ProbeResult`` per probe out.

The worker's report (``answers.json``) is parsed and checked by ``protocol.WorkerReport``;
its JSON answers (``IMPORT`` and the exercise's ``ANSWERS``) pass through as the
student's own report, for the lines that are not about a network. Every network fact is
measured here, on the network rebuilt from its graph files (``graph.py``).
"""
import json

from ..exercises import load
from ..protocol import (ANSWERS_FILE, ERROR_CHARS, GRAPHS_SUFFIX, IMPORT, MEASURER,
                        TENSORS_SUFFIX, Capture, Measurement, ProbeResult, ProtocolError,
                        WorkerReport)
from . import network
from .graph import GraphError, check_sizes, load_network
from .training import as_tier, short_train

MISSING = ProbeResult(False, missing=True)  # the worker stopped first: the tests say how


def measure_exercise(files, exercise_id, options, dataset=None, later=None):
    """``{probe: ProbeResult}`` for one exercise, from the worker's files.

    ``files`` is what the sandbox read back (name -> bytes); ``dataset()`` returns the
    tier's training data (loaded once by the caller). With a dict ``later``, the training
    runs are not run but put there, ``{probe: function() -> ProbeResult}``, for the caller
    to run side by side.
    """
    exercise = load(exercise_id)
    try:
        report = WorkerReport.loads(files.get(ANSWERS_FILE)) or WorkerReport()
    except ProtocolError as e:  # not this grader's worker: nothing it sent is read
        return {MEASURER: ProbeResult.failed(str(e))}
    probes = {name: answer for name, answer in report.probes.items()
              if name in (IMPORT, *exercise.ANSWERS)}
    imported = probes.get(IMPORT)
    if imported and not imported.ok:  # every later probe fails for this one reason
        return probes | not_imported(exercise, imported.error)
    tier = as_tier(options.get("tier", "cpu"))  # the session's Tier (perhaps reduced)
    for spec in exercise.NETWORKS:
        try:
            net = rebuilt(spec, report.networks.get(spec.name), files, tier)
        except (GraphError, RuntimeError, ValueError, TypeError, KeyError) as e:
            probes.update({spec.probe(m): ProbeResult.failed(str(e)[:ERROR_CHARS])
                           for m in spec.measurements})
            continue
        if net is None:
            probes.update({spec.probe(m): MISSING for m in spec.measurements})
            continue
        jobs = _jobs(net, spec, tier, options, dataset)
        for m in spec.measurements:
            run = _answer(jobs[m], spec.label)
            if m is Measurement.TRAIN and later is not None:
                later[spec.probe(m)] = run
            else:
                probes[spec.probe(m)] = run()
    return probes


def not_imported(exercise, error):
    """Every probe of ``exercise`` failed, since the student's module did not import."""
    why = f"the submission could not be imported: {error}"
    probes = {spec.probe(m): ProbeResult.failed(f"{spec.label}: {why}")
              for spec in exercise.NETWORKS for m in Measurement}
    return probes | {name: ProbeResult.failed(why) for name in exercise.ANSWERS}


def rebuilt(spec, entry, files, tier):
    """The network rebuilt from its two files, its sizes checked at the tier's batch; None
    where the worker said nothing of it."""
    if entry is None:
        return None
    if entry.error is not None:  # the worker's words, for the student
        raise GraphError(entry.error)
    names = [f"{entry.stem}{suffix}" for suffix in (GRAPHS_SUFFIX, TENSORS_SUFFIX)]
    if entry.stem is None or not all(name in files for name in names):
        raise GraphError(f"{spec.label}: its graph files are missing")
    net = load_network(*(files[name] for name in names))
    check_sizes(net, {c.value: tier.batch_size for c in (Capture.TRAIN28, Capture.EVAL28)})
    return net


def _jobs(net, spec, tier, options, dataset):
    """What can be measured on one network, each as a function (run now, or later)."""
    def train():
        if not options.get("train", True):
            return {"skipped": "training disabled (--no-train)"}
        return short_train(net, tier, dataset(), options.get("seed", 0), options.get("device"))
    return {Measurement.STRUCTURE: lambda: dict(network.describe(net, spec.family), **spec.extra),
            Measurement.OUTPUTS: lambda: network.outputs(net, spec.outputs),
            Measurement.GRADIENTS: lambda: network.gradients(net), Measurement.TRAIN: train}


def _answer(job, label):
    """``job`` as a function returning its ProbeResult, its errors worded for the student."""
    def run():
        try:
            return ProbeResult.of(json.loads(json.dumps(job(), default=str)))
        except Exception as e:  # a network that runs here but breaks one measurement
            return ProbeResult.failed(f"{label}: {type(e).__name__}: {str(e)[:600]}")
    return run
