"""Reports from results files, exercise modules loaded from a folder, and the solutions."""
import json
from pathlib import Path

import pytest

from regnetlab.cli import main
from regnetlab.explore import sources
from regnetlab.explore.report import make_all
from regnetlab.explore.results import make_header
from regnetlab.explore.studies import trials
from regnetlab.explore.study import build_model

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"epochs": 2, "train_images": 4000, "test_images": 2000, "batch_size": 128,
            "lr": 0.1, "recipe": "regnetlab", "seed": 0}


def write(path, study, records, settings=SETTINGS):
    lines = [make_header(study, settings)] + records
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))


def rec(key, group, err, seed=0, stages=3):
    return {"key": key, "group": group, "seed": seed, "test_error": err, "params": 1000,
            "flops": 2e6, "wall_time_s": 1.0, "device": "cpu", "diverged": False,
            "config": {"arch": [[1, 8, 1, 1.0]] * stages}}


def test_report_tables_figures_and_verdicts(tmp_path):
    res = tmp_path / "results"
    res.mkdir()
    # E is clearly better than A; B, C, D overlap A
    recs = [rec(f"{s}/{i:03d}", s, base + 0.001 * i) for s, base in
            (("A", 0.30), ("B", 0.30), ("C", 0.30), ("D", 0.30), ("E", 0.10)) for i in range(10)]
    write(res / "anynetx.jsonl", "anynetx", recs)
    write(res / "regnetx.jsonl", "regnetx", [rec(f"RegNetX/{i:03d}", "RegNetX", 0.2 + 0.001 * i)
                                             for i in range(10)], {**SETTINGS, "stages": 3})
    ex = [rec(f"{m}/s{s}", m, e + 0.01 * s, s) for s in range(3)
          for m, e in (("RegNetX32", 0.10), ("DeepRegNetX", 0.11), ("DeResNeXt", 0.20))]
    write(res / "exercises.jsonl", "exercises", ex)
    out = make_all(res, tmp_path / "summary", tmp_path / "fig")
    assert len(out) == 3
    any_md = (tmp_path / "summary" / "anynetx.md").read_text()
    assert ("Budget: 50 networks sampled with no complexity band, each trained 2 epochs on "
            "the first 4,000") in any_md
    assert "| A vs E | 10, 10 | 0.00 |" in any_md and "E better" in any_md
    assert "| A vs B | 10, 10 |" in any_md and "no significant difference" in any_md
    # each comparison says what it could have resolved: here, with 10 networks per space
    assert "| +20.0 [+19.7, +20.3] | 0.55, 0.4 | E better | E better |" in any_md
    assert ("With 10 networks per space, a one-sided KS test at the 5% level can only "
            "detect EDF gaps of D >= 0.55; the paper's 500 networks per space") in any_md
    assert "This budget cannot resolve an EDF gap smaller than 0.55" in any_md
    reg_md = (tmp_path / "summary" / "regnetx.md").read_text()
    assert "| RegNetX vs AnyNetX<sub>A</sub> | 10, 10 | 1.00 |" in reg_md
    # the paper's verdict beside ours, and the one that differs marked and said
    assert "| RegNetX better | AnyNetX<sub>E</sub> better (differs from the paper) |" in reg_md
    assert ("Where our verdict differs from the paper's (ImageNet, 4 stages, 360-400 million "
            "multiply-adds, 10 epochs): RegNetX vs AnyNetX<sub>E</sub>: ours AnyNetX<sub>E</sub>"
            " better, the paper RegNetX better. It agrees on RegNetX vs AnyNetX<sub>A</sub>.") \
        in reg_md
    assert "AnyNetX<sub>A</sub> and AnyNetX<sub>E</sub> come from the anynetx study" in reg_md
    ex_md = (tmp_path / "summary" / "exercises.md").read_text()
    # paired by seed: DeResNeXt is +10 pp on every seed (zero spread), DeepRegNetX +1 pp
    assert "| DeResNeXt | 3 | 21.0 ± 1.0 |" in ex_md
    assert "+10.0 ± 0.0 | worse, beyond noise" in ex_md
    for name in ("anynetx_edf.png", "regnetx_edf.png"):
        assert (tmp_path / "fig" / name).stat().st_size > 10_000
    # the generated sentences the docs include instead of typing numbers by hand
    assert ("**Finding.** 50 networks (n = 10 per space), sampled with no complexity band "
            "(median MFLOPs: A 2.00, B 2.00, C 2.00, D 2.00, E 2.00). Of the consecutive "
            "spaces and A against E, E better than D (D- = 1.00, p = 0.000, n = 10 + 10); E better than A "
            "(D- = 1.00, p = 0.000, n = 10 + 10); the other 3 comparisons show no "
            "significant difference.") in any_md
    assert "<!-- --8<-- [start:finding] -->" in any_md
    assert ("RegNetX's median error is 20.5% (n = 10, 3 stages, with no complexity band), against "
            "30.4% for AnyNetX<sub>A</sub> (n = 10) "
            "and 10.5% for AnyNetX<sub>E</sub> (n = 10); RegNetX better than "
            "AnyNetX<sub>A</sub> (D+ = 1.00") in reg_md
    assert "AnyNetX<sub>E</sub> better than RegNetX (D- = 1.00" in reg_md
    assert ("DeResNeXt errs 21.0% ± 1.0 (difference +10.0 ± 0.0 pp, worse, beyond noise; its 3 "
            "seeds range from 20.0% to 22.0%) with 1.00 times RegNetX32's FLOPs") in ex_md


