"""The widths in reverse order: the widest stage first."""
from regnetlab import AnyNet


class DeepRegNetX(AnyNet):
    def __init__(self, lr=0.1, num_classes=10):
        channels, depths = (64, 48, 32, 32), (1, 1, 2, 2)
        super().__init__(tuple((d, c, 16, 1) for d, c in zip(depths, channels)),
                         32, lr, num_classes)
