"""AnyNetX A to E: each space adds one RegNetX principle to the one before (paper, sec. 3)."""
import numpy as np

from .. import report as r
from ..spaces import (ANYNETX_PRINCIPLES, DEPTHS, FLOPS_BAND, GROUP_WIDTHS, STAGES,
                      STEM_CHANNELS, WIDTHS, sample_anynetx)
from ..study import Study, Trial, band_of, rng

SPACES = tuple(ANYNETX_PRINCIPLES)
RESTRICTION = (f"Spaces: every network has exactly {STAGES} stages of 1-{max(DEPTHS)} blocks, "
               f"widths {min(WIDTHS)}-{max(WIDTHS)} (multiples of 8), k in "
               "{1, 1/2, 1/4} (bottleneck ratio b = 1/k in {1, 2, 4}), group widths "
               f"{', '.join(map(str, GROUP_WIDTHS))}, a {STEM_CHANNELS}-channel stem; "
               "A is free, B to E add one principle each.")


class AnyNetX(Study):
    name = "anynetx"
    summary = "AnyNetX spaces A..E (each adds one constraint), N networks each"
    order = 10
    default_n = 20
    band = FLOPS_BAND

    def add_arguments(self, p):
        p.add_argument("--spaces", default=None,
                       help="anynetx only: some of the spaces, e.g. A,E (default A..E)")

    def trials(self, n, seeds, settings, source="solutions", args=None):
        spaces = getattr(args, "spaces", None) or SPACES
        if isinstance(spaces, str):
            spaces = spaces.split(",")
        band, seed = band_of(settings), settings["seed"]
        out = []
        for space in spaces:
            if space not in ANYNETX_PRINCIPLES:
                raise ValueError(f"--spaces {space!r}: expected some of {','.join(SPACES)}")
            for i in range(n):
                out.append(Trial(f"{space}/{i:03d}", space, "anynet",
                                 sample_anynetx(rng(seed, self.name, space, i), space, band),
                                 seed + i))
        return out

    def command_flags(self, groups):
        flags = [f"--n {max((len(v) for v in groups.values()), default=0)}"]
        if set(groups) != set(SPACES):
            flags.append("--spaces " + ",".join(sorted(groups)))
        return flags

    def report(self, settings, records, context):
        g = r.by_group(records)
        spaces = [s for s in SPACES if s in g]
        pairs = list(zip(SPACES, SPACES[1:])) + [("A", "E")]
        lines = ["# AnyNetX design spaces A to E", "",
                 r.budget(settings, records, self) + " Recorded with "
                 + r.command(self, settings, records) + ".", "", RESTRICTION, "",
                 r.GROUP_HEADER]
        lines += [r.group_row(s, g[s]) for s in spaces]
        lines += ["", "Dominance, consecutive spaces (one-sided two-sample KS with exact "
                  "p-values; D+ > 0 where the first space's EDF lies above, i.e. more of its "
                  "networks reach low error). *Resolvable*: the smallest D significant at 5% "
                  "with these n, and the smallest mean difference found with 80% power.", ""]
        lines += r.dominance_rows(pairs, g)
        flops = ", ".join(f"{s} {np.median([x['flops'] for x in g[s]]) / 1e6:.2f}"
                          for s in spaces)
        lines += [""] + r.snippet("finding", [
            f"**Finding.** {len(records)} networks ({r.sizes(g, spaces, 'space')}), sampled "
            f"{r.band_words(settings)} (median MFLOPs: {flops}). Of the consecutive spaces "
            f"and A against E, {r.dominance_finding(r.compare(pairs, g), 'pair')}."])
        said = r.resolution_sentence(g, spaces, pairs)
        if said:
            lines += [""] + r.snippet("resolution", [said])
        said = r.paper_sentence(pairs, g)
        if said:
            lines += [""] + r.snippet("paper", [said])
        figure = context.figure("anynetx_edf.png")
        if figure:
            r.plot_edfs(figure, {s: r.errors(g[s]) for s in spaces},
                        f"AnyNetX A to E, {r.band_words(settings).replace('in the band ', '')}",
                        r.short_budget(settings, records))
        return lines


STUDY = AnyNetX()
