"""Capture a network as plain data: a graph of ATen operations (JSON) and its tensors.

``torch.export`` traces the student's ``forward`` once per ``protocol.Capture`` (a mode
and an input size) into a graph whose nodes are ATen operations, each with the path of
the module that ran it (``net.stage1.0.conv1``). We write that graph as JSON and the
tensors as safetensors: formats the trusted side parses without running any code (no
pickle anywhere). This file only *writes* the format; ``../measure/graph.py`` defines
what it accepts.
"""
import json
import math

import torch
from torch.export import Dim, export

from ..protocol import Capture

EXAMPLE_BATCH = 4


class CaptureError(Exception):
    """A network that torch.export could not turn into a graph, and why."""


def capture(model, captures, in_channels=1):
    """``{"graphs": {name: graph}, "tensors": {key: tensor}}`` for ``captures`` (each a
    ``Capture`` or its name)."""
    graphs, tensors = {}, {}
    was_training = model.training
    for c in map(Capture, captures):
        model.train(c.train)
        x = torch.randn(EXAMPLE_BATCH, in_channels, c.size, c.size)
        try:
            program = export(model, (x,), dynamic_shapes=({0: Dim.AUTO},))
        except Exception as e:  # torch's own words are the best hint here
            raise CaptureError(_why(e, c)) from None
        graphs[c.value] = encode(program)
        for key, value in list(program.state_dict.items()) + list(program.constants.items()):
            if torch.is_tensor(value):
                tensors[key] = value.detach().to("cpu").contiguous().clone()
    model.train(was_training)
    return {"graphs": graphs, "tensors": tensors}


def _why(exc, c):
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    head = " ".join(line.strip() for line in text[:6])[:900]
    return (f"torch.export could not capture the network ({'train' if c.train else 'eval'} "
            f"mode, {c.size}x{c.size} images): {head}. The grader measures a graph of tensor "
            "operations: avoid Python control flow that depends on tensor values "
            "(if/while on a tensor, .item(), .tolist()) and operations outside torch")


def encode(program):
    """The exported graph as JSON-able data (see ``measure/graph.py`` for the schema)."""
    sig = program.graph_signature
    state = {s.arg.name: s.target for s in sig.input_specs
             if s.kind.name in ("PARAMETER", "BUFFER", "CONSTANT_TENSOR")}
    inputs = [s.arg.name for s in sig.input_specs if s.kind.name == "USER_INPUT"]
    outputs = [s.kind.name for s in sig.output_specs]
    if outputs != ["USER_OUTPUT"]:
        raise CaptureError(f"the network's forward returns {outputs}; expected one tensor "
                           "of logits (and no in-place updates of its inputs)")
    nodes, result = [], None
    for node in program.graph.nodes:
        if node.op == "call_function":
            nodes.append({"name": node.name, "target": _target(node.target),
                          "args": _value(node.args), "kwargs": _value(dict(node.kwargs)),
                          "module": [[path, _type(t)] for path, t in
                                     (node.meta.get("nn_module_stack") or {}).values()]})
        elif node.op == "output":
            result = _value(node.args[0])
    return {"inputs": inputs, "state": state, "nodes": nodes, "output": result}


def _target(target):
    if isinstance(target, torch._ops.OpOverload):
        return f"aten.{target._opname}.{target._overloadname}" \
            if target.namespace == "aten" else f"{target.namespace}.{target._opname}"
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__name__', target)}"


def _type(t):
    return t if isinstance(t, str) else f"{t.__module__}.{t.__qualname__}"


def _value(v):
    if isinstance(v, torch.fx.Node):
        return {"node": v.name}
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else {"float": repr(v)}
    if isinstance(v, (list, tuple)):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _value(x) for k, x in v.items()}
    for cls in (torch.dtype, torch.device, torch.memory_format, torch.layout):
        if isinstance(v, cls):  # tagged by its class: {"dtype": "float32"}
            return {cls.__name__: str(v).removeprefix("torch.")}
    raise CaptureError(f"the graph holds a {type(v).__name__} ({str(v)[:80]}), which the "
                       "grader's graph format cannot carry")


def dumps(data):
    return json.dumps(data, allow_nan=False, separators=(",", ":"))