@pytest.mark.parametrize("field", ["group", "test_error", "params", "flops", "wall_time_s",
                                   "device", "seed"])
def test_report_names_the_line_of_a_record_missing_a_field(tmp_path, capsys, field):
    res = tmp_path / "results"
    res.mkdir()
    recs = [rec(f"A/{i:03d}", "A", 0.2) for i in range(3)]
    del recs[1][field]
    write(res / "anynetx.jsonl", "anynetx", recs)
    argv = ["explore", "report", "--results", str(res), "--summary", str(tmp_path / "s"),
            "--figures", str(tmp_path / "f")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"anynetx.jsonl: line 3 (network 'A/001') has no '{field}'" in err
    assert "Traceback" not in err and not (tmp_path / "s").exists()


def test_report_names_the_line_of_a_field_with_a_bad_value(tmp_path, capsys):
    res = tmp_path / "results"
    res.mkdir()
    write(res / "anynetx.jsonl", "anynetx", [rec("A/000", "A", 0.2), rec("A/001", "A", "0.3")])
    assert main(["explore", "report", "--results", str(res), "--summary", str(tmp_path / "s"),
                 "--figures", str(tmp_path / "f")]) == 2
    assert "line 3 (network 'A/001') has 'test_error' = '0.3', expected a number from 0 to 1" \
        in capsys.readouterr().err


def test_report_refuses_an_empty_folder(tmp_path, capsys):
    assert main(["explore", "report", "--results", str(tmp_path)]) == 2
    assert "no results files" in capsys.readouterr().err


def test_a_stub_gives_a_clear_error(tmp_path):
    (tmp_path / "ex3_vionet.py").write_text(
        "def vionet_family():\n    raise NotImplementedError\n")
    with pytest.raises(sources.SourceError, match="not implemented yet"):
        trials("vionet", 1, 1, source=tmp_path)
    with pytest.raises(sources.SourceError, match="no ex4_perfect_mlp.py"):
        trials("mlp", 1, 1, source=tmp_path)


def test_modules_load_by_path_without_staying_on_sys_path(tmp_path):
    import sys
    (tmp_path / "helper_mod.py").write_text("VALUE = 41\n")
    (tmp_path / "ex9.py").write_text("from helper_mod import VALUE\nANSWER = VALUE + 1\n")
    assert sources.get(tmp_path, "ex9", "ANSWER") == 42
    assert str(tmp_path.resolve()) not in sys.path


@pytest.mark.skipif(not (ROOT / "solutions" / "ex4_perfect_mlp.py").is_file(),
                    reason="solutions/ not present")
@pytest.mark.parametrize("study", ["vionet", "mlp", "exercises"])
def test_every_trial_of_the_solution_studies_builds(study):
    import torch
    seen, todo = set(), []
    for t in trials(study, 1, 1, source=ROOT / "solutions"):
        kind = "member" if "member" in t.config else t.group
        if kind not in seen:  # one of each (a family member builds the whole family)
            seen.add(kind)
            todo.append(t)
    for t in todo:
        torch.manual_seed(t.seed)
        model = build_model(t, lr=0.05, source=ROOT / "solutions")
        assert model.lr == 0.05
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10), t.key


