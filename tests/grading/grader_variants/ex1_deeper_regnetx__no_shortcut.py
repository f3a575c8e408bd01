"""A ResNeXt block whose forward forgets to add the shortcut."""
from torch import nn
from torch.nn import functional as F

from regnetlab import AnyNet, ResNeXtBlock


class PlainBlock(ResNeXtBlock):
    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = F.relu(self.bn2(self.conv2(Y)))
        if self.conv4 is not None:
            X = self.bn4(self.conv4(X))  # the projection is computed, then forgotten
        return F.relu(self.bn3(self.conv3(Y)))


class DeepRegNetX(AnyNet):
    def __init__(self, lr=0.1, num_classes=10):
        channels, depths = (32, 64, 80, 128), (1, 1, 2, 2)
        super().__init__(tuple((d, c, 16, 1) for d, c in zip(depths, channels)),
                         32, lr, num_classes)

    def stage(self, depth, num_channels, groups, bot_mul):
        return nn.Sequential(
            PlainBlock(num_channels, groups, bot_mul, use_1x1conv=True, strides=2),
            *[PlainBlock(num_channels, groups, bot_mul) for _ in range(depth - 1)])
