"""The shared walk over a captured network's graph, for every family's describer.

The stem, stages and blocks come from the module paths the graph records
(``net.stage1.0``), but every number comes from the operations themselves: a
:class:`Walk` runs the structure graph once and keeps every node's value, and
:func:`block_at` finds a block's input and output, its residual add and which branch of
it is the shortcut. A shortcut is *live* when the block's output still varies with its
input once the residual branch is replaced by zeros. What a block's layers are
(convolutions or linears) and what is read off them is the describer's
(``conv.py``, ``mlp.py``).
"""
from dataclasses import dataclass
from typing import Callable

import torch
from torch import fx

from ..exercises import Family
from ..protocol import STRUCTURE_CAPTURE, capture_name
from .graph import RELUS, RESIDUAL_ADDS


@dataclass(frozen=True)
class Describer:
    """What one network family's structure is read as (``conv.py``, ``mlp.py``)."""
    family: Family
    width_key: str          # a stage's width: "out_channels" or "out_features"
    layers: frozenset       # the operations a block's branch is made of
    stem: Callable          # the stem's output shape -> its facts
    width: Callable         # a stage's output shape -> its width
    block: Callable         # (facts, walk, Block): add the family's facts of one block
    layout_problems: Callable = lambda stem_nodes, walk: []  # beyond the shared layout


class Recorder(fx.Interpreter):
    """Runs a graph and keeps every node's value; ``silence`` nodes output zeros."""

    def __init__(self, gm, silence=()):
        super().__init__(gm)
        self.values, self.silence = {}, set(silence)

    def run_node(self, n):
        out = super().run_node(n)
        if n in self.silence and torch.is_tensor(out):
            out = torch.zeros_like(out)
        self.values[n] = out
        return out


class Walk:
    """One eval pass over a network's graph at ``x``'s size (its ``STRUCTURE_CAPTURE``)."""

    def __init__(self, net, x):
        self.net, self.x = net, x
        self.gm = net.modes[capture_name(False, x.shape[-1])]
        self.nodes = [n for n in self.gm.graph.nodes if n.op == "call_function"]
        rec = Recorder(self.gm)
        with torch.no_grad():
            rec.run(x)
        self.values = rec.values

    def silenced(self, node):
        """All node values with ``node``'s output replaced by zeros."""
        rec = Recorder(self.gm, silence=[node])
        with torch.no_grad():
            rec.run(self.x)
        return rec.values


def structure_walk(net):
    """The walk every structure is read from: two random images, seed 0."""
    torch.manual_seed(0)
    size = STRUCTURE_CAPTURE.size
    return Walk(net, torch.randn(2, 1, size, size))


def target(n):
    return n.meta.get("target", "")


def path(node):
    stack = node.meta.get("module") or []
    return stack[-1][0] if stack else ""


def _child(module_path, depth):
    """``net.stage1.0.conv1`` -> ``stage1`` (depth 1) or ``stage1.0`` (depth 2)."""
    parts = module_path.split(".")
    if len(parts) <= depth or parts[0] != "net":
        return None
    return ".".join(parts[1:depth + 1])


def groups(nodes, depth, prefix=None):
    """Ordered {child name: [nodes]} of the nodes under ``net.`` at ``depth``."""
    out = {}
    for n in nodes:
        c = _child(path(n), depth)
        if c is not None and (prefix is None or c.startswith(prefix + ".")):
            out.setdefault(c, []).append(n)
    return out


def boundary(group):
    """The nodes ``group`` reads from outside it, and those of it read outside it."""
    members = set(group)
    inputs = []
    for n in group:
        for a in n.all_input_nodes:
            if a not in members and a.op != "get_attr" and a not in inputs:
                inputs.append(a)
    outputs = [n for n in group if any(u not in members for u in n.users)]
    return inputs, outputs


def _ancestors(node, stop, members):
    """Nodes of ``members`` that ``node`` depends on, not looking past ``stop``."""
    seen, todo = set(), [node]
    while todo:
        n = todo.pop()
        if n in seen or n is stop or n not in members:
            continue
        seen.add(n)
        todo.extend(n.all_input_nodes)
    return seen


def _depends_on(node, goal, members):
    seen, todo = set(), [node]
    while todo:
        n = todo.pop()
        if n is goal:
            return True
        if n in seen or n not in members:
            continue
        seen.add(n)
        todo.extend(n.all_input_nodes)
    return False


def shape(values, n):
    v = values.get(n)
    return list(v.shape) if torch.is_tensor(v) else []


def stride(in_shape, out_shape):
    if len(in_shape) < 4 or len(out_shape) < 4 or not out_shape[-1]:
        return None
    return round(in_shape[-1] / out_shape[-1])


def _varies(v):
    return bool(torch.is_tensor(v) and v.shape[0] > 1
                and (v.amax(0) - v.amin(0)).abs().max() > 1e-6)


@dataclass
class Block:
    """One block located on the walk: its input ``x`` and output ``y``, the ``layers`` of
    its residual branch (or of all it computes, without a residual add), the ``dead``
    layers computed and dropped, and the shortcut branch ``short`` if it has one.
    A branch is ``(number of layers, its node into the add, its layers)``."""
    group: list
    x: fx.Node
    y: fx.Node
    in_shape: list
    out_shape: list
    main: tuple | None
    short: tuple | None
    layers: list
    dead: list


class NotOneBlock(ValueError):
    """A stage's part that is not one block (the message says why, for the student)."""


def block_at(walk, group, layers):
    """The :class:`Block` of ``group``, made of the operations in ``layers``."""
    members, values = set(group), walk.values
    is_layer = lambda n: target(n) in layers  # noqa: E731
    ins, outs = boundary(group)
    if len(ins) != 1 or len(outs) != 1:
        raise NotOneBlock(f"a block should take one tensor and return one; this one takes "
                          f"{len(ins)} and returns {len(outs)}")
    x, y = ins[0], outs[0]
    pre = y.args[0] if target(y) in RELUS else y
    main, short = None, None
    if target(pre) in RESIDUAL_ADDS and all(isinstance(a, fx.Node) for a in pre.args[:2]):
        branches = []
        for a in pre.args[:2]:
            found = [n for n in group if n in _ancestors(a, x, members) and is_layer(n)]
            branches.append((len(found), a, found))
        branches.sort(key=lambda b: b[0])
        if branches[0][0] <= 1 and _depends_on(branches[0][1], x, members | {x}):
            short, main = branches[0], branches[1]
    # without a residual add, the branch is what the output depends on; a layer computed
    # and then dropped (a forgotten shortcut's projection) is no part of it
    live = _ancestors(y, x, members)
    branch = main[2] if main else [n for n in group if is_layer(n) and n in live]
    dead = [n for n in group if is_layer(n) and n not in live]
    return Block(group, x, y, shape(values, x), shape(values, y), main, short, branch, dead)


def has_live_shortcut(walk, block):
    """Whether the output still varies with the input once the residual branch is zeros."""
    if block.main is None:
        return False
    return _varies(walk.silenced(block.main[1])[block.y])


def block_type(group):
    """The class name the graph records for the block (a label, for messages only)."""
    for module_path, t in group[0].meta.get("module") or []:
        if len(module_path.split(".")) == 3:  # net.stageN.i
            return t.rsplit(".", 1)[-1]
    return "?"
