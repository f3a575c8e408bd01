"""What the worker measures for each exercise: a plan of named probes.

A probe is a function of the worker's ``Context`` that returns JSON-able facts. Probes
run in order and each reports on its own, so a crash in one (say, training) leaves the
others' facts intact. The names are what the autograder's tests ask for, e.g.
``ex1`` probe ``DeepRegNetX.structure``. Expected values are not here: the tests hold
them, so the worker cannot learn them from its own code.
"""
import sys
from pathlib import Path

from ..files import load_module
from . import EXERCISES
from .facts import describe_anynet, describe_mlp, outputs

# (batch, size, train mode): two batch sizes at 28x28, the book's 96x96, and train mode
CONV_OUTPUT_CASES = [(1, 28, False), (3, 28, False), (2, 96, False), (4, 28, True)]
MLP_OUTPUT_CASES = CONV_OUTPUT_CASES  # AnyMLP pools 96x96 down to its input size
DE_ANYNET_ARCH = ((1, 16), (2, 24), (1, 40))
VIONET_CUSTOM = dict(depths=(1, 2), channels=(48, 24), stem_channels=16, groups=(8, 12),
                     bot_mul=(1, 0.5))
ANYMLP_ARCH = ((1, 64, 1.0), (2, 128, 0.5))
SAMPLE_SEEDS = range(30)


class Failed(Exception):
    """A probe could not run because something it needs failed earlier (already reported)."""


class Context:
    """The submission's module and the objects built from it, each made once."""

    def __init__(self, exercise, code_dir, options):
        self.exercise, self.code_dir, self.options = exercise, code_dir, options
        self._made = {}
        self.describe = lambda e: f"{type(e).__name__}: {e}"  # the worker sets a better one

    def once(self, key, make):
        if key not in self._made:
            try:
                self._made[key] = (True, make())
            except BaseException as e:  # SystemExit too: a submission may call sys.exit
                self._made[key] = (False, e)
                raise
        ok, value = self._made[key]
        if not ok:
            raise Failed(f"{key} failed earlier: {self.describe(value)}")
        return value

    @property
    def module(self):
        return self.once("import", self._import)

    def _import(self):
        name = EXERCISES[self.exercise]
        path = Path(self.code_dir) / f"{name}.py"
        if not path.is_file():
            raise FileNotFoundError(f"{name}.py: not found in the submission")
        # under its own name (as error messages and pickles show it), and registered, so
        # that a sibling file's ``import ex1_deeper_regnetx`` gets this same module
        module = sys.modules[name] = load_module(path, module_name=name)
        return module

    def attr(self, name):
        module = self.module
        if not hasattr(module, name):
            raise AttributeError(f"{EXERCISES[self.exercise]}.py defines no {name!r}")
        return getattr(module, name)

    def build(self, label, make):
        """Seeded construction, so a model is the same on every run."""
        import torch

        def seeded():
            torch.manual_seed(self.options.get("seed", 0))
            return make()
        return self.once(label, seeded)

    def train(self, label, make):
        from .training import short_train
        if not self.options.get("train", True):
            return {"skipped": "training disabled (--no-train)"}
        return short_train(make, self.tier, self.dataset(), device=self.options.get("device"))

    @property
    def tier(self):
        from .training import TIERS
        return TIERS[self.options.get("tier", "cpu")]

    def dataset(self):
        from .training import load_data
        return self.once("data", lambda: load_data(self.tier, self.options.get("data"),
                                                   self.options.get("device") or "cpu"))


# -- the four plans ------------------------------------------------------------------------

def _names(ctx):
    return {"names": sorted(n for n in vars(ctx.module) if not n.startswith("_"))}


def plan_ex1(ctx):
    deep = lambda: ctx.build("DeepRegNetX()", lambda: ctx.attr("DeepRegNetX")())  # noqa: E731
    return [
        ("import", lambda: _names(ctx)),
        ("DeepRegNetX.structure", lambda: describe_anynet(deep())),
        ("DeepRegNetX.outputs", lambda: outputs(deep(), CONV_OUTPUT_CASES)),
        ("DeepRegNetX.train", lambda: ctx.train("DeepRegNetX", ctx.attr("DeepRegNetX"))),
    ]


def plan_ex2(ctx):
    de = lambda: ctx.build("DeResNeXt()", lambda: ctx.attr("DeResNeXt")())  # noqa: E731
    custom = lambda: ctx.build(  # noqa: E731
        "DeAnyNet(arch, stem_channels=8)",
        lambda: ctx.attr("DeAnyNet")(arch=DE_ANYNET_ARCH, stem_channels=8))
    return [
        ("import", lambda: _names(ctx)),
        ("DeResNeXt.structure", lambda: describe_anynet(de())),
        ("DeAnyNet.custom", lambda: dict(describe_anynet(custom()), arch=DE_ANYNET_ARCH)),
        ("DeResNeXt.outputs", lambda: outputs(de(), CONV_OUTPUT_CASES)),
        ("DeResNeXt.train", lambda: ctx.train("DeResNeXt", ctx.attr("DeResNeXt"))),
    ]


