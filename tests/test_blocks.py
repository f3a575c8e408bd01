"""ResNeXtBlock and Residual keep the book's semantics, and refuse clearly what torch can't build."""
import itertools

import pytest
import torch
from torch import nn

from regnetlab import BlockConfigError, ResNeXtBlock, Residual


def materialise(block, channels=16, size=8):
    block.eval()
    with torch.no_grad():
        return block(torch.randn(2, channels, size, size))


@pytest.mark.parametrize("num_channels,groups,bot_mul,expected_groups", [
    (80, 16, 1, 5),      # RegNetX32 stage 2: group width 16 -> 80 // 16 = 5 conv groups
    (32, 16, 1, 2),      # stage 1
    (80, 16, 0.5, 2),    # bottleneck 40 channels -> 40 // 16 = 2 groups
    (64, 64, 1, 1),      # group width = width: one group, a plain conv
    (48, 1, 1, 48),      # group width 1: depthwise
])
def test_groups_is_the_group_width_as_in_the_book(num_channels, groups, bot_mul, expected_groups):
    blk = ResNeXtBlock(num_channels, groups, bot_mul)
    assert blk.conv2.groups == expected_groups
    assert blk.conv2.out_channels == int(round(num_channels * bot_mul))


def test_every_configuration_torch_can_build_builds_and_the_rest_fail_clearly():
    for c, g, k in itertools.product((8, 24, 32, 48, 80), (1, 3, 8, 16, 24, 40, 96), (0.25, 0.5, 1, 2)):
        b = int(round(c * k))
        try:  # what the book's code does: groups = b // g straight into torch
            nn.Conv2d(b, b, 3, padding=1, groups=b // g)
            torch_builds = True
        except (ValueError, ZeroDivisionError, RuntimeError):
            torch_builds = False
        if torch_builds:
            assert ResNeXtBlock(c, g, k).conv2.groups == b // g
        else:
            with pytest.raises(BlockConfigError, match="group width"):
                ResNeXtBlock(c, g, k)


def test_zero_groups_error_names_the_widths():
    with pytest.raises(BlockConfigError) as e:
        ResNeXtBlock(32, 64, 1)
    msg = str(e.value)
    assert "group width 64" in msg and "32 bottleneck channels" in msg and "0 groups" in msg


def test_non_dividing_group_count_error_names_the_arithmetic():
    with pytest.raises(BlockConfigError, match=r"80 bottleneck channels // group width 24 = 3"):
        ResNeXtBlock(80, 24, 1)


@pytest.mark.parametrize("strides", [1, 2])
def test_resnext_block_shapes_and_shortcut(strides):
    blk = ResNeXtBlock(32, 16, 1, use_1x1conv=strides == 2, strides=strides)
    y = materialise(blk, channels=16 if strides == 2 else 32, size=8)
    assert y.shape == (2, 32, 8 // strides, 8 // strides)
    assert (blk.conv4 is not None) == (strides == 2)
    assert (y >= 0).all()  # the block ends with a ReLU


def test_identity_shortcut_is_really_added():
    blk = ResNeXtBlock(8, 8, 1)
    materialise(blk, channels=8)
    for conv in (blk.conv1, blk.conv2, blk.conv3):
        nn.init.zeros_(conv.weight)
        nn.init.zeros_(conv.bias)
    blk.eval()
    x = torch.rand(1, 8, 4, 4)  # positive, so relu(0 + x) == x
    with torch.no_grad():
        assert torch.allclose(blk(x), x)  # residual branch is 0: only the shortcut remains


def test_residual_matches_the_book():
    blk = Residual(24, use_1x1conv=True, strides=2)
    y = materialise(blk, channels=8, size=8)
    assert y.shape == (2, 24, 4, 4)
    assert blk.conv1.kernel_size == (3, 3) and blk.conv3.kernel_size == (1, 1)
    assert not hasattr(blk, "bn3")  # the book's shortcut conv has no batch norm
    assert Residual(8).conv3 is None
