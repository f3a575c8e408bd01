"""Measure a captured network: everything the rubric judges, computed here, on its graph.

Given a network rebuilt by ``graph.py`` (never the student's module), we read its
structure off the graph and the tensors it produces: the stem, stages and blocks come
from the module paths the graph records (``net.stage1.0``), but every number comes from
the operations themselves: widths from tensor shapes, strides from the resolution a
block outputs, groups and kernels from the convolutions' weights and arguments, the
bottleneck from the branch's middle layer, and a shortcut is *live* when the block's
output still varies with its input once its residual branch is replaced by zeros. The
facts are plain JSON, in the shape the tests in ``autograder/`` read.
"""

import torch
import torch.nn.functional as F
from torch import fx

from .graph import CONVOLUTIONS

STRUCTURE_SIZE = 28
LINEARS = {"aten.linear.default", "aten.addmm.default", "aten.mm.default",
           "aten.matmul.default"}
RESIDUAL_ADDS = {"aten.add.Tensor", "aten.add_.Tensor"}
RELUS = {"aten.relu.default", "aten.relu_.default"}


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


def _path(node):
    stack = node.meta.get("module") or []
    return stack[-1][0] if stack else ""


def _child(path, depth):
    """``net.stage1.0.conv1`` -> ``stage1`` (depth 1) or ``stage1.0`` (depth 2)."""
    parts = path.split(".")
    if len(parts) <= depth or parts[0] != "net":
        return None
    return ".".join(parts[1:depth + 1])


def _groups(nodes, depth, prefix=None):
    """Ordered {child name: [nodes]} of the nodes under ``net.`` at ``depth``."""
    out = {}
    for n in nodes:
        c = _child(_path(n), depth)
        if c is not None and (prefix is None or c.startswith(prefix + ".")):
            out.setdefault(c, []).append(n)
    return out


def _boundary(group):
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


def _depends_on(node, target, members):
    seen, todo = set(), [node]
    while todo:
        n = todo.pop()
        if n is target:
            return True
        if n in seen or n not in members:
            continue
        seen.add(n)
        todo.extend(n.all_input_nodes)
    return False


def _target(n):
    return n.meta.get("target", "")


def conv_info(n, values):
    """Kernel, stride, groups and widths of one convolution node, from its weight."""
    a = list(n.args)
    if _target(n) == "aten.convolution.default":
        stride, groups = a[3], a[8]
    else:
        stride = a[3] if len(a) > 3 else n.kwargs.get("stride", [1])
        groups = a[6] if len(a) > 6 else n.kwargs.get("groups", 1)
    w = values[a[1]]
    stride = list(stride) if isinstance(stride, (list, tuple)) else [stride]
    return {"in_channels": int(w.shape[1] * groups), "out_channels": int(w.shape[0]),
            "kernel": [int(k) for k in w.shape[2:]], "stride": [int(s) for s in stride],
            "groups": int(groups), "name": _path(n).rsplit(".", 1)[-1]}


def _linear_out(n, values):
    w = values[n.args[1]] if _target(n) == "aten.linear.default" else values[n]
    return int(w.shape[0] if _target(n) == "aten.linear.default" else w.shape[-1])


def _shape(values, n):
    v = values.get(n)
    return list(v.shape) if torch.is_tensor(v) else []


def _stride(in_shape, out_shape):
    if len(in_shape) < 4 or len(out_shape) < 4 or not out_shape[-1]:
        return None
    return round(in_shape[-1] / out_shape[-1])


def _varies(v):
    return bool(torch.is_tensor(v) and v.shape[0] > 1
                and (v.amax(0) - v.amin(0)).abs().max() > 1e-6)


class Walk:
    """One eval pass over a network's ``eval28`` graph, with its blocks located."""

    def __init__(self, net, x):
        self.net, self.x = net, x
        self.gm = net.modes[f"eval{x.shape[-1]}"]
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


