"""One colour per design space (and per fixed network), for every figure of the site.

The chapter's figures (docs/scripts/figures.py) draw with these colours, and the
explorer's figures (regnetlab/explore/report.py) should too, so that AnyNetX A is the
same blue on every figure. The library cannot import from docs/, so this file is kept
importable on its own (no imports) and is meant to move to ``regnetlab/explore/palette.py``
unchanged; until then the explorer's copy must stay identical (tests/test_docs.py checks
it when that module exists).

``color(name)`` refuses a name it does not know: a new design space gets its colour here,
once, rather than whatever matplotlib's colour cycle gives it on one figure.
"""

# The AnyNetX spaces and RegNetX (chapter, anynetx and regnetx studies).
SPACES = {
    "A": "#4e79a7",        # blue
    "B": "#f28e2b",        # orange
    "C": "#e15759",        # red
    "D": "#76b7b2",        # teal
    "E": "#59a14f",        # green
    "RegNetX": "#b07aa1",  # purple
}
# Fixed networks trained over seeds (exercises and vionet studies).
NETWORKS = {
    "RegNetX32": "#222222",
    "DeepRegNetX": "#9c755f",
    "DeResNeXt": "#ff9da7",
    "PerfectMLP": "#222222",
}
# Exercise 3: the principle a VioNet member or a sampled group breaks ("ok": none).
VIONET = {
    "ok": "#666666",
    "d": "#d95f02",
    "c": "#7570b3",
    "g": "#e7298a",
    "b": "#66a61e",
}
# Exercise 4: the MLP design spaces, by the constraint they add.
MLP = {
    "none": "#1b9e77",
    "shared_bottleneck": "#a6761d",
    "increasing_widths": "#e6ab02",
    "increasing_depths": "#386cb0",
    "all": "#f0027f",
}
# Synthetic illustrations (the EDF reading guide): greys, so that no real space is implied.
SYNTHETIC = {
    "X": "#3c3c3c",
    "Y": "#9a9a9a",
}

ALIASES = {"AnyNetXA": "A", "AnyNetXB": "B", "AnyNetXC": "C", "AnyNetXD": "D",
           "AnyNetXE": "E"}


def color(name):
    """The colour of a design space or network, by the name the results files use.

    Accepts the explorer's group names: ``"A"`` or ``"AnyNetXA"``, ``"RegNetX32"``,
    ``"VioNet-d"`` and ``"sampled-d"`` (the principle broken), ``"small/none"`` and
    ``"large/none"`` (the MLP space).
    """
    name = ALIASES.get(name, name)
    for table in (SPACES, NETWORKS):
        if name in table:
            return table[name]
    for prefix in ("VioNet-", "sampled-"):
        if name.startswith(prefix) and name[len(prefix):] in VIONET:
            return VIONET[name[len(prefix):]]
    mlp = name.split("/", 1)[-1]
    if mlp in MLP:
        return MLP[mlp]
    if name in SYNTHETIC:
        return SYNTHETIC[name]
    raise KeyError(f"no colour for {name!r}: add it to the palette "
                   "(docs/scripts/palette.py) so that it has one colour on every figure")
