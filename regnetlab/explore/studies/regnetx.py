"""The RegNetX space: networks drawn through generate_regnet, against AnyNetX A and E."""
import numpy as np

from .. import report as r
from ..spaces import FLOPS_BAND, sample_regnetx
from ..study import Study, Trial, band_of, rng


class RegNetXSpace(Study):
    name = "regnetx"
    summary = "the RegNetX space sampled through generate_regnet, N networks"
    order = 20
    default_n = 40
    band = FLOPS_BAND

    def trials(self, n, seeds, settings, source="solutions", args=None):
        band, seed = band_of(settings), settings["seed"]
        return [Trial(f"RegNetX/{i:03d}", "RegNetX", "regnetx",
                      sample_regnetx(rng(seed, self.name, i), band), seed + i)
                for i in range(n)]

    def command_flags(self, groups):
        return [f"--n {len(groups.get('RegNetX', []))}"]

    def report(self, settings, records, context):
        g = r.by_group(records)
        curves = {"RegNetX": r.errors(g["RegNetX"])} if "RegNetX" in g else {}
        lines = ["# The RegNetX design space", "", r.budget(settings, records, self)
                 + " Recorded with " + r.command(self, settings, records) + ".", ""]
        anynetx = context.found.get("anynetx")
        if anynetx is not None:
            a_settings, a_records = anynetx
            if a_settings == settings:  # same budget and band: comparable
                ga = r.by_group(a_records)
                for s in ("A", "E"):
                    if s in ga:
                        g[f"AnyNetX{s}"] = ga[s]
                        curves[f"AnyNetX{s}"] = r.errors(ga[s])
                lines += ["AnyNetX A and E come from the anynetx study, same budget and "
                          "band.", ""]
            else:
                lines += ["(The anynetx results were recorded with another budget or band, "
                          "so they are not compared here.)", ""]
        lines += [r.GROUP_HEADER] + [r.group_row(k, v) for k, v in g.items()]
        pairs = [("RegNetX", "AnyNetXA"), ("RegNetX", "AnyNetXE")]
        lines += ["", "Dominance (as in the anynetx table):", ""]
        lines += r.dominance_rows(pairs, g)
        med = {k: r.pct(np.median(r.errors(v))) for k, v in g.items()}
        others = [k for k in g if k != "RegNetX"]
        results = r.compare([("RegNetX", k) for k in others], g)
        if "RegNetX" in g:
            lines += [""] + r.snippet("finding", [
                f"**Finding.** RegNetX's median error is {med['RegNetX']}% (n = "
                f"{len(g['RegNetX'])}, {r.band_words(settings)})" + (", against " + " and ".join(
                    f"{med[k]}% for {k} (n = {len(g[k])})" for k in others)
                    + "; " + r.dominance_finding(results, "comparison") if results else "")
                + "."])
            said = r.resolution_sentence(g, ["RegNetX", *others], pairs)
            if said and others:
                lines += [""] + r.snippet("resolution", [said])
        figure = context.figure("regnetx_edf.png") if curves else None
        if figure:
            shown = [x for v in g.values() for x in v]  # RegNetX plus AnyNetX A and E
            r.plot_edfs(figure, curves, "RegNetX vs AnyNetX A and E, "
                        + r.band_words(settings).replace("in the band ", ""),
                        r.short_budget(settings, shown))
        return lines


STUDY = RegNetXSpace()
