"""The RegNetX design principles of d2l 8.8.3, defined once.

The chapter narrows AnyNetX to RegNetX with four rules about a network's stages, each
stage being (depth d_i, width c_i, group width g_i, bottleneck ratio k_i):

- ``d``: non-decreasing depths, d_1 <= d_2 <= ...
- ``c``: non-decreasing widths, c_1 <= c_2 <= ...
- ``g``: one shared group width, g_i = g
- ``b``: one shared bottleneck ratio, k_i = k (the book's b_i)

The grader's checks (which principle a measured network breaks), the explorer's samplers
(which constraints a design space imposes) and exercise 4's MLP principles all use these
predicates, so "obeys a principle" means the same thing everywhere.
"""
from typing import NamedTuple

PRINCIPLES = {"d": "non-decreasing depths", "c": "non-decreasing widths",
              "g": "shared group width", "b": "shared bottleneck ratio"}

# Exercise 4 carries three of them over to MLPs (an MLP has no groups), under these names.
MLP_PRINCIPLES = {"shared_bottleneck": "b", "increasing_widths": "c",
                  "increasing_depths": "d"}


class Design(NamedTuple):
    """Per-stage choices of one network; ``group_widths`` is None for an MLP."""
    depths: tuple
    widths: tuple
    group_widths: tuple | None
    bot_muls: tuple

    @classmethod
    def from_arch(cls, arch):
        """From AnyNet's ``((d, c, g, k), ...)`` or AnyMLP's ``((d, w, k), ...)``."""
        stages = [tuple(s) for s in arch]
        if stages and len(stages[0]) == 3:
            d, c, k = zip(*stages)
            return cls(d, c, None, k)
        d, c, g, k = zip(*stages) if stages else ((), (), (), ())
        return cls(d, c, g, k)


def non_decreasing(values):
    values = tuple(values)
    return None not in values and all(b >= a for a, b in zip(values, values[1:]))


def shared(values):
    values = tuple(values)
    return None not in values and len(set(values)) <= 1


def holds(key, design):
    """Whether ``design`` obeys principle ``key`` (one of d, c, g, b)."""
    if key == "d":
        return non_decreasing(design.depths)
    if key == "c":
        return non_decreasing(design.widths)
    if key == "g":
        return design.group_widths is None or shared(design.group_widths)
    if key == "b":
        return shared(design.bot_muls)
    raise ValueError(f"principle {key!r}: expected one of {', '.join(PRINCIPLES)}")


def violated(design):
    """The set of principles (keys of ``PRINCIPLES``) that ``design`` breaks."""
    return {key for key in PRINCIPLES if not holds(key, design)}


def mlp_holds(name, arch):
    """Whether an AnyMLP ``arch`` obeys the exercise-4 principle called ``name``."""
    if name not in MLP_PRINCIPLES:
        raise ValueError(f"MLP principle {name!r}: expected one of "
                         f"{', '.join(MLP_PRINCIPLES)}")
    return holds(MLP_PRINCIPLES[name], Design.from_arch(arch))
