"""Passes the number of groups (c / 16) where d2l expects the group width."""
from regnetlab import AnyNet


class DeepRegNetX(AnyNet):
    def __init__(self, lr=0.1, num_classes=10):
        channels, depths = (32, 64, 80, 128), (1, 1, 2, 2)
        super().__init__(tuple((d, c, c // 16, 1) for d, c in zip(depths, channels)),
                         32, lr, num_classes)
