"""The RegNetX space: networks drawn through generate_regnet, against AnyNetX A and E.

Compared like for like: the same complexity band and budget as the anynetx study, and
exactly its 3 stages of 1-3 blocks (draws that generate fewer stages or deeper ones are
redrawn), so RegNetX here is a subset of AnyNetX's space as in the paper.
"""
import numpy as np

from .. import report as r
from ..spaces import FLOPS_BAND, sample_regnetx
from ..study import Study, Trial, band_of, rng


def stage_counts(records):
    """The set of stage counts of recorded AnyNet/RegNetX networks."""
    return {len(x["config"]["arch"]) for x in records}


def comparable(settings, other):
    """True when ``other``'s settings fix the same budget and band (a ``stages`` entry,
    which the anynetx study does not record, is compared on the networks instead)."""
    strip = {k: v for k, v in settings.items() if k != "stages"}
    return strip == {k: v for k, v in other.items() if k != "stages"}


class RegNetXSpace(Study):
    name = "regnetx"
    group = "RegNetX"
    stages = 3
    summary = "the RegNetX space (3 stages) sampled through generate_regnet, N networks"
    order = 20
    default_n = 40
    band = FLOPS_BAND

    def settings(self, args):
        return {**super().settings(args), "stages": self.stages}

    def trials(self, n, seeds, settings, source="solutions", args=None):
        band, seed = band_of(settings), settings["seed"]
        stages = settings.get("stages")  # files recorded before it existed: up to 3
        return [Trial(f"{self.group}/{i:03d}", self.group, "regnetx",
                      sample_regnetx(rng(seed, self.name, i), band, stages), seed + i)
                for i in range(n)]

    def command_flags(self, groups):
        return [f"--n {len(groups.get(self.group, []))}"]

    def restriction(self, settings):
        s = settings.get("stages")
        return ("Space: RegNetX's five numbers (depth 3-9 blocks, w_0 in {8, 16, 24, 32}, "
                "w_a 2-24, w_m 1.5-3, group width 1-16) with k = 1 (b = 1), widths <= 64"
                + (f"; only draws that generate exactly {s} stage{'s' * (s > 1)} of 1-3 "
                   "blocks each are kept (stage depths need not grow)." if s else
                   "; draws of 1 to 3 stages kept (recorded before stage counts were "
                   "matched)."))

    def report(self, settings, records, context):
        g = r.by_group(records)
        me = self.group
        curves = {me: r.errors(g[me])} if me in g else {}
        lines = [f"# The RegNetX design space, {self.stages} stages", "",
                 r.budget(settings, records, self) + " Recorded with "
                 + r.command(self, settings, records) + ".", "", self.restriction(settings), ""]
        lines += self.compared(settings, records, context, g, curves)
        lines += [r.GROUP_HEADER] + [r.group_row(k, v) for k, v in g.items()]
        others = [k for k in g if k != me]
        pairs = [(me, k) for k in others]
        if pairs:
            lines += ["", "Dominance (as in the anynetx table):", ""]
            lines += r.dominance_rows(pairs, g)
        med = {k: r.pct(np.median(r.errors(v))) for k, v in g.items()}
        results = r.compare(pairs, g)
        if me in g:
            lines += [""] + r.snippet("finding", [
                f"**Finding.** {me}'s median error is {med[me]}% (n = "
                f"{len(g[me])}, {self.stages} stages, {r.band_words(settings)})"
                + (", against " + " and ".join(
                    f"{med[k]}% for {k} (n = {len(g[k])})" for k in others)
                    + "; " + r.dominance_finding(results, "comparison") if results else "")
                + "."])
            said = r.resolution_sentence(g, [me, *others], pairs)
            if said and others:
                lines += [""] + r.snippet("resolution", [said])
            said = r.paper_sentence(pairs, g)
            if said:
                lines += [""] + r.snippet("paper", [said])
        figure = context.figure(f"{self.name}_edf.png") if curves else None
        if figure:
            shown = [x for k in curves for x in g[k]]
            r.plot_edfs(figure, curves, f"{' vs '.join(curves)}, {self.stages} stages,\n"
                        + r.band_words(settings).replace("in the band ", ""),
                        r.short_budget(settings, shown))
        return [r.shown(line) for line in lines]

    def compared(self, settings, records, context, g, curves):
        """Add AnyNetX A and E to ``g`` and ``curves`` when they are like for like."""
        anynetx = context.found.get("anynetx")
        if anynetx is None:
            return []
        a_settings, a_records = anynetx
        if not comparable(settings, a_settings):
            return ["(The anynetx results were recorded with another budget or band, so "
                    "they are not compared here.)", ""]
        if stage_counts(a_records) != stage_counts(records) or len(stage_counts(records)) != 1:
            return [f"(The anynetx networks have {sorted(stage_counts(a_records))} stages "
                    f"and these {sorted(stage_counts(records))}, so they are not compared "
                    "here: an EDF comparison needs the same stage count.)", ""]
        ga = r.by_group(a_records)
        for s in ("A", "E"):
            if s in ga:
                g[f"AnyNetX{s}"] = ga[s]
                curves[f"AnyNetX{s}"] = r.errors(ga[s])
        return [f"AnyNetXA and AnyNetXE come from the anynetx study: same budget, same "
                f"band, {self.stages} stages.", ""]


STUDY = RegNetXSpace()
