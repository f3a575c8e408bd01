"""A correct design trained with lr = 0, whose file patches the trainer's evaluation (and
fit) to report a perfect accuracy: in the old grader the worker trained, so this worked."""
import regnetlab.trainer
from regnetlab import AnyNet

regnetlab.trainer.Trainer.evaluate = lambda self, model, loader: 1.0
_fit = regnetlab.trainer.Trainer.fit


def fit(self, model, data):
    result = _fit(self, model, data)
    result.test_acc = 1.0
    return result


regnetlab.trainer.Trainer.fit = fit


class DeepRegNetX(AnyNet):
    def __init__(self, lr=0.0, num_classes=10):
        channels, depths = (32, 64, 80, 128), (1, 1, 2, 2)
        super().__init__(tuple((d, c, 16, 1) for d, c in zip(depths, channels)),
                         32, lr, num_classes)
