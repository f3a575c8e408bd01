"""The model registry: the names ``regnetlab train MODEL`` accepts.

A name is either registered here (``RegNetX32``) or a reference to a class in a module
or file, ``module:Class`` or ``path/to/file.py:Class`` (for example
``solutions/ex1_deeper_regnetx.py:DeepRegNetX``).
"""
import importlib
from pathlib import Path

from .anynet import RegNetX32
from .files import load_module

MODELS = {}


class UnknownModelError(KeyError):
    def __str__(self):
        return self.args[0]


def register_model(factory, name=None):
    """Register a class or function that takes ``lr=`` and ``num_classes=`` keywords."""
    MODELS[name or factory.__name__] = factory
    return factory


register_model(RegNetX32)


def _load_reference(ref):
    target, _, attr = ref.rpartition(":")
    if target.endswith(".py"):
        if not Path(target).is_file():
            raise UnknownModelError(f"model {ref!r}: no file {target}")
        module = load_module(target)
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as e:
            raise UnknownModelError(f"model {ref!r}: cannot import {target!r} ({e})") from None
    if not hasattr(module, attr):
        raise UnknownModelError(f"model {ref!r}: {target} has no {attr!r}")
    return getattr(module, attr)


def get_model(name, **kwargs):
    """Build the model called ``name`` (a registered name or ``module:Class``)."""
    if name in MODELS:
        factory = MODELS[name]
    elif ":" in name:
        factory = _load_reference(name)
    else:
        raise UnknownModelError(
            f"unknown model {name!r}: expected one of {', '.join(sorted(MODELS))}, "
            "or module:Class / path/to/file.py:Class")
    try:
        return factory(**kwargs)
    except NotImplementedError as e:  # an exercise stub not filled in yet
        raise UnknownModelError(f"model {name!r} is not implemented yet: {e}") from None
    except TypeError as e:
        raise UnknownModelError(
            f"model {name!r} could not be built with {kwargs} ({e}); expected a class "
            "taking lr= and num_classes= keywords") from None
