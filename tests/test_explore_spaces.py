"""Every sampled network obeys its design space's principles, lies in its band, and builds."""
import random
from types import SimpleNamespace

import pytest

from regnetlab import AnyNet, RegNetX
from regnetlab.explore.spaces import (ANYNETX_PRINCIPLES, DEPTHS, FLOPS_BAND, GROUP_WIDTHS,
                                      STAGES, WIDTHS, Band, SamplingError, anynet_flops,
                                      parse_band, sample_anynetx, sample_regnetx,
                                      sample_vionet)
from regnetlab.explore.studies import STUDIES, trials
from regnetlab.explore.study import build_model
from regnetlab.regnet import RegNetXConfig
from regnetlab.summary import complexity

MANY = 200


def principle_report(arch):
    """Which of the four principles ``arch`` obeys (written independently of principles.py)."""
    d = [s[0] for s in arch]
    w = [s[1] for s in arch]
    g = [s[2] for s in arch]
    k = [s[3] for s in arch]
    return {"b": min(k) == max(k), "g": min(g) == max(g), "c": w == sorted(w),
            "d": d == sorted(d)}


@pytest.mark.parametrize("space", list(ANYNETX_PRINCIPLES))
def test_anynetx_samples_obey_their_space_and_band(space):
    rng = random.Random(f"test/{space}")
    seen_violations = set()
    for _ in range(MANY):
        cfg = sample_anynetx(rng, space, FLOPS_BAND)
        arch = cfg["arch"]
        assert len(arch) == STAGES
        report = principle_report(arch)
        for c in ANYNETX_PRINCIPLES[space]:
            assert report[c], f"space {space}: {arch} breaks {c}"
        seen_violations |= {c for c, ok in report.items() if not ok}
        for d, w, gw, k in arch:
            assert d in DEPTHS and w in WIDTHS and gw in GROUP_WIDTHS
            b = int(round(w * k))
            assert b % gw == 0, f"group width {gw} does not divide bottleneck {b}"
        assert 540_000 <= anynet_flops(arch, cfg["stem_channels"]) <= 600_000
    # the principles a space does NOT impose must really be free in it
    assert set("bgcd") - set(ANYNETX_PRINCIPLES[space]) <= seen_violations


def test_the_spaces_without_a_band_differ_in_size_and_the_band_removes_it():
    """Why the band: unconstrained draws of E are smaller than A's; banded ones are not."""
    import statistics

    def median_flops(space, band):
        rng = random.Random(f"size/{space}")
        return statistics.median(anynet_flops(sample_anynetx(rng, space, band)["arch"], 16)
                                 for _ in range(300))

    assert median_flops("E", None) < 0.75 * median_flops("A", None)
    assert median_flops("E", FLOPS_BAND) == pytest.approx(median_flops("A", FLOPS_BAND),
                                                          rel=0.05)


def test_counted_flops_are_what_torch_counts():
    import torch
    rng = random.Random("flops")
    for space in ANYNETX_PRINCIPLES:
        cfg = sample_anynetx(rng, space)
        arch = tuple(tuple(s) for s in cfg["arch"])
        torch.manual_seed(0)
        assert anynet_flops(arch, 16) == complexity(AnyNet(arch, 16)).flops, arch
    cfg = sample_regnetx(rng, FLOPS_BAND)
    model = RegNetX(cfg["depth"], cfg["w_0"], cfg["w_a"], cfg["w_m"], cfg["group_width"],
                    stem_channels=cfg["stem_channels"])
    assert complexity(model).flops in FLOPS_BAND


def test_anynetx_samples_build():
    import torch
    for space in ANYNETX_PRINCIPLES:
        rng = random.Random(space)
        cfg = sample_anynetx(rng, space, FLOPS_BAND)
        torch.manual_seed(0)
        model = AnyNet([tuple(s) for s in cfg["arch"]], cfg["stem_channels"])
        model.eval()
        with torch.no_grad():
            logits = model(torch.randn(3, 1, 28, 28))
        assert logits.shape == (3, 10) and torch.isfinite(logits).all(), cfg["arch"]


def test_regnetx_samples_are_generated_small_and_in_band():
    rng = random.Random("test/regnetx")
    stages = set()
    for _ in range(MANY):
        cfg = sample_regnetx(rng, FLOPS_BAND)
        widths, depths, gws = RegNetXConfig(cfg["depth"], cfg["w_0"], cfg["w_a"], cfg["w_m"],
                                            cfg["group_width"]).stages()
        assert [[d, w, g, 1.0] for w, d, g in zip(widths, depths, gws)] == cfg["arch"]
        assert len(widths) <= STAGES and max(widths) <= max(WIDTHS)
        assert sum(depths) == cfg["depth"]
        assert widths == tuple(sorted(widths))  # RegNet widths never decrease
        assert anynet_flops(cfg["arch"], cfg["stem_channels"]) in FLOPS_BAND
        stages.add(len(widths))
    assert stages >= {2, 3}