def test_vionet_and_mlp_reports_answer_with_n_and_noise(tmp_path):
    res = tmp_path / "results"
    res.mkdir()
    vio = []
    for s in range(4):
        vio.append(rec(f"RegNetX32/s{s}", "RegNetX32", 0.10 + 0.01 * s, s))
        vio.append(rec(f"VioNet-c/s{s}", "VioNet-c", 0.15 + 0.01 * s, s))  # +5 pp every seed
        vio.append(rec(f"VioNet-d/s{s}", "VioNet-d", 0.10 + 0.01 * (3 - s), s))  # noise
    for g, base in (("ok", 0.2), ("d", 0.2), ("c", 0.3)):
        vio += [rec(f"sampled-{g}/{i:03d}", f"sampled-{g}", base + 0.002 * i, i) for i in range(6)]
    write(res / "vionet.jsonl", "vionet", vio, {**SETTINGS, "source": "nowhere"})
    mlp = []
    for space in ("none", "all"):
        for i in range(5):
            e = 0.1 + 0.01 * i + (0.05 if space == "none" else 0)
            mlp.append(rec(f"small/{space}/{i:03d}", f"small/{space}", e, i))
            mlp.append(rec(f"large/{space}/{i:03d}", f"large/{space}", e - 0.02, i))
    mlp += [rec(f"PerfectMLP/s{s}", "PerfectMLP", 0.05, s) for s in range(3)]
    write(res / "mlp.jsonl", "mlp", mlp, {**SETTINGS, "source": "nowhere", "scale": 4})
    make_all(res, tmp_path / "summary", tmp_path / "fig")
    vio_md = (tmp_path / "summary" / "vionet.md").read_text()
    assert "| 1 | VioNet-c |" in vio_md and "+5.0 ± 0.0 | worse, beyond noise" in vio_md
    assert "| 2 | VioNet-d |" in vio_md and "within noise" in vio_md
    assert ("VioNet-c worse, beyond noise, the rest within seed-to-seed noise" in vio_md)
    assert "| c | non-decreasing widths | 6 | 30.5 | +10.0 [+9.5, +10.5] | 1.00 | 0.001 |" in vio_md
    mlp_md = (tmp_path / "summary" / "mlp.md").read_text()
    assert ("Spearman rho = 1.00 (p = 0.0000) and Kendall tau = 1.00 (p = 0.0000) between "
            "each network's error small and scaled up, n = 10 networks") in mlp_md
    assert "0 of the 10 sampled small MLPs (1k-1k parameters) have a lower error" in mlp_md
    # exact one-sided KS: 1 of the C(10, 5) = 252 orderings puts all of "all" first
    assert ("n = 5 per space, sampled with no complexity band; against the unconstrained "
            "space none: all better than none (D+ = 1.00, p = 0.004, n = 5 + 5).") in mlp_md
    assert "(95% intervals ±0.0 to ±4.1 pp with 4 seeds" in vio_md
    for name in ("vionet.png", "mlp_edf.png", "mlp_extrapolation.png"):
        assert (tmp_path / "fig" / name).stat().st_size > 10_000


def test_recorded_summaries_are_what_the_report_makes_of_the_results(tmp_path, monkeypatch):
    """results/summary/*.md (which the docs include) match results/*.jsonl: no drift."""
    monkeypatch.chdir(ROOT)  # the VioNet principles' words come from solutions/
    recorded = sorted((ROOT / "results" / "summary").glob("*.md"))
    if not recorded:
        pytest.skip("no recorded results in results/")
    make_all(ROOT / "results", tmp_path / "summary", tmp_path / "fig")
    for md in recorded:
        assert (tmp_path / "summary" / md.name).read_text() == md.read_text(), (
            f"{md} is stale: run `regnetlab explore report`")


def test_explorer_page_types_no_result_numbers_by_hand():
    """The recorded-runs section includes its numbers from results/summary, never retypes them."""
    import re
    page = (ROOT / "docs" / "explorer.md").read_text()
    section = page.split("## What the recorded runs show", 1)[1].split("\n## ", 1)[0]
    includes = re.findall(r'^--8<-- "(results/summary/[^":]+):([a-z_]+)"$', section, re.M)
    assert len(includes) >= 5
    for path, name in includes:
        assert f"[start:{name}]" in (ROOT / path).read_text(), f"{path} has no section {name}"
    prose = "\n".join(line for line in section.splitlines()
                      if not line.startswith(("--8<--", "![")))
    typed = re.findall(r"\d+\.\d+|\d+\s*%|\b[np]\s*[=<>]+\s*\d|±\s*\d|"
                       r"\d+ (?:networks|seeds|points|pp|per)", prose)
    assert not typed, f"numbers typed by hand in docs/explorer.md: {typed}"


