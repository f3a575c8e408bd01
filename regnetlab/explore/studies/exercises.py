"""Exercises 1 and 2: RegNetX32 against a deeper RegNetX and a RegNetX of ResNet blocks."""
import numpy as np

from .. import report as r
from ..stats import mean_ci
from ..study import Study, Trial

MODELS = (("RegNetX32", "model", {"model": "RegNetX32"}),
          ("DeepRegNetX", "source", {"module": "ex1_deeper_regnetx", "class": "DeepRegNetX"}),
          ("DeResNeXt", "source", {"module": "ex2_de_resnextify", "class": "DeResNeXt"}))


class Exercises(Study):
    name = "exercises"
    summary = "exercises 1-2: RegNetX32 vs DeepRegNetX vs DeResNeXt over seeds"
    order = 50
    default_seeds = 3
    uses_source = True

    def trials(self, n, seeds, settings, source="solutions", args=None):
        seed = settings["seed"]
        return [Trial(f"{name}/s{s}", name, kind, cfg, s)
                for s in range(seed, seed + seeds) for name, kind, cfg in MODELS]

    def command_flags(self, groups):
        return [f"--seeds {len(groups.get('RegNetX32', []))}"]

    def report(self, settings, records, context):
        g = r.by_group(records)
        base = g.get("RegNetX32", [])
        lines = ["# Exercises 1 and 2: a deeper RegNetX, and RegNetX without ResNeXt blocks",
                 "", r.budget(settings, records, self) + " Recorded with "
                 + r.command(self, settings, records) + ".", "",
                 "Difference = error minus RegNetX32's on the same seed; 95% interval from "
                 "Student's t over seeds.", "",
                 "| network | n seeds | error % mean ± sd | params | MFLOPs | s / network "
                 "| difference (pp) mean ± 95% | verdict |", "|---|---|---|---|---|---|---|---|"]
        for m, _, _ in MODELS:
            if m not in g:
                continue
            e, r0 = mean_ci(r.errors(g[m])), g[m][0]
            c = r.paired_cost(g[m], base) if m != "RegNetX32" else None
            tail = ("0 | baseline |" if m == "RegNetX32" else
                    f"{100 * c['mean']:+.1f} ± {100 * c['ci95']:.1f} | {r.noise_words(c)} |"
                    if c and c["n"] > 1 else "- | one seed |")
            lines.append(f"| {m} | {e['n']} | {r.pct(e['mean'])} ± "
                         f"{r.pct(e['sd']) if e['n'] > 1 else '-'} | {r0['params']:,} | "
                         f"{r0['flops'] / 1e6:.1f} | "
                         f"{np.mean([x['wall_time_s'] for x in g[m]]):.1f} | {tail}")
        said = []
        for m in ("DeepRegNetX", "DeResNeXt"):
            c = r.paired_cost(g[m], base) if m in g and base else None
            if c and c["n"] > 1:
                e, ratio = r.errors(g[m]), g[m][0]["flops"] / base[0]["flops"]
                said.append(f"{m} errs {r.pct(np.mean(e))}% ± {r.pct(np.std(e, ddof=1))} "
                            f"(difference {100 * c['mean']:+.1f} ± {100 * c['ci95']:.1f} pp, "
                            f"{r.noise_words(c)}; its {len(e)} seeds range from "
                            f"{r.pct(min(e))}% to {r.pct(max(e))}%) with {ratio:.2f} times "
                            "RegNetX32's FLOPs")
        if said:
            b = r.errors(base)
            lines += [""] + r.snippet("finding", [
                f"**Finding.** Against RegNetX32's {r.pct(np.mean(b))}% ± "
                f"{r.pct(np.std(b, ddof=1))} (mean ± sd over {len(b)} seeds): "
                + "; ".join(said) + "."])
        return lines


STUDY = Exercises()
