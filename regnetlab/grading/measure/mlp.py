"""The describer of MLPs (``Family.MLP``: AnyNet's layout of linear layers, ex4's AnyMLP).

On the shared walk (``walk.py``) it reads the stem's and each stage's features, and
whether each block is an MLP block: two linear layers on its branch, the first one's
width its bottleneck.
"""
from ..exercises import Family
from .graph import LINEARS
from .walk import Describer, target


def _linear_out(n, values):
    if target(n) == "aten.linear.default":
        return int(values[n.args[1]].shape[0])  # its weight's
    return int(values[n].shape[-1])             # a matmul's output


def block(facts, walk, blk):
    facts["mlp_block"] = len(blk.layers) == 2
    if facts["mlp_block"]:
        b = _linear_out(blk.layers[0], walk.values)
        width = blk.out_shape[-1] if blk.out_shape else None
        facts.update(in_features=blk.in_shape[-1] if blk.in_shape else None,
                     out_features=width, bottleneck=b, bot_mul=b / width if width else None)


DESCRIBER = Describer(Family.MLP, "out_features", LINEARS,
                      stem=lambda shape: {"out_features": shape[-1] if shape else None},
                      width=lambda shape: shape[-1], block=block)