def block_facts(walk, group, design):
    """Type, widths, stride, bottleneck, groups and shortcut of one block."""
    members, values = set(group), walk.values
    ins, outs = _boundary(group)
    facts = {"type": _block_type(group), "kind": "other"}
    if len(ins) != 1 or len(outs) != 1:
        facts["error"] = (f"a block should take one tensor and return one; this one takes "
                          f"{len(ins)} and returns {len(outs)}")
        return facts
    x, y = ins[0], outs[0]
    in_shape, out_shape = _shape(values, x), _shape(values, y)
    facts.update(in_channels=in_shape[1] if len(in_shape) > 1 else None,
                 out_channels=out_shape[1] if len(out_shape) > 1 else None,
                 stride=_stride(in_shape, out_shape))
    is_layer = (lambda n: _target(n) in CONVOLUTIONS) if design == "anynet" else \
        (lambda n: _target(n) in LINEARS)
    pre = y.args[0] if _target(y) in RELUS else y
    main, short = None, None
    if _target(pre) in RESIDUAL_ADDS and all(isinstance(a, fx.Node) for a in pre.args[:2]):
        branches = []
        for a in pre.args[:2]:
            layers = [n for n in group if n in _ancestors(a, x, members) and is_layer(n)]
            branches.append((len(layers), a, layers))
        branches.sort(key=lambda b: b[0])
        if branches[0][0] <= 1 and _depends_on(branches[0][1], x, members | {x}):
            short, main = branches[0], branches[1]
    # without a residual add, the branch is what the output depends on; a layer computed
    # and then dropped (a forgotten shortcut's projection) is no part of it
    live = _ancestors(y, x, members)
    layers = main[2] if main else [n for n in group if is_layer(n) and n in live]
    dead = [n for n in group if is_layer(n) and n not in live]
    if design == "anynet":
        convs = [conv_info(n, values) for n in group if _target(n) in CONVOLUTIONS]
        facts["convs"] = convs
        main_convs = [conv_info(n, values) for n in layers]
        kernels = [c["kernel"][0] for c in main_convs]
        if kernels == [1, 3, 1]:
            facts["kind"] = "resnext"
            b, n = main_convs[1]["out_channels"], main_convs[1]["groups"]
            facts.update(bottleneck=b, conv_groups=n, group_width=b / n,
                         bot_mul=b / facts["out_channels"] if facts["out_channels"] else None)
        elif kernels == [3, 3]:
            facts["kind"] = "residual"
        facts["projection"] = None
        proj = short[2][0] if short and short[0] == 1 else (dead[0] if len(dead) == 1 else None)
        if proj is not None:  # a dead one too: the shortcut line, not this one, says so
            p = conv_info(proj, values)
            facts["projection"] = {"stride": p["stride"][0], "out_channels": p["out_channels"],
                                   "kernel": p["kernel"][0], "used": proj not in dead}
    else:
        facts["mlp_block"] = len(layers) == 2
        if facts["mlp_block"]:
            b = _linear_out(layers[0], values)
            width = out_shape[-1] if out_shape else None
            facts.update(in_features=in_shape[-1] if in_shape else None, out_features=width,
                         bottleneck=b, bot_mul=b / width if width else None)
    if main is None:
        facts["shortcut"] = False
    else:
        facts["shortcut"] = _varies(walk.silenced(main[1])[y])
    return facts


def _block_type(group):
    """The class name the graph records for the block (a label, for messages only)."""
    for path, t in group[0].meta.get("module") or []:
        if len(path.split(".")) == 3:  # net.stageN.i
            return t.rsplit(".", 1)[-1]
    return "?"


def describe(net, design):
    """Stem, stages and blocks of a network (``net``: stem, stage1..N, head), its cost."""
    facts = {"class": net.info.get("class"), "lr": net.lr}
    torch.manual_seed(0)
    walk = Walk(net, torch.randn(2, 1, STRUCTURE_SIZE, STRUCTURE_SIZE))
    top = _groups(walk.nodes, 1)
    facts["top_level"] = list(top)
    facts["conv_ops"] = sorted({_target(n) for gm in net.modes.values()
                                for n in gm.graph.nodes if _target(n) in CONVOLUTIONS})
    if not top:
        facts["error"] = (f"{net.info.get('class')} computes nothing under self.net: "
                          "expected self.net, an nn.Sequential of stem, stage1, stage2, ..., "
                          "head (as AnyNet builds)")
        return facts
    names = list(top)
    stem_in, stem_out = _boundary(top[names[0]])
    stem_shape = _shape(walk.values, stem_out[0]) if len(stem_out) == 1 else []
    if design == "anynet":
        facts["stem"] = {"out_channels": stem_shape[1] if len(stem_shape) > 1 else None,
                         "stride": _stride([0, 0, STRUCTURE_SIZE, STRUCTURE_SIZE], stem_shape)}
    else:
        facts["stem"] = {"out_features": stem_shape[-1] if stem_shape else None}
    facts["stages"] = []
    for s in [n for n in names if n.startswith("stage")]:
        blocks = _groups(top[s], 2, prefix=s)
        _, outs = _boundary(top[s])
        out_shape = _shape(walk.values, outs[0]) if len(outs) == 1 else []
        key = "out_channels" if design == "anynet" else "out_features"
        width = (out_shape[1] if design == "anynet" else out_shape[-1]) if len(out_shape) > 1 \
            else None
        facts["stages"].append({"name": s, "depth": len(blocks), key: width, "blocks": [
            block_facts(walk, g, design) for g in blocks.values()]})
    facts["layout"] = layout(names, top, walk, design)
    cost = complexity(net)
    facts.update(params=cost["params"], flops=cost["flops"])
    return facts


