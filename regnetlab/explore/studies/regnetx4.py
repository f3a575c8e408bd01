"""RegNetX with four stages (exercise 1): 28 -> 14 (stem) -> 7 -> 4 -> 2 -> 1.

Same band, budget and per-stage limits as the 3-stage regnetx study, so exercise 1 can
ask whether a fourth stage helps at equal complexity. The AnyNetX spaces have 3 stages,
so they are not drawn against it; the 3-stage RegNetX is set beside it in the table only
(the stage count is exactly what differs).
"""
from .. import report as r
from .regnetx import RegNetXSpace, comparable


class RegNetX4Space(RegNetXSpace):
    name = "regnetx4"
    group = "RegNetX-4"
    stages = 4
    summary = ("the RegNetX space with 4 stages (exercise 1), N networks, beside the "
               "3-stage one")
    order = 25

    def compared(self, settings, records, context, g, curves):
        three = context.found.get("regnetx")
        if three is None or "RegNetX" not in r.by_group(three[1]):
            return []
        t_settings, t_records = three
        if not comparable(settings, t_settings):
            return ["(The regnetx results were recorded with another budget or band, so "
                    "they are not set beside these.)", ""]
        g["RegNetX"] = r.by_group(t_records)["RegNetX"]
        return ["RegNetX (3 stages) comes from the regnetx study, same budget and band. "
                "Only the stage count differs, which is exercise 1's question; the figure "
                "draws the 4-stage space alone.", ""]


STUDY = RegNetX4Space()
