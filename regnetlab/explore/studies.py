"""The studies ``regnetlab explore`` runs: each is a list of trials plus how to build one.

A trial is one network to train: a unique ``key`` (its line in the results file), the
``group`` it belongs to (a design space, a model, a VioNet member), how to build it
(``kind`` + JSON ``config``) and its training ``seed``. Network i of a space is drawn from
``random.Random(f"{seed}/{study}/{space}/{i}")``, so it is the same network on every run
and a larger ``--n`` only adds networks: a resumed or extended sweep stays comparable.
"""
import random
from dataclasses import dataclass

from . import sources
from .spaces import (ANYNETX_CONSTRAINTS, VIONET_GROUPS_KEYS, sample_anynetx,
                     sample_regnetx, sample_vionet)


@dataclass(frozen=True)
class Trial:
    key: str
    group: str
    kind: str     # "anynet" | "regnetx" | "model" (registry name) | "source" (exercise code)
    config: dict
    seed: int


@dataclass(frozen=True)
class Study:
    name: str
    summary: str
    default_n: int        # networks per space (sampled studies)
    default_seeds: int    # seeds per fixed model (VioNet members, exercise models)
    uses_source: bool


STUDIES = {s.name: s for s in (
    Study("anynetx", "AnyNetX spaces A..E (each adds one constraint), N networks each",
          20, 0, False),
    Study("regnetx", "the RegNetX space sampled through generate_regnet, N networks",
          40, 0, False),
    Study("vionet", "exercise 3: RegNetX32 vs each VioNet member over seeds, plus N "
          "sampled networks breaking each principle", 4, 4, True),
    Study("mlp", "exercise 4: MLP spaces under constraints, N networks each, trained "
          "small and scaled up (extrapolation)", 6, 3, True),
    Study("exercises", "exercises 1-2: RegNetX32 vs DeepRegNetX vs DeResNeXt over seeds",
          0, 3, True),
)}

MLP_MODULE, VIONET_MODULE = "ex4_perfect_mlp", "ex3_vionet"


def _rng(seed, *parts):
    return random.Random("/".join(str(p) for p in (seed, *parts)))


def trials(study, n, seeds, seed=0, source="solutions", scale=4, spaces=None):
    """The trials of ``study`` (``n`` networks per space, ``seeds`` seeds per fixed model)."""
    if study not in STUDIES:
        raise ValueError(f"unknown study {study!r}: expected one of {', '.join(STUDIES)}")
    out = []
    if study == "anynetx":
        for space in spaces or ANYNETX_CONSTRAINTS:
            if space not in ANYNETX_CONSTRAINTS:
                raise ValueError(f"--spaces {space!r}: expected some of "
                                 f"{','.join(ANYNETX_CONSTRAINTS)}")
            for i in range(n):
                out.append(Trial(f"{space}/{i:03d}", space, "anynet",
                                 sample_anynetx(_rng(seed, study, space, i), space), seed + i))
    elif study == "regnetx":
        for i in range(n):
            out.append(Trial(f"RegNetX/{i:03d}", "RegNetX", "regnetx",
                             sample_regnetx(_rng(seed, study, i)), seed + i))
    elif study == "vionet":
        members = sorted(sources.call(source, VIONET_MODULE, "vionet_family"))
        for s in range(seed, seed + seeds):
            out.append(Trial(f"RegNetX32/s{s}", "RegNetX32", "model",
                             {"model": "RegNetX32"}, s))
            for m in members:
                out.append(Trial(f"VioNet-{m}/s{s}", f"VioNet-{m}", "source",
                                 {"module": VIONET_MODULE, "member": m}, s))
        for g in VIONET_GROUPS_KEYS:
            for i in range(n):
                out.append(Trial(f"sampled-{g}/{i:03d}", f"sampled-{g}", "source",
                                 {"module": VIONET_MODULE, "class": "VioNet",
                                  "kwargs": sample_vionet(_rng(seed, study, g, i), g)},
                                 seed + i))
    elif study == "mlp":
        principles = tuple(sources.get(source, MLP_MODULE, "MLP_PRINCIPLES"))
        constraint_sets = {"none": (), **{p: (p,) for p in principles}, "all": principles}
        for name, cons in constraint_sets.items():
            for i in range(n):
                cfg = sources.call(source, MLP_MODULE, "sample_anymlp",
                                   _rng(seed, study, name, i), constraints=cons)
                cfg = {"arch": [list(s) for s in cfg["arch"]], "stem_width": cfg["stem_width"]}
                for size, factor in (("small", 1), ("large", scale)):
                    out.append(Trial(f"{size}/{name}/{i:03d}", f"{size}/{name}", "source",
                                     {"module": MLP_MODULE, "class": "AnyMLP",
                                      "kwargs": scale_mlp(cfg, factor)}, seed + i))
        for s in range(seed, seed + seeds):
            out.append(Trial(f"PerfectMLP/s{s}", "PerfectMLP", "source",
                             {"module": MLP_MODULE, "class": "PerfectMLP"}, s))
    elif study == "exercises":
        for s in range(seed, seed + seeds):
            out.append(Trial(f"RegNetX32/s{s}", "RegNetX32", "model", {"model": "RegNetX32"}, s))
            out.append(Trial(f"DeepRegNetX/s{s}", "DeepRegNetX", "source",
                             {"module": "ex1_deeper_regnetx", "class": "DeepRegNetX"}, s))
            out.append(Trial(f"DeResNeXt/s{s}", "DeResNeXt", "source",
                             {"module": "ex2_de_resnextify", "class": "DeResNeXt"}, s))
    return out


def scale_mlp(cfg, factor):
    """The same MLP with every width (stem and stages) multiplied by ``factor``."""
    return {"arch": [[d, int(w * factor), k] for d, w, k in cfg["arch"]],
            "stem_width": int(cfg["stem_width"] * factor)}


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