def layout(names, top, walk, design):
    """Whether the network has AnyNet's (or AnyMLP's) layout, and what differs if not."""
    problems = []
    stages = [n for n in names if n.startswith("stage")]
    if stages != [f"stage{i}" for i in range(1, len(stages) + 1)]:
        problems.append(f"stages named {stages}, expected stage1, stage2, ...")
    if not stages:
        problems.append("no stage (net.stage1, ...)")
    if names[-1] != "head":
        problems.append(f"the last part of net is {names[-1]!r}, expected the head")
    elif not any(_target(n) in LINEARS for n in top["head"]):
        problems.append("the head has no linear layer")
    if design == "anynet":
        stem = top[names[0]]
        convs = [conv_info(n, walk.values) for n in stem if _target(n) in CONVOLUTIONS]
        if not convs or convs[0]["stride"][0] != 2:
            problems.append("the stem is not a stride-2 convolution")
    return {"ok": not problems, "problems": problems}


def complexity(net):
    """Trainable parameters and FLOPs (one 28x28 image, eval mode) of a captured network."""
    from torch.utils.flop_counter import FlopCounterMode
    params = sum(p.numel() for p in net.parameters())
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        net.modes["eval28"](torch.zeros(1, 1, 28, 28))
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


# -- one exercise, end to end ---------------------------------------------------------------

def measure_exercise(files, exercise_id, options, dataset=None, later=None):
    """``{probe: {"ok", "value" | "error"}}`` for one exercise, from the worker's files.

    ``files`` is what the sandbox read back (name -> bytes); ``dataset()`` returns the
    tier's training data (loaded once by the caller). The worker's JSON answers
    (``answers.json``) pass through as the student's own report, for the lines that are
    not about a network; every network fact is measured here. With a dict ``later``, the
    training runs are not run but put there, ``{probe: function() -> answer}``, for the
    caller to run side by side.
    """

    from ..exercises import load
    from .graph import GraphError, check_sizes, load_json, load_network
    from .training import as_tier
    exercise = load(exercise_id)
    try:
        report = load_json(files["answers.json"]) if "answers.json" in files else {}
    except GraphError as e:
        report = {"error": str(e)}
    probes, networks = {}, report.get("networks", {}) if isinstance(report, dict) else {}
    for name, answer in (report.get("probes", {}) if isinstance(report, dict) else {}).items():
        if name in ("import", *exercise.ANSWERS) and isinstance(answer, dict):
            probes[name] = {"ok": answer.get("ok") is True, "value": answer.get("value"),
                            "error": str(answer.get("error", ""))[:1500]}
    tier = as_tier(options.get("tier", "cpu"))  # the session's Tier (perhaps reduced)
    imported = probes.get("import")
    if imported and not imported["ok"]:  # every later probe fails for this one reason
        why = f"the submission could not be imported: {imported['error']}"
        for spec in exercise.NETWORKS:
            for what in ("structure", "outputs", "gradients", "train"):
                probes[spec.probe(what)] = {"ok": False, "error": f"{spec.label}: {why}"}
        for name in exercise.ANSWERS:
            probes[name] = {"ok": False, "error": why}
        return probes

    for spec in exercise.NETWORKS:
        wanted = ["structure"] + (["outputs"] if spec.outputs else []) \
            + (["gradients", "train"] if spec.train else [])
        entry = networks.get(spec.name) if isinstance(networks, dict) else None
        try:
            if not isinstance(entry, dict):  # the worker stopped first: the tests say how
                for what in wanted:
                    probes[spec.probe(what)] = {"ok": False, "missing": True}
                continue
            if "error" in entry:
                raise GraphError(str(entry["error"])[:1500])
            stem = str(entry.get("file"))
            if f"{stem}.json" not in files or f"{stem}.safetensors" not in files:
                raise GraphError(f"{spec.label}: its graph files are missing")
            net = load_network(files[f"{stem}.json"], files[f"{stem}.safetensors"])
            check_sizes(net, {"train28": tier.batch_size, "eval28": tier.batch_size})
        except (GraphError, RuntimeError, ValueError, TypeError, KeyError) as e:
            for what in wanted:
                probes[spec.probe(what)] = {"ok": False, "error": str(e)[:1500]}
            continue
        jobs = _jobs(net, spec, tier, options, dataset)
        for what in wanted:
            run = _answer(jobs[what], spec.label)
            if what == "train" and later is not None:
                later[spec.probe(what)] = run
            else:
                probes[spec.probe(what)] = run()
    return probes


def _jobs(net, spec, tier, options, dataset):
    """What can be measured on one network, each as a function (run now, or later)."""
    from .training import short_train

    def train():
        if not options.get("train", True):
            return {"skipped": "training disabled (--no-train)"}
        return short_train(net, tier, dataset(), options.get("seed", 0), options.get("device"))
    return {"structure": lambda: dict(describe(net, spec.design), **spec.extra),
            "outputs": lambda: outputs(net, spec.outputs),
            "gradients": lambda: gradients(net), "train": train}


def _answer(job, label):
    """``job`` as a function returning a probe's answer, its errors worded for the student."""
    import json

    def run():
        try:
            return {"ok": True, "value": json.loads(json.dumps(job(), default=str))}
        except Exception as e:  # a network that runs here but breaks one measurement
            return {"ok": False, "error": f"{label}: {type(e).__name__}: {str(e)[:600]}"}
    return run
