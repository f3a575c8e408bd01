"""What a model does on an input of a given size: parameters, FLOPs, and whether it fits.

FLOPs are counted by torch itself (``torch.utils.flop_counter.FlopCounterMode``), which
counts a multiply-add as 2 FLOPs. The RegNet paper's "400MF" counts multiply-adds, so
its numbers are half of ours for the same network.
"""
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


class InputSizeError(ValueError):
    """An input size the network cannot process (its feature maps would vanish)."""


@dataclass(frozen=True)
class Complexity:
    params: int
    flops: int
    input_size: tuple


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def complexity(model, input_size=(1, 28, 28)):
    """Parameters and FLOPs of one forward pass of a single image of ``input_size``."""
    was_training = model.training
    model.eval()
    x = torch.zeros(1, *input_size, device=next(model.parameters()).device)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    model.train(was_training)
    return Complexity(count_params(model), int(counter.get_total_flops()), tuple(input_size))


def check_input_size(model, size, in_channels=1):
    """Raise :class:`InputSizeError` if ``size x size`` images vanish inside ``model``.

    A feature map has vanished when a layer that downsamples (stride > 1) receives a
    map already smaller than its stride: from then on the network sees only padding.
    """
    if int(size) != size or size < 1:
        raise InputSizeError(f"image size {size!r}: expected a positive integer")
    problems = []

    def hook(module, inputs, _output):
        stride = _pair(module.stride)
        h, w = inputs[0].shape[-2:]
        if (h < stride[0] or w < stride[1]) and not problems:
            problems.append((name_of[module], (h, w), stride))

    name_of = {m: n for n, m in model.named_modules()}
    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))
               and max(_pair(m.stride)) > 1]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, in_channels, int(size), int(size),
                              device=next(model.parameters()).device))
    except RuntimeError as e:
        raise InputSizeError(
            f"{size}x{size} images are too small for {type(model).__name__}: {e}") from None
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if problems:
        layer, hw, stride = problems[0]
        raise InputSizeError(
            f"{size}x{size} images are too small for {type(model).__name__}: layer "
            f"'{layer}' downsamples by {stride[0]} but receives a {hw[0]}x{hw[1]} map, so "
            "the spatial size has vanished; use a larger --resize (or no resize) or "
            "fewer stages")


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)
