"""The model registry: the names ``regnetlab train MODEL`` accepts.

A name is either registered here (``RegNetX32``, the paper's RegNetX models scaled to
Fashion-MNIST) or a reference to a class in a module or file, ``module:Class`` or
``path/to/file.py:Class`` (for example ``solutions.ex1_deeper_regnetx:DeepRegNetX``).
"""
import importlib
import importlib.util
from pathlib import Path

from .anynet import RegNetX32

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
        path = Path(target)
        if not path.is_file():
            raise UnknownModelError(f"model {ref!r}: no file {path}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
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
        return MODELS[name](**kwargs)
    if ":" in name:
        return _load_reference(name)(**kwargs)
    raise UnknownModelError(
        f"unknown model {name!r}: expected one of {', '.join(sorted(MODELS))}, "
        "or module:Class / path/to/file.py:Class")
