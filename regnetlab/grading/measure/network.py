"""Measure a captured network: everything the rubric judges, computed here, on its graph.

Given a network rebuilt by ``graph.py`` (never the student's module), :func:`describe`
reads its structure off the structure graph with the describer of its family
(``conv.py``, ``mlp.py``) over the shared walk (``walk.py``), and its cost;
:func:`outputs` checks its logits and :func:`gradients` which of its tensors learn. The
facts are plain JSON, in the shape the tests in ``autograder/`` read.
"""
import torch
import torch.nn.functional as F

from ..exercises import Family
from ..protocol import STRUCTURE_CAPTURE
from . import conv, mlp
from .graph import CONVOLUTIONS, LINEARS
from .walk import NotOneBlock, block_at, block_type, boundary, groups, has_live_shortcut, \
    shape, stride, structure_walk, target

DESCRIBERS = {d.family: d for d in (conv.DESCRIBER, mlp.DESCRIBER)}
if set(DESCRIBERS) != set(Family):  # a family an exercise could choose must be readable
    raise RuntimeError(f"no describer for {sorted(set(Family) - set(DESCRIBERS))}")


def describe(net, family):
    """Stem, stages and blocks of a network (``net``: stem, stage1..N, head), its cost."""
    describer = DESCRIBERS[Family(family)]
    facts = {"class": net.info.get("class"), "lr": net.lr}
    walk = structure_walk(net)
    top = groups(walk.nodes, 1)
    facts["top_level"] = list(top)
    facts["conv_ops"] = sorted({target(n) for gm in net.modes.values()
                                for n in gm.graph.nodes if target(n) in CONVOLUTIONS})
    if not top:
        facts["error"] = (f"{net.info.get('class')} computes nothing under self.net: "
                          "expected self.net, an nn.Sequential of stem, stage1, stage2, ..., "
                          "head (as AnyNet builds)")
        return facts
    names = list(top)
    _, stem_out = boundary(top[names[0]])
    facts["stem"] = describer.stem(shape(walk.values, stem_out[0]) if len(stem_out) == 1 else [])
    facts["stages"] = [stage_facts(walk, s, top[s], describer)
                       for s in names if s.startswith("stage")]
    facts["layout"] = layout(names, top, walk, describer)
    cost = complexity(net)
    facts.update(params=cost["params"], flops=cost["flops"])
    return facts


def stage_facts(walk, name, nodes, describer):
    blocks = groups(nodes, 2, prefix=name)
    _, outs = boundary(nodes)
    out_shape = shape(walk.values, outs[0]) if len(outs) == 1 else []
    return {"name": name, "depth": len(blocks),
            describer.width_key: describer.width(out_shape) if len(out_shape) > 1 else None,
            "blocks": [block_facts(walk, g, describer) for g in blocks.values()]}


def block_facts(walk, group, describer):
    """Type, widths, stride and shortcut of one block, then its family's facts."""
    # kind: which of the book's blocks it is ("resnext", "residual"), as its describer says
    facts = {"type": block_type(group), "kind": "other"}
    try:
        blk = block_at(walk, group, describer.layers)
    except NotOneBlock as e:
        facts["error"] = str(e)
        return facts
    ins, outs = blk.in_shape, blk.out_shape
    facts.update(in_channels=ins[1] if len(ins) > 1 else None,
                 out_channels=outs[1] if len(outs) > 1 else None, stride=stride(ins, outs))
    describer.block(facts, walk, blk)
    facts["shortcut"] = has_live_shortcut(walk, blk)
    return facts


def layout(names, top, walk, describer):
    """Whether the network has AnyNet's (or AnyMLP's) layout, and what differs if not."""
    problems = []
    stages = [n for n in names if n.startswith("stage")]
    if stages != [f"stage{i}" for i in range(1, len(stages) + 1)]:
        problems.append(f"stages named {stages}, expected stage1, stage2, ...")
    if not stages:
        problems.append("no stage (net.stage1, ...)")
    if names[-1] != "head":
        problems.append(f"the last part of net is {names[-1]!r}, expected the head")
    elif not any(target(n) in LINEARS for n in top["head"]):
        problems.append("the head has no linear layer")
    problems += describer.layout_problems(top[names[0]], walk)
    return {"ok": not problems, "problems": problems}


def complexity(net):
    """Trainable parameters and FLOPs (one 28x28 image, eval mode) of a captured network."""
    from torch.utils.flop_counter import FlopCounterMode
    params = sum(p.numel() for p in net.parameters())
    counter = FlopCounterMode(display=False)
    size = STRUCTURE_CAPTURE.size
    with torch.no_grad(), counter:
        net.modes[STRUCTURE_CAPTURE.value](torch.zeros(1, 1, size, size))
    return {"params": params, "flops": counter.get_total_flops()}


def outputs(net, cases):
    """Shape and finiteness of the logits for each ``(batch, size, train mode)`` case."""
    saved = {k: v.clone() for k, v in net.state_dict().items()}
    rows = []
    for batch, size, train_mode in cases:
        row = {"batch": batch, "size": size, "train_mode": train_mode}
        torch.manual_seed(0)
        x = torch.randn(batch, 1, size, size)
        try:
            net.train(train_mode)
            with torch.no_grad():
                y = net(x)
            row.update(shape=list(y.shape), finite=bool(torch.isfinite(y).all()))
        except Exception as e:  # one case failing must not hide the others
            row["error"] = f"{type(e).__name__}: {str(e)[:300]}"
        rows.append(row)
    net.load_state_dict(saved)
    net.eval()
    return rows


def gradients(net, batch=8):
    """Which trainable tensors get no usable gradient: none, a non-finite one, or (for
    weights) an all-zero one. Biases before a batch norm get a zero gradient by design.

    A tensor counts as learning if it gets one on the first batch or, after one plain SGD
    step, on the second: a branch behind a zero-initialised scale (torchvision's
    ``zero_init_residual``) opens after one step, a detached or multiplied-by-0 one never.
    """
    saved = {k: v.clone() for k, v in net.state_dict().items()}
    torch.manual_seed(0)
    x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    net.train()
    missing = None
    for _ in range(2):
        net.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        now = {name for name, p in net.state.named_parameters()
               if p.grad is None or not torch.isfinite(p.grad).all()
               or (p.ndim > 1 and not p.grad.abs().max() > 0)}
        missing = now if missing is None else missing & now
        if not missing:
            break
        with torch.no_grad():
            for p in net.parameters():
                if p.grad is not None and torch.isfinite(p.grad).all():
                    p -= 0.1 * p.grad
    net.zero_grad(set_to_none=True)
    net.load_state_dict(saved)
    return {"params": sum(1 for _ in net.parameters()),
            "without_gradient": sorted(net.tensor_name(n) for n in missing)}