@pytest.mark.parametrize("violate", ["ok", "d", "c", "g", "b"])
def test_vionet_samples_break_exactly_one_principle(violate):
    band = STUDIES["vionet"].band
    rng = random.Random(f"test/vionet/{violate}")
    for _ in range(MANY // 2):
        kw = sample_vionet(rng, violate, band)
        arch = list(zip(kw["depths"], kw["channels"], kw["groups"], kw["bot_mul"]))
        broken = {k for k, ok in principle_report(arch).items() if not ok}
        assert broken == (set() if violate == "ok" else {violate}), kw
        assert anynet_flops(arch, kw["stem_channels"]) in band


def test_an_impossible_band_is_a_clear_error():
    with pytest.raises(SamplingError, match="AnyNetX E: no valid network"):
        sample_anynetx(random.Random(0), "E", Band("flops", 1, 2))


@pytest.mark.parametrize("text, message", [
    ("0.6", "expected LOW,HIGH in MFLOPs"), ("a,b", "expected LOW,HIGH in MFLOPs"),
    ("0.6,0.5", "expected 0 <= low < high")])
def test_bad_bands_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_band(text, "flops")


def test_trials_are_reproducible_and_extend():
    a, b = trials("anynetx", 3, 0), trials("anynetx", 5, 0)
    assert a == trials("anynetx", 3, 0)
    assert {t.key: t for t in a}.items() <= {t.key: t for t in b}.items()
    assert len({t.key for t in b}) == len(b) == 25
    assert trials("regnetx", 3, 0, seed=1) != trials("regnetx", 3, 0, seed=0)
    assert [t.seed for t in trials("regnetx", 3, 0, seed=7)] == [7, 8, 9]


def test_band_none_samples_as_before_bands_and_says_so():
    from types import SimpleNamespace

    from regnetlab.explore.report import command
    study = STUDIES["anynetx"]
    assert "band" not in study.settings(SimpleNamespace(source="s", band="none"))
    free = trials("anynetx", 30, 0, band="none", spaces=["A"])
    assert any(anynet_flops(t.config["arch"], 16) not in FLOPS_BAND for t in free)
    settings = {"epochs": 2, "train_images": 9, "test_images": 9, "batch_size": 9, "lr": 0.1,
                "seed": 0}
    recs = [{"key": "A/000", "group": "A"}]
    assert "--n 1 --spaces A --band none --epochs 2" in command(study, settings, recs)
    banded = {**settings, "band": {"measure": "flops", "low": 1e6, "high": 2e6, "size": 28}}
    assert "--band 1,2 --epochs 2" in command(study, banded, recs)
    assert "--band" not in command(study, {**settings, "band": FLOPS_BAND.as_dict()}, recs)


def test_build_model_from_a_trial():
    t = trials("regnetx", 1, 0)[0]
    model = build_model(t, lr=0.05)
    assert model.lr == 0.05 and len(model.net) == 2 + len(t.config["arch"])


def test_unknown_space_is_refused():
    with pytest.raises(ValueError, match="expected some of A,B,C,D,E"):
        trials("anynetx", 1, 0, spaces=["F"])


def test_a_new_study_module_is_found_without_a_list(tmp_path, monkeypatch):
    """A design space is one file in regnetlab/explore/studies: nothing else to edit."""
    import sys

    import regnetlab.explore.studies as pkg
    (tmp_path / "tiny.py").write_text(
        "from regnetlab.explore.study import Study, Trial\n"
        "class Tiny(Study):\n"
        "    name, summary, default_n = 'tiny', 'one fixed model', 1\n"
        "    def trials(self, n, seeds, settings, source=None, args=None):\n"
        "        return [Trial('m/0', 'm', 'model', {'model': 'RegNetX32'}, 0)]\n"
        "    def report(self, settings, records, context):\n"
        "        return ['# tiny']\n"
        "STUDY = Tiny()\n")
    monkeypatch.setattr(pkg, "__path__", [*pkg.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "regnetlab.explore.studies.tiny", raising=False)
    found = pkg._discover()
    assert list(found)[-1] == "tiny" and {"anynetx", "regnetx"} <= set(found)
    assert found["tiny"].trials(1, 0, {})[0].key == "m/0"


@pytest.mark.parametrize("stages", [3, 4])
def test_regnetx_with_a_stage_count_keeps_exactly_that_many_shallow_stages(stages):
    """The spaces compared with AnyNetX (3 stages) and exercise 1's (4): every draw has
    exactly that many stages, each of AnyNetX's depths, and lies in the band."""
    rng = random.Random(f"test/regnetx/{stages}")
    depths_seen = set()
    for _ in range(MANY):
        cfg = sample_regnetx(rng, FLOPS_BAND, stages)
        assert len(cfg["arch"]) == stages
        assert all(1 <= d <= max(DEPTHS) for d, *_ in cfg["arch"])
        assert anynet_flops(cfg["arch"], cfg["stem_channels"]) in FLOPS_BAND
        depths_seen |= {tuple(d for d, *_ in cfg["arch"])}
    assert len(depths_seen) > 3  # the rule still chooses the depths


@pytest.mark.parametrize("bad", [0, 5, 2.5, True, "3"])
def test_regnetx_refuses_a_stage_count_it_cannot_build(bad):
    with pytest.raises(ValueError, match=r"stages=.*expected a whole number from 1 to 4"):
        sample_regnetx(random.Random(0), FLOPS_BAND, bad)


def test_the_regnetx_studies_record_their_stage_count():
    for name, stages in (("regnetx", 3), ("regnetx4", 4)):
        ts = trials(name, 3, 0)
        assert ts[0].key.startswith(STUDIES[name].group + "/")
        assert all(len(t.config["arch"]) == stages for t in ts), name
        assert STUDIES[name].settings(SimpleNamespace(band=None, source="solutions"))[
            "stages"] == stages
