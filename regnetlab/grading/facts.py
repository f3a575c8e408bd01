"""Facts about a network, measured in the worker and sent to the grader as plain JSON.

What a network *is* is read off what it *does* wherever possible: strides and widths come
from the shapes a forward pass produces, a shortcut is "live" if the block's output still
depends on its input once the residual branch is silenced, and "no convolutions" is
checked on the operations torch actually dispatched, not only on the module types.
The grader's tests (autograder/) judge these facts; nothing here decides a score.
"""
import copy
import math

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from ..anynet import AnyNet
from ..blocks import ResNeXtBlock, Residual
from ..summary import complexity

STRUCTURE_SIZE = 64   # 64 -> 32 -> 16 -> 8 -> 4 -> 2: every stride of five halvings shows
CONV_OPS = {"convolution": "a convolution", "im2col": "an im2col (F.unfold) sliding window",
            "unfold": "a sliding window (Tensor.unfold)"}
CONV_MODULES = (nn.modules.conv._ConvNd, nn.Unfold, nn.Fold)


def _eval_forward(model, x):
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(x)
    finally:
        model.train(was_training)


def _shape_hooks(modules):
    """Record the input and output shape of each module on the next forward pass."""
    seen, handles = {}, []
    for name, m in modules:
        def hook(mod, inputs, output, name=name):
            if name not in seen and inputs and torch.is_tensor(inputs[0]) \
                    and torch.is_tensor(output):
                seen[name] = (list(inputs[0].shape), list(output.shape))
        handles.append(m.register_forward_hook(hook))
    return seen, handles


def _stride(in_shape, out_shape):
    if len(in_shape) < 4 or len(out_shape) < 4 or not out_shape[-1]:
        return None
    return round(in_shape[-1] / out_shape[-1])


def _conv(m):
    return {"in_channels": m.in_channels, "out_channels": m.out_channels,
            "kernel": list(m.kernel_size), "stride": list(m.stride), "groups": m.groups}


def shortcut_is_live(block, x):
    """Whether ``block``'s output depends on its input once its residual branch outputs 0.

    We silence the last batch norm of the residual branch (``bn3`` of a ResNeXt block,
    ``bn2`` of a ResNet block or of the MLP block of exercise 4, whose names its stub
    prescribes): the branch then outputs exactly 0, so the block computes
    ``relu(shortcut(X))``, which varies with X, or, without a shortcut, ``relu(0)``.
    Returns None for block types whose branch we do not know.
    """
    last_bn = ("bn3" if isinstance(block, ResNeXtBlock) else
               "bn2" if isinstance(block, Residual) or _is_mlp_block(block) else None)
    if last_bn is None or not isinstance(getattr(block, last_bn, None),
                                         nn.modules.batchnorm._BatchNorm):
        return None
    silent = copy.deepcopy(block).eval()
    bn = getattr(silent, last_bn)
    with torch.no_grad():
        bn.weight.zero_()
        bn.bias.zero_()
        y = silent(x)
    return bool((y.amax(0) - y.amin(0)).abs().max() > 1e-6)


def _is_mlp_block(block):
    return isinstance(getattr(block, "fc1", None), nn.Linear) \
        and isinstance(getattr(block, "fc2", None), nn.Linear)


def describe_block(block, in_shape, out_shape):
    """Type, widths, stride, bottleneck, conv groups and shortcut of one block."""
    kind = ("resnext" if isinstance(block, ResNeXtBlock)
            else "residual" if isinstance(block, Residual) else "other")
    facts = {"type": type(block).__name__, "kind": kind,
             "in_channels": in_shape[1], "out_channels": out_shape[1],
             "stride": _stride(in_shape, out_shape),
             "convs": [dict(_conv(m), name=n) for n, m in block.named_modules()
                       if isinstance(m, nn.Conv2d)]}
    if kind == "resnext":
        b, n = block.conv2.out_channels, block.conv2.groups
        facts.update(bottleneck=b, conv_groups=n, group_width=b / n,
                     bot_mul=b / out_shape[1], projection=_projection(block.conv4))
    elif kind == "residual":
        facts["projection"] = _projection(block.conv3)
    torch.manual_seed(0)
    x = torch.randn([2] + in_shape[1:])
    facts["shortcut"] = shortcut_is_live(block, x)
    return facts


def _projection(conv):
    if not isinstance(conv, nn.Conv2d):
        return None
    return {"stride": conv.stride[0], "out_channels": conv.out_channels,
            "kernel": conv.kernel_size[0]}


def _identity(model, **extra):
    return {"class": type(model).__name__, "mro": [c.__name__ for c in type(model).__mro__],
            **extra, "lr": _number(getattr(model, "lr", None))}


