"""Only three stages."""
from regnetlab import AnyNet


class DeepRegNetX(AnyNet):
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__(((1, 32, 16, 1), (2, 64, 16, 1), (2, 80, 16, 1)), 32, lr, num_classes)
