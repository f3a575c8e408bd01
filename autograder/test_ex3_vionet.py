"""Exercise 3: the VioNet family, one member per broken principle (d2l 8.8.6, exercise 3)."""
import pytest

from regnetlab.grading import checks, expect, fail
from regnetlab.grading.exercises.ex3_vionet import VIONET_CUSTOM

pytestmark = pytest.mark.exercise("ex3")

# The RegNetX32 baseline every member keeps, except for the one choice it breaks.
BASELINE = {"stem": 32, "d": (4, 6), "c": (32, 80), "g": (16, 16), "b": (1, 1)}
NAMES = {"d": "depths", "c": "widths", "g": "group widths", "b": "bottleneck ratios"}
BROKEN = {"d": "decreasing depths", "c": "decreasing widths", "g": "unshared group width",
          "b": "unshared bottleneck ratio"}
MEMBERS = tuple(BROKEN)


def choices(net):
    return {"d": checks.depths(net), "c": checks.widths(net), "g": checks.group_widths(net),
            "b": checks.bot_muls(net)}


@pytest.mark.points(3)
def test_default_is_regnetx32(ex3):
    """ex3: VioNet() is RegNetX32 (stem, depths, widths, group width, bottleneck)"""
    net = ex3.get("VioNet.default")
    checks.check_layout(net, "AnyNet")
    checks.check_stem(net, BASELINE["stem"])
    checks.check_stages(net, BASELINE["d"], BASELINE["c"])
    checks.check_block_kind(net, "resnext")
    checks.check_group_width(net, expected=16)
    checks.check_bot_mul(net, expected=1)
    checks.check_downsampling(net)


@pytest.mark.points(3)
def test_honours_arguments(ex3):
    """ex3: VioNet(depths, channels, stem_channels, groups, bot_mul) builds what they say"""
    net = ex3.get("VioNet.custom")
    call = "VioNet(" + ", ".join(f"{k}={tuple(v) if isinstance(v, list) else v}"
                                 for k, v in net["args"].items()) + ")"
    found = choices(net)
    expect(net["stem"]["out_channels"] == VIONET_CUSTOM["stem_channels"],
           f"{call}: stem has {net['stem']['out_channels']} channels; expected "
           f"{VIONET_CUSTOM['stem_channels']}")
    for key, arg in (("d", "depths"), ("c", "channels"), ("g", "groups"), ("b", "bot_mul")):
        want = tuple(VIONET_CUSTOM[arg])
        expect(found[key] == want,
               f"{call}: per-stage {NAMES[key]} {found[key]}; expected {want} "
               f"(the `{arg}` argument" + (", the group width in d2l)" if key == "g" else ")"))


@pytest.mark.points(1)
def test_refuses_mismatched_lengths(ex3):
    """ex3: VioNet refuses tuples of different lengths with a ValueError"""
    raised = ex3.get("VioNet.mismatch")
    expect(raised["raised"] == "ValueError",
           "VioNet(depths=(4, 6, 8)) with two channels, groups and bot_mul "
           + (f"raised {raised['raised']} ({raised['message']})" if raised["raised"]
              else "did not raise")
           + "; expected a ValueError saying each tuple needs one entry per stage")


@pytest.fixture(scope="module")
def family(ex3):
    keys = ex3.get("vionet_family.keys")
    expect(set(keys) == set(MEMBERS),
           f"vionet_family() has the keys {sorted(keys)}; expected exactly d, c, g, b")
    return {key: ex3.get(f"vionet_family.{key}") for key in MEMBERS}


@pytest.mark.points(2)
def test_family_members(family):
    """ex3: vionet_family() returns an AnyNet-shaped VioNet for each of d, c, g, b"""
    for key, net in family.items():
        try:
            checks.check_layout(net, "AnyNet")
        except AssertionError as e:
            fail(f"vionet_family()[{key!r}]: {e}")


@pytest.mark.points(2)
@pytest.mark.parametrize("key", MEMBERS)
def test_member_breaks_exactly_its_principle(family, key):
    """ex3: member '{key}' breaks only its principle and keeps RegNetX32's other choices"""
    net = family[key]
    broken = checks.violated_principles(net)
    found = choices(net)
    expect(key in broken,
           f"member {key!r} does not break '{BROKEN[key]}': its {NAMES[key]} are "
           f"{found[key]}")
    extra = sorted(broken - {key})
    if extra:
        fail(f"member {key!r} breaks more than '{BROKEN[key]}': also "
             + "; ".join(f"'{BROKEN[k]}' ({NAMES[k]} {found[k]})" for k in extra)
             + ". A VioNet member must break exactly one principle")
    for other in MEMBERS:
        if other != key:
            expect(found[other] == BASELINE[other],
                   f"member {key!r} changes the {NAMES[other]} to {found[other]}; "
                   f"expected RegNetX32's {BASELINE[other]}, so that only "
                   f"'{BROKEN[key]}' differs from the baseline")
    expect(net["stem"]["out_channels"] == BASELINE["stem"],
           f"member {key!r} has a stem of {net['stem']['out_channels']} channels; "
           f"expected RegNetX32's {BASELINE['stem']}")


@pytest.mark.points(1)
def test_member_outputs(ex3, family):
    """ex3: every member's logits have shape [batch, 10] and are finite"""
    for key in family:
        try:
            checks.check_outputs(ex3.get(f"vionet_family.{key}.outputs"))
        except AssertionError as e:
            fail(f"member {key!r}: {e}")


@pytest.mark.points(1)
def test_every_parameter_learns(ex3, family):
    """ex3: every parameter of each member receives a gradient (nothing frozen or detached)"""
    for key in family:
        checks.check_gradients(ex3.get(f"vionet_family.{key}.gradients"),
                               f"vionet_family()[{key!r}]")


@pytest.mark.points(1.5)
@pytest.mark.parametrize("key", MEMBERS)
def test_member_learns(ex3, thresholds, key):
    """ex3: member '{key}' learns: short training beats the calibrated accuracy"""
    checks.check_accuracy(ex3.trained(f"vionet_family.{key}.train"),
                          thresholds["ex3.VioNet"], f"vionet_family()[{key!r}]")
