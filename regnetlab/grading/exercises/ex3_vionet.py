"""Exercise 3: the VioNet family, one member per broken principle (d2l 8.8.6, exercise 3).

Worker side: each network's ``build`` and the ``@worker_side`` functions (the
``ANSWERS``); the rest is data.
"""
from . import Network, worker_side

ID, MODULE, RUBRIC = "ex3", "ex3_vionet", "test_ex3_vionet.py"
VIONET_CUSTOM = dict(depths=(1, 2), channels=(48, 24), stem_channels=16, groups=(8, 12),
                     bot_mul=(1, 0.5))
MEMBERS = ("d", "c", "g", "b")
MEMBER_OUTPUTS = ((3, 28, False),)


_VIONET_FAMILIES = {}  # one vionet_family() call per worker: the members share it


@worker_side
def vionet_family(m):
    """``m.vionet_family()``, called once (after the worker's seed) and checked."""
    if id(m) not in _VIONET_FAMILIES:
        fam = m.vionet_family()
        if not isinstance(fam, dict):
            raise TypeError(f"vionet_family() returned a {type(fam).__name__}, expected "
                            "a dict {'d': VioNet(...), 'c': ..., 'g': ..., 'b': ...}")
        _VIONET_FAMILIES[id(m)] = fam
    return _VIONET_FAMILIES[id(m)]


def member(key):
    @worker_side
    def build(m):
        fam = vionet_family(m)
        if key not in fam:
            raise KeyError(f"vionet_family() has no member {key!r}")
        return fam[key]
    return build


@worker_side
def family_keys(m):
    return sorted(str(k) for k in vionet_family(m))


@worker_side
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
