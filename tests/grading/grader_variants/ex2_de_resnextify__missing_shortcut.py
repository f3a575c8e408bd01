"""A ResNet block that forgets its shortcut."""
from torch import nn
from torch.nn import functional as F

from regnetlab import AnyNet, Residual


class Plain(Residual):
    def forward(self, X):
        Y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(X)))))
        if self.conv3 is not None:
            X = self.conv3(X)  # the projection is computed, then forgotten
        return F.relu(Y)


class DeAnyNet(AnyNet):
    def stage(self, depth, num_channels):
        return nn.Sequential(Plain(num_channels, use_1x1conv=True, strides=2),
                             *[Plain(num_channels) for _ in range(depth - 1)])


class DeResNeXt(DeAnyNet):
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__(((4, 32), (6, 80)), 32, lr, num_classes)
