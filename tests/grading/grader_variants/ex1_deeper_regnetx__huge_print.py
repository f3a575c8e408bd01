"""A correct network that prints 20 MB while being imported."""
from regnetlab import AnyNet

print("debug " * 3_500_000)


class DeepRegNetX(AnyNet):
    def __init__(self, lr=0.1, num_classes=10):
        channels, depths = (32, 64, 80, 128), (1, 1, 2, 2)
        super().__init__(tuple((d, c, 16, 1) for d, c in zip(depths, channels)),
                         32, lr, num_classes)
