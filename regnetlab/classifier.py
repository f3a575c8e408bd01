"""A d2l-style ``Classifier``: the model side of ``trainer.fit(model, data)``.

Mirrors ``d2l.Module``/``d2l.Classifier`` (``save_hyperparameters``, ``loss``,
``accuracy``, ``training_step``, ``validation_step``, ``configure_optimizers``,
``layer_summary``) so that book code ports by changing the import line.
"""
import inspect

import torch
from torch import nn
from torch.nn import functional as F


def init_cnn(module):
    """The book's initialisation: Xavier-uniform weights for every Linear and Conv2d.

    d2l tests ``type(module) == nn.Linear``, which is False for a lazy layer that has
    not seen data yet, so the book's ``self.net.apply(d2l.init_cnn)`` in
    ``AnyNet.__init__`` silently initialises nothing. What it meant is Xavier weights,
    so a lazy layer gets them the moment its first batch gives it a shape.
    """
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        if isinstance(module.weight, nn.parameter.UninitializedParameter):
            def init_once(m, args):  # runs after the layer's own shape-inferring pre-hook
                nn.init.xavier_uniform_(m.weight)
                handle.remove()
            handle = module.register_forward_pre_hook(init_once)
        else:
            nn.init.xavier_uniform_(module.weight)


def add_to_class(Class):
    """d2l's decorator: register the decorated function as a method of ``Class``."""
    def wrapper(obj):
        setattr(Class, obj.__name__, obj)
    return wrapper


class Classifier(nn.Module):
    """Base class for the chapter's models: ``self.net`` maps images to logits."""

    lr = 0.1

    def save_hyperparameters(self, ignore=()):
        """Store the caller's ``__init__`` arguments as attributes (as d2l does)."""
        frame = inspect.currentframe().f_back
        _, _, _, local_vars = inspect.getargvalues(frame)
        self.hparams = {k: v for k, v in local_vars.items()
                        if k not in set(ignore) | {"self"} and not k.startswith("_")
                        and not k.startswith("__")}
        for k, v in self.hparams.items():
            setattr(self, k, v)

    def forward(self, X):
        return self.net(X)

    def loss(self, Y_hat, Y, averaged=True):
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        return F.cross_entropy(Y_hat, Y.reshape((-1,)),
                               reduction="mean" if averaged else "none")

    def accuracy(self, Y_hat, Y, averaged=True):
        """Fraction of correct predictions (d2l's ``Classifier.accuracy``)."""
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        compare = (Y_hat.argmax(dim=1).type(Y.dtype) == Y.reshape(-1)).float()
        return compare.mean() if averaged else compare

    def training_step(self, batch):
        return self.loss(self(*batch[:-1]), batch[-1])

    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        return self.loss(Y_hat, batch[-1]), self.accuracy(Y_hat, batch[-1])

    def configure_optimizers(self):
        """The book's optimizer: plain SGD at ``self.lr``. ``Trainer`` may use a recipe instead."""
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    def layer_summary(self, X_shape):
        """Print each top-level layer's output shape (d2l's ``layer_summary``)."""
        X = torch.randn(*X_shape)
        was_training = self.training
        self.eval()
        with torch.no_grad():
            for layer in self.net:
                X = layer(X)
                print(layer.__class__.__name__, "output shape:\t", X.shape)
        self.train(was_training)
