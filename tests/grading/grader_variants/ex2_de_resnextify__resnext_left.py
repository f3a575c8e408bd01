"""De-ResNeXt-ify forgotten: the stages still use ResNeXt blocks."""
from torch import nn

from regnetlab import AnyNet, ResNeXtBlock


class DeAnyNet(AnyNet):
    def stage(self, depth, num_channels):
        return nn.Sequential(ResNeXtBlock(num_channels, 8, 1, use_1x1conv=True, strides=2),
                             *[ResNeXtBlock(num_channels, 8, 1) for _ in range(depth - 1)])


class DeResNeXt(DeAnyNet):
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__(((4, 32), (6, 80)), 32, lr, num_classes)
