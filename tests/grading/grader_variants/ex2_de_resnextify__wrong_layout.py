"""Residual blocks, but not RegNetX32's widths."""
from torch import nn

from regnetlab import AnyNet, Residual


class DeAnyNet(AnyNet):
    def stage(self, depth, num_channels):
        return nn.Sequential(Residual(num_channels, use_1x1conv=True, strides=2),
                             *[Residual(num_channels) for _ in range(depth - 1)])


class DeResNeXt(DeAnyNet):
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__(((4, 32), (6, 64)), 32, lr, num_classes)
