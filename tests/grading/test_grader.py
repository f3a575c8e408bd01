"""Tests of the autograder itself: reference solutions, stubs, reports, hidden tests.

Each grading runs ``regnetlab grade`` in a subprocess, as a student or CI would. Most use
``--no-train`` (structure only, seconds); the two marked ``slow`` train on real data.
The deliberately wrong submissions are in test_grader_variants.py.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from regnetlab.grading import EXERCISES as EXERCISE_IDS  # "ex1", ...: found, never listed

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS, EXERCISES = REPO / "solutions", REPO / "exercises"
HIDDEN_EXAMPLE = REPO / "autograder" / "examples" / "hidden"


def grade(target, *args, cwd=None, timeout=900):
    """Run ``regnetlab grade TARGET ARGS --json``; return (results dict, output, exit code)."""
    cwd = Path(cwd or target)
    out = cwd / "results.json"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "regnetlab", "grade", str(target),
                           "--tier", "cpu", "--json", str(out), *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    assert out.is_file(), f"no results written (exit {proc.returncode}):\n{output[-3000:]}"
    return json.loads(out.read_text()), output, proc.returncode


def submission(tmp_path, replace=None):
    """A copy of the reference solutions with some modules replaced: {module: source}."""
    folder = tmp_path / "submission"
    folder.mkdir(parents=True)
    for path in SOLUTIONS.glob("ex*.py"):
        shutil.copyfile(path, folder / path.name)
    for module, source in (replace or {}).items():
        (folder / f"{module}.py").write_text(source)
    return folder


def failed(result, exercise=None):
    return {t["nodeid"].split("::")[-1] for t in result["tests"]
            if t["status"] == "failed" and exercise in (None, t["exercise"])}


def points(result, exercise):
    ex = result["exercises"][exercise]
    return ex["score"], ex["max_score"]


@pytest.fixture(scope="module")
def structure_of_solutions(tmp_path_factory):
    """The reference solutions graded without training (shared by several tests)."""
    cwd = tmp_path_factory.mktemp("grade-solutions")
    result, output, code = grade(
        SOLUTIONS, "--no-train", "--gradescope", str(cwd / "gs.json"),
        "--junit", str(cwd / "junit.xml"), "--classroom", str(cwd / "classroom.json"),
        cwd=cwd)
    return result, output, code, cwd


def test_reference_solutions_earn_every_structure_point(structure_of_solutions):
    result, output, code, _ = structure_of_solutions
    assert code == 0, output[-3000:]
    assert failed(result) == set()
    assert result["score"] == result["max_score"] > 0
    assert "total:" in output and "Traceback" not in output
    # without training, the training rubric lines are reported as not graded
    skipped = [t for t in result["tests"] if t["status"] == "skipped"]
    assert skipped and all("learns" in t["name"] for t in skipped)
    assert result["not_graded"] == sum(t["points"] for t in skipped)


def test_rubric_is_worth_100_points(structure_of_solutions):
    result = structure_of_solutions[0]
    total = sum(t["points"] for t in result["tests"])
    assert total == 100
    for ex in EXERCISE_IDS:
        assert sum(t["points"] for t in result["tests"] if t["exercise"] == ex) == 25
    # every rubric line names its exercise, as a student reads it
    assert all(t["name"].startswith(t["exercise"] + ": ") for t in result["tests"])


def test_gradescope_report(structure_of_solutions):
    result, _, _, cwd = structure_of_solutions
    gs = json.loads((cwd / "gs.json").read_text())
    assert gs["score"] == result["score"]
    assert gs["max_score"] == result["max_score"]
    assert len(gs["tests"]) == len(result["tests"])
    for t in gs["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output", "visibility"}
        assert 0 <= t["score"] <= t["max_score"] or t["max_score"] == 0
    assert sum(t["score"] for t in gs["tests"]) == gs["score"]


def test_junit_report(structure_of_solutions):
    result, _, _, cwd = structure_of_solutions
    root = ET.parse(cwd / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(result["tests"])
    assert {s.get("name") for s in root.findall("testsuite")} == set(EXERCISE_IDS)
    assert len(root.findall(".//skipped")) == sum(t["status"] == "skipped"
                                                  for t in result["tests"])
    assert not root.findall(".//failure")


def test_classroom_report(structure_of_solutions):
    result, _, _, cwd = structure_of_solutions
    cls = json.loads((cwd / "classroom.json").read_text())
    assert cls["version"] == 1 and cls["status"] == "pass"
    assert cls["max_score"] == result["max_score"]
    assert sum(t["score"] for t in cls["tests"]) == result["score"]
    assert all(t["status"] == "pass" for t in cls["tests"])


def test_same_submission_same_grade(structure_of_solutions, tmp_path):
    first = structure_of_solutions[0]
    again, _, _ = grade(SOLUTIONS, "--no-train", "--only", "ex3", cwd=tmp_path)
    assert [(t["name"], t["status"], t["earned"]) for t in again["tests"]] == \
        [(t["name"], t["status"], t["earned"]) for t in first["tests"] if t["exercise"] == "ex3"]


@pytest.mark.slow
def test_three_gradings_give_identical_scores_and_accuracies(tmp_path, data_root):
    runs = [grade(SOLUTIONS, "--only", "ex4", cwd=tmp_path)[0] for _ in range(3)]
    seen = {json.dumps([(t["name"], t["earned"]) for t in r["tests"]]) for r in runs}
    accs = {json.dumps(r["workers"]["ex4"]["test_acc"]) for r in runs}
    assert len(seen) == 1 and len(accs) == 1, (seen, accs)


def test_untouched_stubs_score_zero_without_a_traceback(tmp_path):
    result, output, code = grade(EXERCISES, "--no-train", cwd=tmp_path)
    assert code == 1
    assert result["score"] == 0 and result["max_score"] > 0
    assert "Traceback" not in output
    graded = [t for t in result["tests"] if t["status"] != "skipped"]
    assert graded and all("learns" in t["name"] for t in result["tests"] if t not in graded)
    for t in graded:
        assert t["status"] == "failed"
        assert "Traceback" not in t["message"]
        # the stub's own message, naming what to write, reaches the student
        assert "NotImplementedError" in t["message"] and "Exercise" in t["message"], t


def test_hidden_tests_count_like_public_ones(tmp_path):
    result, output, code = grade(SOLUTIONS, "--no-train", "--only", "ex1", "--hidden",
                                 str(HIDDEN_EXAMPLE), "--gradescope",
                                 str(tmp_path / "gs.json"), cwd=tmp_path)
    hidden = [t for t in result["tests"] if t["hidden"]]
    assert hidden, output[-2000:]
    public = [t for t in result["tests"] if not t["hidden"] and t["status"] != "skipped"]
    assert result["max_score"] == sum(t["points"] for t in hidden + public)
    gs = json.loads((tmp_path / "gs.json").read_text())
    assert {t["visibility"] for t in gs["tests"] if "hidden" in t["tags"]} == {"after_published"}
    # without --hidden, the example folder is not collected (it sits in norecursedirs)
    plain, _, _ = grade(SOLUTIONS, "--no-train", "--only", "ex1", cwd=tmp_path)
    assert not any(t["hidden"] for t in plain["tests"])
    assert len(plain["tests"]) == len(result["tests"]) - len(hidden)


def test_hidden_test_can_fail(tmp_path):
    """The example hidden test asks for at least 6 blocks; a 5-block design loses it."""
    shallow = ("from regnetlab import AnyNet\n\n\nclass DeepRegNetX(AnyNet):\n"
               "    def __init__(self, lr=0.1, num_classes=10):\n"
               "        super().__init__(tuple((1, c, 16, 1) for c in (32, 48, 64, 80)), "
               "32, lr, num_classes)\n")
    sub = submission(tmp_path, {"ex1_deeper_regnetx": shallow})
    result, output, _ = grade(sub, "--no-train", "--only", "ex1", "--hidden",
                              str(HIDDEN_EXAMPLE), cwd=tmp_path)
    lost = {t["nodeid"].split("::")[-1] for t in result["tests"] if t["status"] == "failed"}
    assert lost == {"test_at_least_six_blocks"}, output[-2000:]


def test_bad_arguments_are_one_line_errors(tmp_path):
    for args, words in ((["no/such/folder"], "no such folder"),
                        (["solutions", "--only", "ex9"], "--only ex9"),
                        (["solutions", "--hidden", "no/such/dir"], "--hidden"),
                        (["solutions", "--timeout", "0"], "--timeout 0: expected"),
                        (["solutions", "--memory-gb", "0.3"], "--memory-gb 0.3: expected"),
                        (["solutions", "--jobs", "0"], "--jobs: expected a positive")):
        proc = subprocess.run([sys.executable, "-m", "regnetlab", "grade", *args, "--no-train"],
                              cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert words in proc.stderr and "Traceback" not in proc.stderr


def test_missing_data_is_an_error_not_a_pass(tmp_path):
    """Without data the training lines are not quietly dropped: the grader refuses to run."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    cmds = {2: [sys.executable, "-m", "regnetlab", "grade", "solutions", "--only", "ex4",
                "--data", str(empty), "--json", str(tmp_path / "r.json")],
            4: [sys.executable, "-m", "pytest", str(REPO / "autograder"), "--only", "ex4",
                "--data", str(empty), "--grade-json", str(tmp_path / "r.json")]}
    for status, cmd in cmds.items():  # regnetlab grade: 2; plain pytest: its usage error
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == status, proc.stdout + proc.stderr
        assert "the grader could not run: no Fashion-MNIST data" in proc.stderr
        assert "Traceback" not in proc.stderr and not (tmp_path / "r.json").exists()


