"""What a study is: its trials, its settings, its report and figures, in one object.

A trial is one network to train: a unique ``key`` (its line in the results file), the
``group`` it belongs to (a design space, a model, a VioNet member), how to build it
(``kind`` + JSON ``config``) and its training ``seed``. Network i of a space is drawn from
``random.Random(f"{seed}/{study}/{space}/{i}")``, so it is the same network on every run
and a larger ``--n`` only adds networks: a resumed or extended sweep stays comparable.

Each study is one module of :mod:`regnetlab.explore.studies` that defines ``STUDY``, an
instance of a :class:`Study` subclass; the explorer finds them there, so a new design
space is one new file.
"""
import random
from dataclasses import dataclass, field

from . import sources
from .spaces import Band, parse_band


@dataclass(frozen=True)
class Trial:
    key: str
    group: str
    kind: str     # "anynet" | "regnetx" | "model" (registry name) | "source" (exercise code)
    config: dict
    seed: int


@dataclass
class Context:
    """What a study's report may use besides its own records.

    ``found``: ``{study: (settings, records)}`` of every results file being reported (a
    study may compare against another's, as RegNetX does against AnyNetX); ``figures``:
    the folder for its figures, or None for tables only.
    """
    found: dict
    figures: object = None
    written: list = field(default_factory=list)

    def figure(self, name):
        """The path for figure ``name`` (None: no figures wanted), noted as written."""
        if self.figures is None:
            return None
        self.written.append(self.figures / name)
        return self.figures / name


class Study:
    """One study. Subclasses set the class attributes and write :meth:`trials` and
    :meth:`report`; the rest has defaults."""

    name = ""
    summary = ""
    order = 100           # position in listings (`regnetlab explore --help`, the report)
    default_n = 0         # networks per space (sampled studies)
    default_seeds = 0     # seeds per fixed model (VioNet members, exercise models)
    uses_source = False   # builds models from an exercise folder (--source)
    band = None           # the default complexity Band of its sampled networks, if any

    def add_arguments(self, parser):
        """Options only this study reads (each study's names must be its own)."""

    def settings(self, args):
        """The study's own entries of the results file's settings (they fix the budget)."""
        s = {}
        if self.uses_source:
            from pathlib import Path
            s["source"] = Path(args.source).name
        if self.band is not None:
            band = parse_band(args.band, self.band.measure) if args.band else self.band
            if band is not None:  # --band none: sampled without one, as before bands
                s["band"] = band.as_dict()
        return s

    def trials(self, n, seeds, settings, source="solutions", args=None):
        """The trials to train: ``n`` networks per space, ``seeds`` seeds per fixed model."""
        raise NotImplementedError

    def banded(self, records):
        """The records sampled in the study's band (the rest, e.g. fixed models over
        seeds or scaled-up copies, are not): every record unless a study says."""
        return records

    def command_flags(self, groups):
        """The size flags that recorded ``groups`` (``{group: records}``): ``["--n 20"]``."""
        return []

    def report(self, settings, records, context):
        """Markdown lines (tables and the generated findings); figures into context."""
        raise NotImplementedError


def band_of(settings):
    """The complexity band recorded in ``settings``, or None (sampled without one)."""
    return Band.from_dict(settings["band"]) if settings.get("band") else None


def rng(seed, *parts):
    return random.Random("/".join(str(p) for p in (seed, *parts)))


def _tuples(x):
    """JSON lists back to the tuples the constructors were written for."""
    return tuple(_tuples(v) for v in x) if isinstance(x, list) else x


def build_model(trial, lr, source="solutions"):
    """A fresh model for ``trial`` (call ``torch.manual_seed`` first for a seeded init)."""
    from ..anynet import AnyNet
    from ..models import get_model
    from ..regnet import RegNetX

    cfg = trial.config
    if trial.kind == "anynet":
        return AnyNet(_tuples(cfg["arch"]), cfg["stem_channels"], lr=lr)
    if trial.kind == "regnetx":
        return RegNetX(cfg["depth"], cfg["w_0"], cfg["w_a"], cfg["w_m"], cfg["group_width"],
                       stem_channels=cfg["stem_channels"], lr=lr)
    if trial.kind == "model":
        return get_model(cfg["model"], lr=lr)
    if trial.kind == "source":
        if "member" in cfg:
            member = sources.call(source, cfg["module"], "vionet_family")[cfg["member"]]
            return _member_model(member, source, cfg["module"], lr)
        kwargs = {k: _tuples(v) for k, v in cfg.get("kwargs", {}).items()}
        return sources.call(source, cfg["module"], cfg["class"], lr=lr, **kwargs)
    raise ValueError(f"trial {trial.key}: unknown kind {trial.kind!r}")


def _member_model(member, source, module, lr):
    """A VioNet family member may be given as kwargs of VioNet, a model, or a factory."""
    import torch

    if isinstance(member, dict):
        return sources.call(source, module, "VioNet", lr=lr, **member)
    if isinstance(member, torch.nn.Module):
        member.lr = lr
        return member
    return member(lr=lr)
