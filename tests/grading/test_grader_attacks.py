"""Hostile submissions get the score they deserve, and nothing else happens.

Each round grades a copy of the reference solutions with some modules replaced by an
attack from ``tests/grader_attacks/`` (see its README), on a *disposable copy* of the
checkout: the attacks aim at that copy's files, so even a broken sandbox could not harm
the real one. The attacks that reach for other processes or for files outside the
worker's view run only where the sandbox isolates the worker (PID, mount and network
namespaces); every round then checks that no process of the attack is left.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_grader import REPO, SOLUTIONS, failed

from regnetlab.grading.sandbox import isolation_levels

ATTACKS = Path(__file__).parent / "grader_attacks"
MODULES = {"ex1": "ex1_deeper_regnetx", "ex2": "ex2_de_resnextify", "ex3": "ex3_vionet",
           "ex4": "ex4_perfect_mlp"}
MARKER = b"regnetlab-attack"
ISOLATED = {"pid-namespace", "mount-namespace", "net-namespace"} <= set(isolation_levels())
needs_isolation = pytest.mark.skipif(
    not ISOLATED, reason="this machine runs workers without namespaces; hostile "
    "submissions that reach for other processes and files are not run here")

EX1_ALL = {"test_builds_as_anynet", "test_four_stages", "test_resnext_blocks_with_shortcuts",
           "test_downsampling", "test_shared_group_width", "test_shared_bottleneck",
           "test_widths_non_decreasing", "test_depths_non_decreasing", "test_outputs",
           "test_flop_budget", "test_every_parameter_learns"}
EX2_DERESNEXT = {"test_builds", "test_residual_blocks", "test_downsampling",
                 "test_shortcuts", "test_regnetx32_layout", "test_outputs",
                 "test_every_parameter_learns"}
EX2_ALL = EX2_DERESNEXT | {"test_de_anynet_builds_other_archs"}
EX3_ALL = {"test_default_is_regnetx32", "test_honours_arguments",
           "test_refuses_mismatched_lengths", "test_family_members", "test_member_outputs",
           "test_every_parameter_learns"} | {
    f"test_member_breaks_exactly_its_principle[{k}]" for k in "dcgb"}
EX4_PERFECT = {"test_no_convolutions", "test_residual_blocks",
               "test_perfect_follows_principles", "test_outputs",
               "test_every_parameter_learns"}

# attack -> the rubric lines it must lose (with --no-train; training lines are skipped)
EXPECTED = {
    "ex1__forged_answers": EX1_ALL,      # no model: forged files are not believed
    "ex1__left_behind": set(),           # a correct model; its daemon dies with the worker
    "ex1__attacks_others": set(),        # a correct model; it sees no other process
    "ex2__reads_solutions": EX2_ALL,     # the checkout is not in the worker's view
    "ex2__custom_op": EX2_DERESNEXT,     # refused by name; DeAnyNet(arch) is still fine
    "ex3__reads_labels": EX3_ALL,        # the data folder is not in the worker's view
    "ex3__floods_output": EX3_ALL,       # junk in the output folder voids the exercise
    "ex4__disguised_conv": EX4_PERFECT,  # as_strided is refused by name
    "ex4__mmap_writes": set(),           # a correct model; every write fails
}
ROUNDS = {
    "plain": ["ex1__forged_answers", "ex2__custom_op", "ex4__disguised_conv"],
    "reaching-out": ["ex1__left_behind", "ex2__reads_solutions", "ex3__reads_labels",
                     "ex4__mmap_writes"],
    "flood": ["ex3__floods_output"],
}
REACHING_OUT = {"ex1__left_behind", "ex2__reads_solutions", "ex3__reads_labels",
                "ex4__mmap_writes", "ex1__attacks_others"}


def disposable_repo(tmp_path):
    """A copy of the checkout's package, grader tests and solutions to grade from."""
    repo = tmp_path / "repo"
    for part in ("regnetlab", "autograder", "solutions", "exercises"):
        shutil.copytree(REPO / part, repo / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return repo


def attack_source(name, repo, results, data):
    exercise, _ = name.split("__")
    text = (ATTACKS / f"{MODULES[exercise]}__{name.split('__')[1]}.py").read_text()
    text = (text.replace("__REPO__", str(repo)).replace("__RESULTS__", str(results))
            .replace("__DATA__", str(data or "")))
    if text.startswith("# APPEND TO REFERENCE"):
        text = (SOLUTIONS / f"{MODULES[exercise]}.py").read_text() + "\n\n" + text
    return text


def hashes(folder):
    return {str(p): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def attack_processes():
    """Processes whose command line carries an attack's marker."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and MARKER in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def grade_in(repo, target, cwd, *args, timeout=900):
    out = cwd / "results.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(repo))
    proc = subprocess.run([sys.executable, "-m", "regnetlab", "grade", str(target),
                           "--tier", "cpu", "--json", str(out), *args],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    assert out.is_file(), f"no results written (exit {proc.returncode}):\n{output[-3000:]}"
    return json.loads(out.read_text()), output


def run_round(tmp_path, names, data_root=None, args=("--no-train",)):
    repo = disposable_repo(tmp_path)
    cwd = tmp_path / "grading"
    cwd.mkdir()
    sub = tmp_path / "submission"
    sub.mkdir()
    for path in SOLUTIONS.glob("ex*.py"):
        shutil.copyfile(path, sub / path.name)
    for name in names:
        (sub / f"{MODULES[name.split('__')[0]]}.py").write_text(
            attack_source(name, repo, cwd / "results.json", data_root))
    before = hashes(repo), hashes(sub)
    result, output = grade_in(repo, sub, cwd, *args)
    return result, output, repo, sub, cwd, before


def check(result, names):
    attacked = {n.split("__")[0]: n for n in names}
    for ex in MODULES:
        want = EXPECTED[attacked[ex]] if ex in attacked else set()
        assert failed(result, ex) == want, (
            f"{attacked.get(ex, ex + ' (reference)')}: lost {sorted(failed(result, ex))}, "
            f"expected {sorted(want)}; messages: " + json.dumps(
                [t["message"] for t in result["tests"]
                 if t["exercise"] == ex and t["status"] == "failed"], indent=1))


def test_every_attack_is_graded():
    graded = {n for names in ROUNDS.values() for n in names}
    assert graded | {"ex1__attacks_others"} == set(EXPECTED)
    assert {p.stem.replace(f"{MODULES[p.stem.split('_')[0]]}__",
                           p.stem.split("_")[0] + "__")
            for p in ATTACKS.glob("ex*.py")} == set(EXPECTED) | {"ex1__patched_trainer"}


@pytest.mark.parametrize("round_name", list(ROUNDS))
def test_attacks_get_their_fair_score(tmp_path, round_name):
    names = ROUNDS[round_name]
    if set(names) & REACHING_OUT and not ISOLATED:
        pytest.skip("hostile submissions that reach out run only in an isolating sandbox")
    result, output, repo, sub, cwd, before = run_round(
        tmp_path, names, os.environ.get("REGNETLAB_DATA"))
    check(result, names)
    assert "Traceback" not in output
    assert result["isolation"] and "isolation:" in output
    # the attacks changed nothing outside their sandbox, and left no process behind
    assert (hashes(repo), hashes(sub)) == before
    if round_name == "reaching-out":
        time.sleep(10)  # the daemon would have rewritten the results by now
        assert json.loads((cwd / "results.json").read_text()) == result
    assert attack_processes() == []
    if round_name == "flood":
        rejected = result["workers"]["ex3"]["rejected_files"]
        assert any("junk" in r for r in rejected), rejected


@needs_isolation
def test_a_hostile_grading_cannot_touch_one_beside_it(tmp_path):
    """Two gradings side by side: one attacks every process it can see; the other, of the
    reference solutions, keeps its full score."""
    results = {}

    def grade_reference():
        results["reference"] = run_round(tmp_path / "reference", [])

    beside = threading.Thread(target=grade_reference)
    beside.start()
    time.sleep(3)  # so that the reference's workers are running when the attack starts
    hostile = run_round(tmp_path / "hostile", ["ex1__attacks_others"])
    beside.join(timeout=900)
    reference = results["reference"][0]
    assert reference["score"] == reference["max_score"] > 0
    check(hostile[0], ["ex1__attacks_others"])
    assert attack_processes() == []


@pytest.mark.slow
def test_a_patched_trainer_does_not_report_the_accuracy(tmp_path, data_root):
    """lr = 0 plus a trainer patched to report 100%: training happens on the trusted side,
    so the patch never runs there and the line is lost."""
    result, output, *_ = run_round(tmp_path, ["ex1__patched_trainer"], data_root,
                                   args=("--only", "ex1"))
    assert failed(result, "ex1") == {"test_learns"}, output[-3000:]
    acc = result["workers"]["ex1"]["test_acc"]["DeepRegNetX.train"]
    assert acc < 0.2  # lr = 0: chance, whatever the patch says
