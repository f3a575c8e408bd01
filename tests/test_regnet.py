"""generate_regnet reproduces torchvision's RegNetX widths and depths, and pycls's rounding."""
import pytest
import torch
from torchvision.models.regnet import BlockParams

from regnetlab import RegNetX, count_params, generate_regnet
from regnetlab.regnet import REGNETX_CONFIGS, adjust_widths_groups


@pytest.mark.parametrize("name", sorted(REGNETX_CONFIGS))
def test_matches_torchvision_for_every_regnetx_model(name):
    cfg = REGNETX_CONFIGS[name]
    tv = BlockParams.from_init_params(depth=cfg.depth, w_0=cfg.w_0, w_a=cfg.w_a, w_m=cfg.w_m,
                                      group_width=cfg.group_width)
    widths, depths, gws = cfg.stages(rule="torchvision")
    assert list(widths) == tv.widths
    assert list(depths) == tv.depths
    assert list(gws) == tv.group_widths


def test_the_torchvision_configs_are_the_ones_torchvision_ships():
    import inspect

    import torchvision.models.regnet as tvr
    for name, cfg in REGNETX_CONFIGS.items():
        src = inspect.getsource(getattr(tvr, name))
        assert (f"depth={cfg.depth}, w_0={cfg.w_0}, w_a={cfg.w_a}, w_m={cfg.w_m}, "
                f"group_width={cfg.group_width}") in src


def test_400mf_last_stage_pycls_384_vs_torchvision_400():
    cfg = REGNETX_CONFIGS["regnet_x_400mf"]
    assert generate_regnet(cfg.w_0, cfg.w_a, cfg.w_m, cfg.depth).widths[-1] == 392  # 392/16 = 24.5
    assert cfg.stages("pycls")[0] == (32, 64, 160, 384)
    assert cfg.stages("torchvision")[0] == (32, 64, 160, 400)


def test_the_two_rules_agree_on_every_other_regnetx_model():
    for name, cfg in REGNETX_CONFIGS.items():
        if name != "regnet_x_400mf":
            assert cfg.stages("pycls") == cfg.stages("torchvision"), name


def test_worked_example_by_hand():
    # u_j = 24 + 36 j for j < 6: 24, 60, 96, 132, 168, 204; w_m = 2.5:
    # s_j = round(log(u_j/24)/log 2.5) = 0, 1, 2, 2, 2, 2 -> 24, 60, 150, 150, 150, 150;
    # multiples of 8: 24, 64 (60/8 = 7.5 rounds to even 8), 152 (150/8 = 18.75 -> 19).
    p = generate_regnet(w_0=24, w_a=36, w_m=2.5, depth=6)
    assert p.widths == (24, 64, 152) and p.depths == (1, 1, 4)


def test_widths_are_multiples_of_q_and_non_decreasing():
    for w_a in (0.0, 3.3, 17.0, 48.2):
        for w_m in (1.0, 1.5, 2.5, 3.0):
            p = generate_regnet(16, w_a, w_m, 13, q=8)
            assert sum(p.depths) == 13
            assert all(w % 8 == 0 for w in p.widths)
            assert list(p.widths) == sorted(p.widths)


@pytest.mark.parametrize("bad", [dict(w_0=0), dict(w_a=-1), dict(w_m=0.5), dict(depth=0),
                                 dict(depth=2.5)])
def test_bad_parameters_are_refused(bad):
    args = dict(w_0=24, w_a=36, w_m=2.5, depth=6) | bad
    with pytest.raises(ValueError, match="expected w_0 > 0"):
        generate_regnet(**args)


def test_adjust_caps_group_width_at_the_bottleneck():
    widths, gws = adjust_widths_groups((8, 64), group_width=16)
    assert gws == (8, 16) and widths == (8, 64)


def test_regnetx_builds_an_anynet_from_the_rule():
    model = RegNetX(depth=6, w_0=24, w_a=36, w_m=2.5, group_width=8)
    assert [tuple(s) for s in model.arch] == [(1, 24, 8, 1.0), (1, 64, 8, 1.0), (4, 152, 8, 1.0)]
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert count_params(model) > 0
