"""The two residual blocks of d2l chapter 8: ``Residual`` (ResNet) and ``ResNeXtBlock``.

Both use lazy layers exactly as the book does, so a block only needs its *output*
width; the input width is read off the first batch. ``AnyNet`` materialises them
with one dry forward pass so that weight initialisation really runs (see anynet.py).
"""
from torch import nn
from torch.nn import functional as F


class BlockConfigError(ValueError):
    """A block whose numbers torch could not turn into a convolution."""


def conv_groups(num_channels, groups, bot_mul, where="ResNeXtBlock"):
    """Number of groups of the 3x3 conv, with the book's arithmetic.

    In d2l, ``groups`` is the group *width* g (channels per group), not the number of
    groups: the bottleneck has ``b = int(round(num_channels * bot_mul))`` channels and
    the conv gets ``b // groups`` groups. We keep that arithmetic exactly, and refuse,
    with the numbers in the message, what torch would refuse with a cryptic one.
    """
    bot_channels = int(round(num_channels * bot_mul))
    if bot_channels < 1:
        raise BlockConfigError(
            f"{where}: num_channels={num_channels} * bot_mul={bot_mul} gives "
            f"{bot_channels} bottleneck channels; expected at least 1")
    if groups < 1:
        raise BlockConfigError(
            f"{where}: group width groups={groups} must be >= 1 "
            "(in d2l `groups` is the number of channels per group)")
    n = bot_channels // groups
    if n == 0:
        raise BlockConfigError(
            f"{where}: group width {groups} is larger than the {bot_channels} "
            f"bottleneck channels (num_channels={num_channels}, bot_mul={bot_mul}), "
            "so the conv would get 0 groups; expected a group width <= "
            f"{bot_channels}. In d2l `groups` is the group width, not the group count")
    if bot_channels % n:
        raise BlockConfigError(
            f"{where}: {bot_channels} bottleneck channels // group width {groups} = "
            f"{n} conv groups, which does not divide {bot_channels} channels; "
            f"choose a group width that divides {bot_channels} "
            "(in d2l `groups` is the group width, not the group count)")
    return n, bot_channels


class ResNeXtBlock(nn.Module):
    """The ResNeXt block of d2l 8.6 (1x1 conv, grouped 3x3 conv, 1x1 conv, shortcut).

    Same signature and arithmetic as ``d2l.ResNeXtBlock(num_channels, groups, bot_mul,
    use_1x1conv, strides)``: ``groups`` is the group width, the bottleneck has
    ``int(round(num_channels * bot_mul))`` channels and the 3x3 conv has
    ``bottleneck // groups`` groups. Every configuration the book's code builds builds
    here; those torch cannot build raise :class:`BlockConfigError` naming the widths.
    """

    def __init__(self, num_channels, groups, bot_mul, use_1x1conv=False, strides=1):
        super().__init__()
        n_groups, bot_channels = conv_groups(num_channels, groups, bot_mul)
        self.conv1 = nn.LazyConv2d(bot_channels, kernel_size=1, stride=1)
        self.conv2 = nn.LazyConv2d(bot_channels, kernel_size=3, stride=strides,
                                   padding=1, groups=n_groups)
        self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=1)
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()
        self.bn3 = nn.LazyBatchNorm2d()
        if use_1x1conv:
            self.conv4 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
            self.bn4 = nn.LazyBatchNorm2d()
        else:
            self.conv4 = None

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = F.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        if self.conv4 is not None:
            X = self.bn4(self.conv4(X))
        return F.relu(Y + X)


class Residual(nn.Module):
    """The ResNet residual block of d2l 8.6: two 3x3 convs and a shortcut.

    Same signature as ``d2l.Residual(num_channels, use_1x1conv, strides)``. As in the
    book, the 1x1 shortcut conv has no batch norm.
    """

    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)
