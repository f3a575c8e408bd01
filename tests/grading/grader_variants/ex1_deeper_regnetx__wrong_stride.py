"""Stage 2's first block keeps the resolution (stride 1) instead of halving it."""
from torch import nn

from regnetlab import AnyNet, ResNeXtBlock


class DeepRegNetX(AnyNet):
    def __init__(self, lr=0.1, num_classes=10):
        channels, depths = (32, 64, 80, 128), (1, 1, 2, 2)
        super().__init__(tuple((d, c, 16, 1) for d, c in zip(depths, channels)),
                         32, lr, num_classes)

    def stage(self, depth, num_channels, groups, bot_mul):
        first = ResNeXtBlock(num_channels, groups, bot_mul, use_1x1conv=True,
                             strides=1 if num_channels == 64 else 2)
        return nn.Sequential(first, *[ResNeXtBlock(num_channels, groups, bot_mul)
                                      for _ in range(depth - 1)])
