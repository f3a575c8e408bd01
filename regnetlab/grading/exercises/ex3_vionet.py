"""Exercise 3: the VioNet family, one member per broken principle (d2l 8.8.6, exercise 3)."""
from . import Network

ID, MODULE, RUBRIC = "ex3", "ex3_vionet", "test_ex3_vionet.py"
VIONET_CUSTOM = dict(depths=(1, 2), channels=(48, 24), stem_channels=16, groups=(8, 12),
                     bot_mul=(1, 0.5))
MEMBERS = ("d", "c", "g", "b")
MEMBER_OUTPUTS = ((3, 28, False),)


_FAMILIES = {}  # one vionet_family() call per worker: the members share it


def family(m):
    """``m.vionet_family()``, called once (after the worker's seed) and checked."""
    if id(m) not in _FAMILIES:
        fam = m.vionet_family()
        if not isinstance(fam, dict):
            raise TypeError(f"vionet_family() returned a {type(fam).__name__}, expected "
                            "a dict {'d': VioNet(...), 'c': ..., 'g': ..., 'b': ...}")
        _FAMILIES[id(m)] = fam
    return _FAMILIES[id(m)]


def member(key):
    def build(m):
        fam = family(m)
        if key not in fam:
            raise KeyError(f"vionet_family() has no member {key!r}")
        return fam[key]
    return build


def family_keys(m):
    return sorted(str(k) for k in family(m))


def mismatch(m):
    try:
        m.VioNet(depths=(4, 6, 8))
    except Exception as e:
        return {"raised": type(e).__name__, "message": str(e)[:300]}
    return {"raised": None}


NETWORKS = [
    Network("VioNet.default", "VioNet()", lambda m: m.VioNet(), structure_probe="VioNet.default"),
    Network("VioNet.custom", "VioNet(" + ", ".join(f"{k}={v}" for k, v in VIONET_CUSTOM.items())
            + ")", lambda m: m.VioNet(**VIONET_CUSTOM), structure_probe="VioNet.custom",
            extra={"args": {k: list(v) if isinstance(v, tuple) else v
                            for k, v in VIONET_CUSTOM.items()}}),
] + [Network(f"vionet_family.{k}", f"vionet_family()[{k!r}]", member(k),
             outputs=MEMBER_OUTPUTS, train="ex3.VioNet", structure_probe=f"vionet_family.{k}")
     for k in MEMBERS]
ANSWERS = {"vionet_family.keys": family_keys, "VioNet.mismatch": mismatch}
CALIBRATION = {"ex3.VioNet": "VIONET"}