def test_spaces_with_other_stage_counts_are_not_drawn_in_one_edf(tmp_path):
    """RegNetX is set against AnyNetX only when both have the same number of stages."""
    res = tmp_path / "results"
    res.mkdir()
    write(res / "anynetx.jsonl", "anynetx",
          [rec(f"{s}/{i:03d}", s, 0.3) for s in "AE" for i in range(4)])
    # a RegNetX file whose networks have 1 or 2 stages (as before stage counts matched)
    write(res / "regnetx.jsonl", "regnetx",
          [rec(f"RegNetX/{i:03d}", "RegNetX", 0.2, stages=1 + i % 2) for i in range(4)])
    make_all(res, tmp_path / "summary", tmp_path / "fig")
    reg_md = (tmp_path / "summary" / "regnetx.md").read_text()
    assert "are not compared here: an EDF comparison needs the same stage count" in reg_md
    assert "AnyNetX<sub>A</sub> |" not in reg_md and "vs AnyNetX" not in reg_md


def test_the_four_stage_space_is_set_beside_the_three_stage_one(tmp_path):
    res = tmp_path / "results"
    res.mkdir()
    three = {**SETTINGS, "stages": 3}
    write(res / "regnetx.jsonl", "regnetx",
          [rec(f"RegNetX/{i:03d}", "RegNetX", 0.3 + 0.001 * i) for i in range(6)], three)
    write(res / "regnetx4.jsonl", "regnetx4",
          [rec(f"RegNetX-4/{i:03d}", "RegNetX-4", 0.2 + 0.001 * i, stages=4)
           for i in range(6)], {**SETTINGS, "stages": 4})
    out = make_all(res, tmp_path / "summary", tmp_path / "fig")
    md = (tmp_path / "summary" / "regnetx4.md").read_text()
    assert md.startswith("# The RegNetX design space, 4 stages")
    assert "exactly 4 stages of 1-3 blocks" in md
    assert "| RegNetX-4 vs RegNetX | 6, 6 | 1.00 |" in md and "RegNetX-4 better" in md
    assert "Only the stage count differs" in md
    assert any("regnetx4_edf.png" in line for line in out)


def test_budget_says_which_networks_were_sampled_in_the_band(tmp_path):
    """VioNet's family runs are not in its band; only the sampled groups are."""
    res = tmp_path / "results"
    res.mkdir()
    band = {"measure": "flops", "low": 2_160_000, "high": 2_400_000, "size": 28}
    recs = [rec(f"RegNetX32/s{s}", "RegNetX32", 0.2, s) for s in range(2)]
    recs += [rec(f"VioNet-b/s{s}", "VioNet-b", 0.25, s) for s in range(2)]
    recs += [rec(f"sampled-{g}/{i:03d}", f"sampled-{g}", 0.2 + 0.01 * i, i)
             for g in ("ok", "d") for i in range(3)]
    write(res / "vionet.jsonl", "vionet", recs, {**SETTINGS, "source": "solutions",
                                                  "band": band})
    make_all(res, tmp_path / "summary", tmp_path / "fig")
    md = (tmp_path / "summary" / "vionet.md").read_text()
    assert ("Budget: 10 networks (6 of them sampled in the band 2.16-2.40 MFLOPs per 28x28 "
            "image)") in md
    assert "| - | RegNetX32 | nothing | 2 | 20.0 ± 0.0 | 1,000 | 2.0 | 0 | baseline |" in md
    assert "VioNet-b +5.0 pp" in md and "VioNet-b worse, beyond noise" in md


@pytest.mark.parametrize("vionet_error, said", [
    (0.10, "RegNetX32 is the one baseline of this budget: its 2 shared seeds give the same "
           "errors in the vionet study."),
    (0.12, "**Two baselines.** The vionet study's RegNetX32 at this budget differs on seeds 0, 1"),
])
def test_exercises_say_whether_theirs_is_the_one_regnetx32_baseline(tmp_path, vionet_error,
                                                                    said):
    res = tmp_path / "results"
    res.mkdir()
    ex = [rec(f"{m}/s{s}", m, e, s) for s in range(2)
          for m, e in (("RegNetX32", 0.10), ("DeepRegNetX", 0.11))]
    write(res / "exercises.jsonl", "exercises", ex, {**SETTINGS, "source": "solutions"})
    vio = [rec(f"RegNetX32/s{s}", "RegNetX32", vionet_error, s) for s in range(2)]
    vio += [rec(f"VioNet-b/s{s}", "VioNet-b", 0.2, s) for s in range(2)]
    write(res / "vionet.jsonl", "vionet", vio, {**SETTINGS, "source": "solutions"})
    make_all(res, tmp_path / "summary", tmp_path / "fig")
    assert said in (tmp_path / "summary" / "exercises.md").read_text()