def _workers_of(pid):
    """Process ids of the grading workers whose parent is ``pid`` (Linux /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and b"regnetlab.grading.worker.worker" in cmdline:
            found.append(int(proc.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc")
def test_ctrl_c_stops_the_grader_and_its_workers(tmp_path):
    # a worker that waits forever (asleep, so the test costs no CPU while it waits)
    sleeper = "import time\n\n\nclass DeepRegNetX:\n    def __init__(self):\n" \
              "        time.sleep(3600)\n"
    sub = submission(tmp_path, {"ex1_deeper_regnetx": sleeper})
    grader = subprocess.Popen([sys.executable, "-m", "regnetlab", "grade", str(sub),
                               "--no-train", "--only", "ex1", "--timeout", "300",
                               "--json", str(tmp_path / "r.json")],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        deadline, workers = time.time() + 120, []
        while not workers and time.time() < deadline and grader.poll() is None:
            time.sleep(0.2)
            workers = _workers_of(grader.pid)
        assert workers, "the grader started no worker"
        time.sleep(1)
        grader.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
        t0 = time.time()
        out, err = grader.communicate(timeout=60)
    finally:
        grader.kill()
        for pid in workers:  # if the grader failed to, so that no worker outlives the test
            try:
                if b"regnetlab.grading.worker.worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.killpg(pid, signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass
    assert grader.returncode == 130, out[-2000:] + err[-2000:]
    assert time.time() - t0 < 30 and "interrupted" in err
    assert not (tmp_path / "r.json").exists()  # no partial grade
    for pid in workers:  # the hanging worker is gone (or at most a zombie being reaped)
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.slow
def test_default_data_cache_reaches_the_workers(tmp_path, data_root):
    """No --data, no REGNETLAB_DATA: the cache the grader finds is the one workers read."""
    raw = tmp_path / "cache" / "regnetlab" / "fashion-mnist" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for path in (data_root / "FashionMNIST" / "raw").glob("*-ubyte"):
        (raw / path.name).symlink_to(path.resolve())
    env = {k: v for k, v in os.environ.items() if k != "REGNETLAB_DATA"}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path),
               OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "regnetlab", "grade", str(SOLUTIONS),
                           "--tier", "cpu", "--only", "ex4", "--json", str(tmp_path / "r.json")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    result = json.loads((tmp_path / "r.json").read_text())
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert result["training"] == "on" and result["not_graded"] == 0
    assert result["data"] == str(raw.parents[1].resolve())
    assert points(result, "ex4") == (25, 25)


@pytest.mark.slow
def test_reference_solutions_score_100_with_training(tmp_path, data_root):
    result, output, code = grade(SOLUTIONS, cwd=tmp_path)
    assert code == 0, output[-4000:]
    assert result["score"] == result["max_score"] == 100
    assert result["training"] == "on"


@pytest.mark.slow
def test_plain_pytest_autograder_grades_the_stubs(tmp_path, data_root):
    """`pytest autograder` works on its own, and grades exercises/ by default."""
    proc = subprocess.run([sys.executable, "-m", "pytest", str(REPO / "autograder"), "-q",
                           "--grade-json", str(tmp_path / "r.json")],
                          cwd=REPO, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    result = json.loads((tmp_path / "r.json").read_text())
    assert proc.returncode == 1
    assert result["submission"] == str(EXERCISES)
    assert result["score"] == 0 and result["max_score"] == 100
    assert "total: 0/100" in proc.stdout


def test_a_fifth_exercise_is_its_own_files(tmp_path):
    """An exercise is one module in regnetlab/grading/exercises/, one rubric file and the
    student's file: adding ex5 to a copy of the checkout touches no central list."""
    repo = tmp_path / "repo"
    for part in ("regnetlab", "autograder", "solutions"):
        shutil.copytree(REPO / part, repo / part, ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "regnetlab/grading/exercises/ex5_tiny_regnetx.py").write_text(
        '"""Exercise 5 (a test\'s own): a one-stage RegNetX."""\n'
        "from . import Network\n\n"
        'ID, MODULE, RUBRIC = "ex5", "ex5_tiny_regnetx", "test_ex5_tiny_regnetx.py"\n'
        'NETWORKS = [Network("TinyNet", "TinyNet()", lambda m: m.TinyNet())]\n'
        "ANSWERS = {}\n")
    (repo / "autograder/test_ex5_tiny_regnetx.py").write_text(
        "import pytest\n\nfrom regnetlab.grading import checks\n\n"
        'pytestmark = pytest.mark.exercise("ex5")\n\n\n'
        "@pytest.mark.points(5)\n"
        "def test_one_stage(ex5):\n"
        '    """ex5: TinyNet has one stage of two blocks"""\n'
        '    assert checks.depths(ex5.get("TinyNet.structure")) == (2,)\n')
    sub = submission(tmp_path, {"ex5_tiny_regnetx": (
        "from regnetlab import AnyNet\n\n\nclass TinyNet(AnyNet):\n"
        "    def __init__(self, lr=0.1, num_classes=10):\n"
        "        super().__init__(((2, 16, 8, 1),), 8, lr, num_classes)\n")})
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "regnetlab", "grade", str(sub), "--only",
                           "ex5", "--no-train", "--json", str(out)], cwd=repo,
                          env=dict(os.environ, PYTHONPATH=str(repo), OMP_NUM_THREADS="1"),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    result = json.loads(out.read_text())
    assert result["exercises"] == {"ex5": {"score": 5.0, "max_score": 5.0}}
    # ... and it is everywhere the exercises are listed: the gradebook's columns, the
    # help texts that name them, the tests that go over them (this file, in the copy)
    (repo / "tests/grading").mkdir(parents=True)
    shutil.copyfile(__file__, repo / "tests/grading/test_grader.py")
    listed = subprocess.run([sys.executable, "-c", EX5_LISTED], cwd=repo,
                            env=dict(os.environ, PYTHONPATH=str(repo), OMP_NUM_THREADS="1"),
                            capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0, listed.stderr[-3000:]
    seen = json.loads(listed.stdout)
    assert seen["imported_from"] == str(repo / "regnetlab" / "__init__.py")
    assert seen["gradebook"][:6] == ["student", "ex1", "ex2", "ex3", "ex4", "ex5"]
    for command in ("grade", "grade-many"):
        only = " ".join(seen[command].split("--only ex1,ex3")[-1].split())
        assert only.startswith("grade these exercises only, among ex1, ex2, ex3, ex4, ex5"), \
            (command, seen[command])
    assert seen["enumerated"] == ["ex1", "ex2", "ex3", "ex4", "ex5"]


# run in the copy of test_a_fifth_exercise_is_its_own_files: where the exercises are listed
EX5_LISTED = """if True:
    import contextlib, io, json, sys
    sys.path.insert(0, "tests/grading")
    import regnetlab
    from regnetlab.cli import main
    from regnetlab.grading.batch.store import gradebook_csv
    import test_grader

    def usage(command):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main([command, "--help"])
        return out.getvalue()

    print(json.dumps({"imported_from": regnetlab.__file__,
                      "gradebook": gradebook_csv([]).splitlines()[0].split(","),
                      "grade": usage("grade"), "grade-many": usage("grade-many"),
                      "enumerated": list(test_grader.EXERCISE_IDS)}))
"""