def _walk(model, x):
    """One eval forward of ``x`` with shape hooks on the stem, every stage and every block.

    Returns ``(top-level children, stages, {name: (input shape, output shape)})``, with
    blocks named ``stageN.i``; or an error message when ``model.net`` is not the
    Sequential of stem, stages and head that AnyNet builds.
    """
    net = getattr(model, "net", None)
    if not isinstance(net, nn.Sequential):
        return (f"{type(model).__name__}.net is {type(net).__name__}, expected an "
                "nn.Sequential of stem, stage1, stage2, ..., head (as AnyNet builds)")
    children = list(net.named_children())
    stages = [(n, m) for n, m in children if n.startswith("stage")]
    blocks = [(f"{s}.{i}", b) for s, stage in stages for i, b in enumerate(stage.children())]
    seen, handles = _shape_hooks([("stem", children[0][1])] + stages + blocks)
    try:
        _eval_forward(model, x)
    finally:
        for h in handles:
            h.remove()
    return children, stages, seen


def describe_anynet(model, size=STRUCTURE_SIZE):
    """Stem, stages and blocks of an AnyNet-style model (``model.net``: stem, stageN, head)."""
    facts = _identity(model, is_anynet=isinstance(model, AnyNet))
    walk = _walk(model, torch.randn(2, getattr(model, "in_channels", 1), size, size))
    if isinstance(walk, str):
        facts["error"] = walk
        return facts
    children, stages, seen = walk
    facts["top_level"] = [n for n, _ in children]
    stem_in, stem_out = seen.get("stem", ([], []))
    facts["stem"] = {"out_channels": stem_out[1] if len(stem_out) > 1 else None,
                     "stride": _stride(stem_in, stem_out)}
    facts["stages"] = []
    for s, stage in stages:
        in_shape, out_shape = seen.get(s, ([], []))
        info = {"name": s, "depth": len(list(stage.children())),
                "out_channels": out_shape[1] if len(out_shape) > 1 else None, "blocks": []}
        for i, b in enumerate(stage.children()):
            shapes = seen.get(f"{s}.{i}")
            info["blocks"].append(describe_block(b, *shapes) if shapes else
                                  {"type": type(b).__name__, "kind": "unused",
                                   "error": "this block never ran in the forward pass"})
        facts["stages"].append(info)
    cost = complexity(model, (getattr(model, "in_channels", 1), 28, 28))
    facts.update(params=cost.params, flops=cost.flops)
    return facts


class _OpRecorder(TorchDispatchMode):
    """Every aten operation a forward pass dispatches (to find convolutions by behaviour)."""

    def __init__(self):
        super().__init__()
        self.ops = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.add(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def convolution_use(model, x):
    """Conv-like modules the model holds and conv-like operations its forward runs."""
    modules = [f"{n or type(model).__name__}: {type(m).__name__}"
               for n, m in model.named_modules() if isinstance(m, CONV_MODULES)]
    recorder = _OpRecorder()
    with recorder:
        _eval_forward(model, x)
    return {"conv_modules": modules,
            "conv_ops": sorted(CONV_OPS[op] for op in recorder.ops if op in CONV_OPS)}


def describe_mlp(model):
    """Stem, stages and blocks of an AnyMLP (``model.net``: stem, stageN, head), and convs."""
    facts = _identity(model)
    x = torch.randn(2, 1, 28, 28)
    facts.update(convolution_use(model, x))
    walk = _walk(model, x)
    if isinstance(walk, str):
        facts["error"] = walk
        return facts
    children, stages, seen = walk
    facts["top_level"] = [n for n, _ in children]
    facts["stem"] = {"out_features": seen.get("stem", ([], [None]))[1][-1]}
    facts["stages"] = []
    for s, stage in stages:
        out = seen.get(s, ([], [None]))[1]
        info = {"name": s, "depth": len(list(stage.children())), "out_features": out[-1],
                "blocks": []}
        for i, b in enumerate(stage.children()):
            shapes = seen.get(f"{s}.{i}")
            row = {"type": type(b).__name__, "mlp_block": _is_mlp_block(b)}
            if shapes and row["mlp_block"]:
                row.update(in_features=shapes[0][-1], out_features=shapes[1][-1],
                           bottleneck=b.fc1.out_features,
                           bot_mul=b.fc1.out_features / shapes[1][-1],
                           shortcut=shortcut_is_live(b, torch.randn([4] + shapes[0][1:])))
            info["blocks"].append(row)
        facts["stages"].append(info)
    cost = complexity(model, (1, 28, 28))
    facts.update(params=cost.params, flops=cost.flops)
    return facts


def outputs(model, cases):
    """Shape and finiteness of the logits for each ``(batch, size, train_mode)`` case."""
    rows = []
    for batch, size, train_mode in cases:
        x = torch.randn(batch, getattr(model, "in_channels", 1), size, size)
        row = {"batch": batch, "size": size, "train_mode": train_mode}
        try:
            if train_mode:
                model.train()
                with torch.no_grad():
                    y = model(x)
            else:
                y = _eval_forward(model, x)
            row.update(shape=list(y.shape), finite=bool(torch.isfinite(y).all()))
        except Exception as e:  # one case failing must not hide the others
            row["error"] = f"{type(e).__name__}: {str(e)[:300]}"
        rows.append(row)
    model.eval()
    return rows


def _number(v):
    return v if isinstance(v, (int, float)) and math.isfinite(v) else None