def plan_ex3(ctx):
    family = lambda: ctx.build("vionet_family()", _family(ctx))  # noqa: E731
    probes = [
        ("import", lambda: _names(ctx)),
        ("VioNet.default", lambda: describe_anynet(
            ctx.build("VioNet()", lambda: ctx.attr("VioNet")()))),
        ("VioNet.custom", lambda: dict(describe_anynet(ctx.build(
            "VioNet(custom)", lambda: ctx.attr("VioNet")(**VIONET_CUSTOM))),
            args={k: list(v) if isinstance(v, tuple) else v for k, v in VIONET_CUSTOM.items()})),
        ("VioNet.mismatch", lambda: _raises(lambda: ctx.attr("VioNet")(depths=(4, 6, 8)))),
        ("vionet_family", lambda: {k: dict(describe_anynet(m), is_vionet=_is(m, "VioNet"),
                                           outputs=outputs(m, CONV_OUTPUT_CASES[1:2]))
                                   for k, m in family().items()}),
    ]
    for key in "dcgb":
        probes.append((f"vionet_family.{key}.train", _train_member(ctx, key)))
    return probes


def _family(ctx):
    def make():
        fam = ctx.attr("vionet_family")()
        if not isinstance(fam, dict):
            raise TypeError(f"vionet_family() returned a {type(fam).__name__}, "
                            "expected a dict {'d': VioNet, 'c': ..., 'g': ..., 'b': ...}")
        return {str(k): v for k, v in fam.items()}
    return make


def _train_member(ctx, key):
    def probe():
        def make():
            fam = _family(ctx)()
            if key not in fam:
                raise KeyError(f"vionet_family() has no member {key!r}")
            return fam[key]
        return ctx.train(f"vionet_family()[{key!r}]", make)
    return probe


def _is(obj, class_name):
    return class_name in [c.__name__ for c in type(obj).__mro__]


def plan_ex4(ctx):
    perfect = lambda: ctx.build("PerfectMLP()", lambda: ctx.attr("PerfectMLP")())  # noqa: E731
    custom = lambda: ctx.build(  # noqa: E731
        "AnyMLP(arch, stem_width=32)",
        lambda: ctx.attr("AnyMLP")(arch=ANYMLP_ARCH, stem_width=32))
    return [
        ("import", lambda: _names(ctx)),
        ("AnyMLP.custom", lambda: dict(describe_mlp(custom()), arch=ANYMLP_ARCH,
                                       stem_width=32)),
        ("PerfectMLP.structure", lambda: describe_mlp(perfect())),
        ("PerfectMLP.outputs", lambda: outputs(perfect(), MLP_OUTPUT_CASES)),
        ("sample_anymlp", lambda: _samples(ctx)),
        ("PerfectMLP.train", lambda: ctx.train("PerfectMLP", ctx.attr("PerfectMLP"))),
    ]


def _samples(ctx):
    """Samples under each principle alone, under none; an unknown one; does one build?"""
    import random
    sample, principles = ctx.attr("sample_anymlp"), ctx.attr("MLP_PRINCIPLES")
    runs = {"": ()} | {str(p): (p,) for p in principles}
    samples = {name: [_jsonable_sample(sample(random.Random(seed), constraints=c))
                      for seed in SAMPLE_SEEDS] for name, c in runs.items()}
    first = samples[""][0]
    built = _raises(lambda: ctx.attr("AnyMLP")(arch=tuple(map(tuple, first["arch"])),
                                               stem_width=first["stem_width"]))
    unknown = _raises(lambda: sample(random.Random(0), constraints=("no_such_principle",)))
    return {"samples": samples, "first_builds": built, "unknown": unknown}


def _raises(call):
    """The name of the exception ``call()`` raises, or None (with what it returned)."""
    try:
        value = call()
    except Exception as e:
        return {"raised": type(e).__name__, "message": str(e)[:300]}
    return {"raised": None, "returned": type(value).__name__}


def _jsonable_sample(s):
    if not isinstance(s, dict) or "arch" not in s or "stem_width" not in s:
        raise TypeError(f"sample_anymlp returned {str(s)[:200]}; expected a dict with "
                        "'arch' (a tuple of (depth, width, bot_mul) stages) and 'stem_width'")
    return {"arch": [[_num(v) for v in stage] for stage in s["arch"]],
            "stem_width": _num(s["stem_width"])}


def _num(v):
    return float(v) if isinstance(v, float) else int(v)


PLANS = {"ex1": plan_ex1, "ex2": plan_ex2, "ex3": plan_ex3, "ex4": plan_ex4}
