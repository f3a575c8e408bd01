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
        lines += self.same_baseline(settings, base, context)
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


    @staticmethod
    def same_baseline(settings, base, context):
        """One RegNetX32 baseline per budget: say whether the vionet study's RegNetX32 runs
        at this budget are the same runs, seed by seed, as ours."""
        vionet = context.found.get("vionet")
        if vionet is None or not base:
            return []
        v_settings, v_records = vionet
        if any(v_settings.get(k) != settings.get(k) for k in TRAINING):
            return []
        theirs = {x["seed"]: x["test_error"] for x in v_records if x["group"] == "RegNetX32"}
        shared = [x for x in base if x["seed"] in theirs]
        if not shared:
            return []
        differ = [x["seed"] for x in shared if abs(x["test_error"] - theirs[x["seed"]]) > 1e-9]
        if not differ:
            return ["", f"RegNetX32 is the one baseline of this budget: its {len(shared)} "
                    "shared seeds give the same errors in the vionet study."]
        return ["", f"**Two baselines.** The vionet study's RegNetX32 at this budget differs on "
                f"seed{'s' * (len(differ) > 1)} {', '.join(map(str, differ))} "
                "(the files were recorded with different software); compare each exercise "
                "only with the baseline in its own file."]


# The settings that fix how a network is trained (the rest say what was sampled).
TRAINING = ("epochs", "train_images", "test_images", "batch_size", "lr", "recipe", "seed")

STUDY = Exercises()
