"""Exercise 4: the "perfect" MLP from the chapter's design principles (d2l 8.8.6, ex. 4).

Worker side: each network's ``build`` and the ``@worker_side`` functions (the
``ANSWERS`` and their helpers); the rest is data.
"""
import random

from . import CONV_OUTPUT_CASES, Family, Network, worker_side

ID, MODULE, RUBRIC = "ex4", "ex4_perfect_mlp", "test_ex4_perfect_mlp.py"
ANYMLP_ARCH = ((1, 64, 1.0), (2, 128, 0.5))
SAMPLE_SEEDS = range(30)


@worker_side
def _sample(m, seed, constraints=()):
    s = m.sample_anymlp(random.Random(seed), constraints=constraints)
    if not isinstance(s, dict) or "arch" not in s or "stem_width" not in s:
        raise TypeError(f"sample_anymlp returned {str(s)[:200]}; expected a dict with "
                        "'arch' (a tuple of (depth, width, bot_mul) stages) and 'stem_width'")
    return {"arch": [[_num(v) for v in stage] for stage in s["arch"]],
            "stem_width": _num(s["stem_width"])}


def _num(v):
    return float(v) if isinstance(v, float) else int(v)


@worker_side
def samples(m):
    """Samples under no constraint and under each principle alone; an unknown one."""
    runs = {"": ()} | {str(p): (p,) for p in m.MLP_PRINCIPLES}
    drawn = {name: [_sample(m, seed, c) for seed in SAMPLE_SEEDS] for name, c in runs.items()}
    try:
        m.sample_anymlp(random.Random(0), constraints=("no_such_principle",))
        unknown = {"raised": None}
    except Exception as e:
        unknown = {"raised": type(e).__name__, "message": str(e)[:300]}
    return {"samples": drawn, "unknown": unknown}


@worker_side
def first_sample(m):
    s = _sample(m, SAMPLE_SEEDS[0])
    return m.AnyMLP(arch=tuple(map(tuple, s["arch"])), stem_width=s["stem_width"])


NETWORKS = [
    Network("AnyMLP.custom", f"AnyMLP(arch={ANYMLP_ARCH}, stem_width=32)",
            lambda m: m.AnyMLP(arch=ANYMLP_ARCH, stem_width=32), family=Family.MLP,
            structure_probe="AnyMLP.custom", extra={"arch": ANYMLP_ARCH, "stem_width": 32}),
    Network("PerfectMLP", "PerfectMLP()", lambda m: m.PerfectMLP(), family=Family.MLP,
            outputs=CONV_OUTPUT_CASES, train="ex4.PerfectMLP"),
    # built by the worker from sample_anymlp(Random(0)); the trusted side compares its
    # measured stages with the sample the worker reported
    Network("sample_anymlp.first", "AnyMLP(**sample_anymlp(random.Random(0)))", first_sample,
            family=Family.MLP, structure_probe="sample_anymlp.first"),
]
ANSWERS = {"sample_anymlp": samples}
CALIBRATION = {"ex4.PerfectMLP": "PERFECT_MLP"}
