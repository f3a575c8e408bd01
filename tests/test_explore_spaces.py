"""Every sampled network obeys its design space's constraints and builds."""
import random

import pytest

from regnetlab import AnyNet, RegNetX
from regnetlab.explore.spaces import (ANYNETX_CONSTRAINTS, DEPTHS, GROUP_WIDTHS, STAGES,
                                      WIDTHS, sample_anynetx, sample_regnetx, sample_vionet)
from regnetlab.explore.studies import build_model, trials
from regnetlab.regnet import RegNetXConfig

MANY = 400


def constraint_report(arch):
    """Which of the four AnyNetX constraints ``arch`` satisfies (written independently)."""
    d = [s[0] for s in arch]
    w = [s[1] for s in arch]
    g = [s[2] for s in arch]
    k = [s[3] for s in arch]
    return {"shared_bot_mul": min(k) == max(k), "shared_groups": min(g) == max(g),
            "increasing_widths": w == sorted(w), "increasing_depths": d == sorted(d)}


@pytest.mark.parametrize("space", list(ANYNETX_CONSTRAINTS))
def test_anynetx_samples_obey_their_space(space):
    rng = random.Random(f"test/{space}")
    seen_violations = set()
    for _ in range(MANY):
        cfg = sample_anynetx(rng, space)
        arch = cfg["arch"]
        assert len(arch) == STAGES
        report = constraint_report(arch)
        for c in ANYNETX_CONSTRAINTS[space]:
            assert report[c], f"space {space}: {arch} breaks {c}"
        seen_violations |= {c for c, ok in report.items() if not ok}
        for d, w, gw, k in arch:
            assert d in DEPTHS and w in WIDTHS and gw in GROUP_WIDTHS
            b = int(round(w * k))
            assert b % gw == 0, f"group width {gw} does not divide bottleneck {b}"
    # the constraints a space does NOT impose must really be free in it
    free = {"shared_bot_mul", "shared_groups", "increasing_widths",
            "increasing_depths"} - set(ANYNETX_CONSTRAINTS[space])
    assert free <= seen_violations


def test_anynetx_samples_build():
    import torch
    for space in ANYNETX_CONSTRAINTS:
        rng = random.Random(space)
        for _ in range(2):
            cfg = sample_anynetx(rng, space)
            torch.manual_seed(0)
            model = AnyNet([tuple(s) for s in cfg["arch"]], cfg["stem_channels"])
            model.eval()
            with torch.no_grad():
                logits = model(torch.randn(3, 1, 28, 28))
            assert logits.shape == (3, 10), f"space {space}: {cfg['arch']}"
            assert torch.isfinite(logits).all(), f"space {space}: {cfg['arch']}"


def test_regnetx_samples_are_generated_and_small():
    rng = random.Random("test/regnetx")
    stages = set()
    for i in range(MANY):
        cfg = sample_regnetx(rng)
        widths, depths, gws = RegNetXConfig(cfg["depth"], cfg["w_0"], cfg["w_a"], cfg["w_m"],
                                            cfg["group_width"]).stages()
        assert [[d, w, g, 1.0] for w, d, g in zip(widths, depths, gws)] == cfg["arch"]
        assert len(widths) <= STAGES and max(widths) <= max(WIDTHS)
        assert sum(depths) == cfg["depth"]
        assert widths == tuple(sorted(widths))  # RegNet widths never decrease
        stages.add(len(widths))
        if i < 2:
            RegNetX(cfg["depth"], cfg["w_0"], cfg["w_a"], cfg["w_m"], cfg["group_width"],
                    stem_channels=cfg["stem_channels"])
    assert stages >= {2, 3}


@pytest.mark.parametrize("violate", ["ok", "d", "c", "g", "b"])
def test_vionet_samples_break_exactly_one_principle(violate):
    rng = random.Random(f"test/vionet/{violate}")
    for _ in range(MANY):
        kw = sample_vionet(rng, violate)
        (d1, d2), (c1, c2) = kw["depths"], kw["channels"]
        (g1, g2), (k1, k2) = kw["groups"], kw["bot_mul"]
        broken = {key for key, bad in (("d", d1 > d2), ("c", c1 > c2), ("g", g1 != g2),
                                       ("b", k1 != k2)) if bad}
        assert broken == (set() if violate == "ok" else {violate}), kw


def test_trials_are_reproducible_and_extend():
    a, b = trials("anynetx", 3, 0), trials("anynetx", 5, 0)
    assert a == trials("anynetx", 3, 0)
    assert {t.key: t for t in a}.items() <= {t.key: t for t in b}.items()
    assert len({t.key for t in b}) == len(b) == 25
    assert trials("regnetx", 3, 0, seed=1) != trials("regnetx", 3, 0, seed=0)


def test_build_model_from_a_trial():
    t = trials("regnetx", 1, 0)[0]
    model = build_model(t, lr=0.05)
    assert model.lr == 0.05 and len(model.net) == 2 + len(t.config["arch"])


def test_unknown_space_is_refused():
    with pytest.raises(ValueError, match="expected some of A,B,C,D,E"):
        trials("anynetx", 1, 0, spaces=["F"])
