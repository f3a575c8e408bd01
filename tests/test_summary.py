"""Parameters and FLOPs come from torch's own counter; vanishing inputs are refused."""
import pytest
import torch
from torch import nn

from regnetlab import InputSizeError, RegNetX32, check_input_size, complexity
from regnetlab.classifier import Classifier


class OneConv(Classifier):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.Flatten())


def test_flops_of_one_conv_are_two_per_multiply_add():
    c = complexity(OneConv(), (1, 10, 10))
    assert c.flops == 2 * (4 * 1 * 3 * 3) * (10 * 10)
    assert c.params == 36


def test_regnetx32_flops_grow_with_the_pixel_count():
    small, big = complexity(RegNetX32(), (1, 28, 28)), complexity(RegNetX32(), (1, 96, 96))
    assert small.params == big.params == 179_290
    # conv FLOPs scale with output pixels: 14x14 vs 48x48 after the stem (11.8x)
    assert 9 < big.flops / small.flops < 12


def test_complexity_leaves_the_model_in_training_mode():
    model = RegNetX32()
    complexity(model)
    assert model.training


def test_check_input_size_accepts_28_and_refuses_a_vanishing_size():
    model = RegNetX32()
    check_input_size(model, 28)
    check_input_size(model, 8)  # 8 -> 4 -> 2 -> 1: the last downsampling still sees 2x2
    with pytest.raises(InputSizeError, match=r"'net.stage2.0.conv2' downsamples by 2 but receives a 1x1"):
        check_input_size(model, 4)
    with pytest.raises(InputSizeError, match="positive integer"):
        check_input_size(model, 0)
