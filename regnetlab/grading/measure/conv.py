"""The describer of convolutional networks (``Family.CONV``: AnyNet's stem, stages, head).

On the shared walk (``walk.py``) it reads the stem's channels and stride, each stage's
channels and each block's convolutions: kernel, stride, groups and widths from each
convolution's weight and arguments. A branch of 1x1, 3x3, 1x1 convolutions is a ResNeXt
block (its bottleneck and groups from the middle one), of two 3x3 ones a residual block;
the projection is the 1x1 convolution on the shortcut (or one computed and dropped).
"""
from ..exercises import Family
from ..protocol import STRUCTURE_CAPTURE
from .graph import CONVOLUTIONS
from .walk import Describer, path, stride, target


def conv_info(n, values):
    """Kernel, stride, groups and widths of one convolution node, from its weight."""
    a = list(n.args)
    if target(n) == "aten.convolution.default":
        strides, groups = a[3], a[8]
    else:
        strides = a[3] if len(a) > 3 else n.kwargs.get("stride", [1])
        groups = a[6] if len(a) > 6 else n.kwargs.get("groups", 1)
    w = values[a[1]]
    strides = list(strides) if isinstance(strides, (list, tuple)) else [strides]
    return {"in_channels": int(w.shape[1] * groups), "out_channels": int(w.shape[0]),
            "kernel": [int(k) for k in w.shape[2:]], "stride": [int(s) for s in strides],
            "groups": int(groups), "name": path(n).rsplit(".", 1)[-1]}


def stem(shape):
    size = STRUCTURE_CAPTURE.size
    return {"out_channels": shape[1] if len(shape) > 1 else None,
            "stride": stride([0, 0, size, size], shape)}


def block(facts, walk, blk):
    """Its convolutions; which d2l block it is (``kind``), its bottleneck and projection."""
    values = walk.values
    facts["convs"] = [conv_info(n, values) for n in blk.group if target(n) in CONVOLUTIONS]
    branch = [conv_info(n, values) for n in blk.layers]
    kernels = [c["kernel"][0] for c in branch]
    if kernels == [1, 3, 1]:
        facts["kind"] = "resnext"
        b, n = branch[1]["out_channels"], branch[1]["groups"]
        facts.update(bottleneck=b, conv_groups=n, group_width=b / n,
                     bot_mul=b / facts["out_channels"] if facts["out_channels"] else None)
    elif kernels == [3, 3]:
        facts["kind"] = "residual"
    facts["projection"] = None
    short, dead = blk.short, blk.dead
    proj = short[2][0] if short and short[0] == 1 else (dead[0] if len(dead) == 1 else None)
    if proj is not None:  # a dead one too: the shortcut line, not this one, says so
        p = conv_info(proj, values)
        facts["projection"] = {"stride": p["stride"][0], "out_channels": p["out_channels"],
                               "kernel": p["kernel"][0], "used": proj not in dead}


def layout_problems(stem_nodes, walk):
    convs = [conv_info(n, walk.values) for n in stem_nodes if target(n) in CONVOLUTIONS]
    if not convs or convs[0]["stride"][0] != 2:
        return ["the stem is not a stride-2 convolution"]
    return []


DESCRIBER = Describer(Family.CONV, "out_channels", CONVOLUTIONS, stem,
                      width=lambda shape: shape[1], block=block,
                      layout_problems=layout_problems)
