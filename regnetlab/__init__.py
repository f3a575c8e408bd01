"""regnetlab: a companion to d2l section 8.8, "Designing Convolution Network Architectures".

The names mirror the book's, so ``from d2l import torch as d2l`` ports as
``import regnetlab as d2l`` for this chapter's code.
"""
from .anynet import AnyNet, RegNetX32
from .blocks import BlockConfigError, ResNeXtBlock, Residual
from .classifier import Classifier, add_to_class, init_cnn
from .data import DataError, FashionMNIST
from .models import get_model, register_model
from .regnet import RegNetX, RegNetXConfig, generate_regnet
from .summary import InputSizeError, check_input_size, complexity, count_params
from .trainer import BOOK, DEFAULT, Recipe, Trainer


def check(exercise=None, train=False, notebook=None, tier="auto", timeout=None):
    """Grade ``exercise`` ("ex1" ...; every exercise by default) from inside a notebook,
    with the same grader as ``regnetlab grade``; see :mod:`regnetlab.grading.in_notebook`."""
    from .grading.in_notebook import check as _check
    return _check(exercise, train=train, notebook=notebook, tier=tier, timeout=timeout)


__version__ = "0.1.0"
__all__ = ["AnyNet", "RegNetX32", "RegNetX", "RegNetXConfig", "generate_regnet",
           "ResNeXtBlock", "Residual", "BlockConfigError", "Classifier", "init_cnn", "add_to_class",
           "FashionMNIST", "DataError", "Trainer", "Recipe", "BOOK", "DEFAULT",
           "complexity", "count_params", "check_input_size", "InputSizeError",
           "get_model", "register_model", "check"]
