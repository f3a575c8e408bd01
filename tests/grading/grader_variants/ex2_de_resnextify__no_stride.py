"""The first block of each stage projects the shortcut but forgets strides=2."""
from torch import nn

from regnetlab import AnyNet, Residual


class DeAnyNet(AnyNet):
    def stage(self, depth, num_channels):
        return nn.Sequential(Residual(num_channels, use_1x1conv=True),
                             *[Residual(num_channels) for _ in range(depth - 1)])


class DeResNeXt(DeAnyNet):
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__(((4, 32), (6, 80)), 32, lr, num_classes)
