"""The explorer's studies, one module each, found by looking in this folder.

A module here that defines ``STUDY`` (a :class:`regnetlab.explore.study.Study`) is a
study: ``regnetlab explore NAME`` runs it and ``regnetlab explore report`` reports it from
``results/NAME.jsonl``. Nothing else lists them, so a new design space is one new file.
"""
import importlib
import pkgutil

from ..study import Study


def _discover():
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        study = getattr(module, "STUDY", None)
        if not isinstance(study, Study):
            continue
        if study.name in found or study.name == "report":
            raise RuntimeError(f"{module.__file__}: study name {study.name!r} is taken")
        found[study.name] = study
    return dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[0])))


STUDIES = _discover()


def get(name):
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}: expected one of {', '.join(STUDIES)}")
    return STUDIES[name]


def trials(study, n, seeds, seed=0, source="solutions", settings=None, **options):
    """The trials of ``study`` with ``n`` networks per space, ``seeds`` per fixed model.

    ``settings`` defaults to the study's defaults with ``seed``; ``options`` are the
    study's own command-line options (e.g. ``spaces=["A", "E"]`` for anynetx).
    """
    from types import SimpleNamespace

    s = get(study)
    args = SimpleNamespace(**{"source": str(source), "band": None, **options})
    settings = settings if settings is not None else {"seed": seed, **s.settings(args)}
    return s.trials(n, seeds, settings, source, args)
