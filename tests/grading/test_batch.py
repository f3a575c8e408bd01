"""`regnetlab grade-many`: a class of six graded for real (one hostile, two broken, one
refused as unsafe), interrupted and resumed; layouts, safe unpacking, progress output."""
import csv
import io
import json
import os
import signal
import stat
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from argparse import Namespace
from pathlib import Path

import pytest

from regnetlab.grading.batch import cli as grade_many, progress, store
from regnetlab.grading.intake import archives as subs

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (ROOT / "solutions" / "ex1_deeper_regnetx.py").read_text()
STUB = (ROOT / "exercises" / "ex1_deeper_regnetx.py").read_text()
FAST = ["--no-train", "--only", "ex1"]   # a grading in seconds; 23 points graded

# Runs inside the grader's worker when the grader imports it. It forges output and reaches
# for other students' files through the processes above it (their command lines): it
# deletes the other gradings' copies and the records grade-many has written. All of them
# lie under the test's tmp_path (TMPDIR and --out point there).
HOSTILE = '''
import json, os
from pathlib import Path
print("  total: 100/100 points (100%)")
print(json.dumps({"score": 100.0, "max_score": 100.0, "exercises": {}}))


def _ancestors():
    pid = os.getppid()
    for _ in range(8):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            yield pid, argv.split("\\0")
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return


def _attack():
    for pid, args in _ancestors():
        if "grade" in args and args.index("grade") + 1 < len(args):
            mine = Path(args[args.index("grade") + 1])
            for other in mine.parents[1].glob("regnetlab-grade-many-*/submission/*.py"):
                if other.parent != mine:
                    try:
                        other.unlink()
                    except OSError:
                        pass
        if "grade-many" in args and "--out" in args:
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
            for record in (cwd / args[args.index("--out") + 1] / "students").glob("*.json"):
                try:
                    record.unlink()
                except OSError:
                    pass


try:
    _attack()
except Exception:
    pass
'''


def _zip(path, files, prefix=""):
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(prefix + name, text)
    return path


def make_class(root):
    """Six submissions in GitHub Classroom's layout (hw1-<user>), folders and zips.

    In name order (the order they are graded in): abe, adam (hostile), alice, carol
    (broken: a syntax error), dave (broken: not a zip), erin (a zip that reaches out).
    """
    root.mkdir()
    for user, text in [("adam", HOSTILE + SOLUTION), ("alice", SOLUTION),
                       ("carol", SOLUTION.replace("class DeepRegNetX(AnyNet):",
                                                  "class DeepRegNetX(AnyNet)"))]:
        (root / f"hw1-{user}" / "exercises").mkdir(parents=True)
        (root / f"hw1-{user}" / "exercises" / "ex1_deeper_regnetx.py").write_text(text)
    # abe zipped his whole repository folder: the stub, untouched
    _zip(root / "hw1-abe.zip", {"exercises/ex1_deeper_regnetx.py": STUB}, prefix="hw1-abe/")
    (root / "hw1-dave.zip").write_bytes(b"this is not a zip file")
    _zip(root / "hw1-erin.zip", {"ex1_deeper_regnetx.py": SOLUTION,
                                 "../../escape.py": "print('escaped')"})
    return root


def gradebook(out):
    with open(out / "gradebook.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def run_grade_many(args, env, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "regnetlab", "grade-many", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture
def env(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return {**os.environ, "TMPDIR": str(tmp), "OMP_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def test_a_class_graded_interrupted_resumed_with_a_hostile_and_broken_ones(tmp_path, env):
    klass = make_class(tmp_path / "class")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "regnetlab", "grade-many", "class", "--out", "out", *FAST]
    # 1. one at a time, interrupted (Ctrl-C) as soon as the first (abe) is graded
    t0 = time.monotonic()
    proc = subprocess.Popen([*cmd, "--jobs", "1"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        while time.monotonic() - t0 < 300 and proc.poll() is None:
            done = [json.loads(p.read_text()) for p in (out / "students").glob("*.json")]
            if any(r["status"] == "graded" for r in done):
                break
            time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)
        first_output = proc.communicate(timeout=120)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, first_output
    assert "interrupted" in first_output and "Run the same command again" in first_output
    before = {p.stem: json.loads(p.read_text()) for p in (out / "students").glob("*.json")}
    assert list(before) == ["abe"] and before["abe"]["status"] == "graded", first_output
    assert list(gradebook(out)) == ["abe"]          # the gradebook is whole and readable

    # 2. the same command again, two at a time: abe is not graded again; adam (hostile)
    # and alice (correct) are graded side by side
    done = run_grade_many([*cmd[4:], "--jobs", "2"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "abe: 0/23 (unchanged, not graded again)" in done.stderr
    assert json.loads((out / "students" / "abe.json").read_text()) == before["abe"]
    book = gradebook(out)
    assert list(book) == ["abe", "adam", "alice", "carol", "dave", "erin"]
    # adam forged his output and deleted the others' files: no effect on anybody's score
    assert book["alice"]["ex1"] == "23" and book["alice"]["total"] == "23"
    assert book["alice"]["error"] == ""
    assert book["abe"]["ex1"] == "0" and book["abe"]["total"] == "0"
    assert book["adam"]["total"] == "23"    # his own network is the reference one
    adam = json.loads((out / "students" / "adam.json").read_text())
    if "pid-namespace" not in adam["isolation"]:
        # the grader let him see the processes above him, so he did delete abe's record:
        # grade-many noticed and wrote it back
        assert "the record of abe was changed during the run" in done.stderr
    # broken: a syntax error costs its exercise, with the reason; no traceback anywhere
    carol = json.loads((out / "students" / "carol.json").read_text())
    assert carol["status"] == "graded" and carol["score"] == 0
    assert any("SyntaxError" in t["message"] or "syntax" in t["message"].lower()
               for t in carol["grade"]["tests"]), carol["grade"]["tests"][0]
    assert "not a readable zip" in book["dave"]["error"]
    assert "outside the zip" in book["erin"]["error"] and book["erin"]["total"] == ""
    assert not (tmp_path / "escape.py").exists() and not (tmp_path.parent / "escape.py").exists()
    assert "Traceback" not in done.stderr + done.stdout
    # every record on disk is what was graded (the hostile one's deletions were undone)
    for key in book:
        rec = json.loads((out / "students" / f"{key}.json").read_text())
        assert rec["student"] == key and rec["format"] == store.RECORD_FORMAT
    # one line per submission when the output is not a terminal, with an ETA
    lines = [line for line in done.stderr.splitlines() if line.startswith("grade-many: [")]
    assert len(lines) == 6 and all("ETA" in line for line in lines)
    left = [p.name for p in Path(env["TMPDIR"]).iterdir()
            if not p.name.startswith("torchinductor_")]   # torch's own compile cache
    assert not left, f"temporary folders left behind: {left}"

    # 3. carol fixes her file: only she is graded again
    (klass / "hw1-carol" / "exercises" / "ex1_deeper_regnetx.py").write_text(SOLUTION)
    again = run_grade_many([*cmd[4:], "--jobs", "2"], env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("unchanged, not graded again") == 5
    assert gradebook(out)["carol"]["total"] == "23"


def test_bad_input_is_one_line_naming_what_was_expected(tmp_path, env):
    (tmp_path / "notes.txt").write_text("x")
    cases = [(["missing", "--out", "o"], "no such folder or .zip file"),
             (["notes.txt", "--out", "o"], "expected a folder or a .zip file"),
             ([".", "--out", "notes.txt", "--no-train"], "is a file; expected a folder"),
             ([".", "--out", "o", "--timeout", "0"], "expected a number of seconds above 0"),
             ([".", "--out", "o", "--hidden", "nope"], "--hidden nope: no such folder"),
             ([".", "--out", "o", "--address", "auto"], "only used with --engine ray")]
    for args, message in cases:
        done = run_grade_many(args, env, tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_the_grader_failing_for_everybody_stops_the_batch(tmp_path, env):
    make_class(tmp_path / "class")
    done = run_grade_many(["class", "--out", "out", "--no-train", "--memory-gb", "1"], env,
                      tmp_path)
    assert done.returncode == 2
    assert "stopped:" in done.stderr and "--memory-gb 1" in done.stderr
    assert done.stderr.count("grade-many: [") <= 3   # refused ones may come first


def test_ray_engine_gives_the_local_engine_gradebook(tmp_path, env):
    """--engine ray grades each submission as a Ray task (a private instance here) and
    records exactly what the local engine records."""
    pytest.importorskip("ray")
    klass = tmp_path / "class"
    for name, folder in (("good", ROOT / "solutions"), ("stub", ROOT / "exercises")):
        (klass / name).mkdir(parents=True)
        for path in folder.glob("ex1_*.py"):
            (klass / name / path.name).write_bytes(path.read_bytes())
    books = {}
    # Ray's socket paths live under TMPDIR and may not exceed 107 bytes: a short one
    short = tempfile.mkdtemp(prefix="rl-", dir="/tmp")
    for engine in ("local", "ray"):
        done = run_grade_many(["class", "--out", engine, *FAST, "--jobs", "2", "--engine",
                               engine], {**env, "TMPDIR": short}, tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
        books[engine] = {s: (r["ex1"], r["total"], r["isolation"])
                         for s, r in gradebook(tmp_path / engine).items()}
    assert books["ray"] == books["local"] and books["local"]["good"][1] != \
        books["local"]["stub"][1]
    deadline = time.time() + 30  # Ray's processes end within moments of its shutdown
    while time.time() < deadline and _ray_processes(short):
        time.sleep(0.5)
    assert not _ray_processes(short), "a Ray process outlived grade-many"
    shutil.rmtree(short, ignore_errors=True)


def _ray_processes(tmpdir):
    """Ray's processes started by this test (its TMPDIR): another suite's are not ours."""
    mark = f"TMPDIR={tmpdir}\0".encode()
    return [p for p in Path("/proc").glob("[0-9]*")
            if (b"ray::" in _read(p / "cmdline") or b"raylet" in _read(p / "cmdline"))
            and (mark in _read(p / "environ") or tmpdir.encode() in _read(p / "cmdline"))]


def _read(path):
    try:
        return path.read_bytes()
    except OSError:
        return b""


# -- layouts ----------------------------------------------------------------------------

def test_gradescope_export_names_students_from_its_metadata(tmp_path):
    export = tmp_path / "export" / "assignment_7_export"
    (export / "submission_11").mkdir(parents=True)
    (export / "submission_11" / "ex1_deeper_regnetx.py").write_text(SOLUTION)
    (export / "submission_12" / "exercises").mkdir(parents=True)
    (export / "submission_12" / "exercises" / "ex1_deeper_regnetx.py").write_text(STUB)
    (export / "submission_metadata.yml").write_text(
        "submission_11:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: '001'\n"
        "    :email: ada@example.edu\n  :created_at: 2026-01-01 10:00:00.0 -08:00\n"
        "  :score: 0.0\nsubmission_12:\n  :submitters:\n  - :name: Alan Turing\n"
        "    :sid: '002'\n  - :name: Grace Hopper\n    :email: grace@example.edu\n")
    found = subs.discover(tmp_path / "export")
    assert [(s.key, s.source.name) for s in found] == [
        ("ada@example.edu", "submission_11"), ("002_grace@example.edu", "submission_12")]
    assert found[1].student == "002+grace@example.edu"
    # the same export as one .zip, as Gradescope downloads it
    _zip(tmp_path / "export.zip", {
        "submission_11/ex1_deeper_regnetx.py": SOLUTION,
        "submission_metadata.yml": (export / "submission_metadata.yml").read_text()},
        prefix="assignment_7_export/")
    args = Namespace(submissions=str(tmp_path / "export.zip"), regrade=False, timeout=None,
                     submission_timeout=None, jobs=1)
    tasks, unpacked = grade_many.plan(args, store.Store(tmp_path / "out"), [], "h")
    try:
        assert [t["key"] for t in tasks] == ["ada@example.edu"]
        assert list(tasks[0]["files"]) == ["ex1_deeper_regnetx.py"]
    finally:
        import shutil
        shutil.rmtree(unpacked)


def test_github_classroom_download_drops_the_assignment_prefix(tmp_path):
    base = tmp_path / "hw1-submissions"
    for user in ("ada", "alan-t"):
        (base / f"hw1-{user}" / "exercises").mkdir(parents=True)
        (base / f"hw1-{user}" / "exercises" / "ex1_deeper_regnetx.py").write_text(STUB)
        (base / f"hw1-{user}" / ".git").mkdir()
    assert [s.student for s in subs.discover(tmp_path)] == ["ada", "alan-t"]
    assert subs.exercise_folder(base / "hw1-ada").name == "exercises"


def test_a_submission_without_exercise_files_is_refused_by_name(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(subs.SubmissionError, match="no exercise files found"):
        subs.exercise_folder(tmp_path / "empty")


# -- safe unpacking ---------------------------------------------------------------------

def test_unsafe_zips_are_refused_and_leave_nothing(tmp_path):
    link = zipfile.ZipInfo("link.py")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as z:
        z.writestr(link, "/etc/passwd")
    _zip(tmp_path / "abs.zip", {"/tmp/evil.py": "x"})
    _zip(tmp_path / "up.zip", {"a/../../evil.py": "x"})
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.py", b"\0" * (3 * 2 ** 20))
    _zip(tmp_path / "many.zip", {f"f{i}.py": "" for i in range(30)})
    cases = [("link.zip", {}, "symbolic link"), ("abs.zip", {}, "absolute path"),
             ("up.zip", {}, "outside the zip"),
             ("bomb.zip", {"max_file": 2 ** 20}, "unpacks to more than 1 MiB"),
             ("bomb.zip", {"max_total": 2 ** 20}, "more than 1 MiB in all"),
             ("many.zip", {"max_members": 10}, "30 entries")]
    for name, caps, message in cases:
        dest = tmp_path / f"out-{name}-{len(caps)}"
        with pytest.raises(subs.SubmissionError, match=message):
            subs.safe_extract(tmp_path / name, dest, **caps)
        assert not dest.exists()
    assert not (tmp_path / "evil.py").exists()


# -- output -----------------------------------------------------------------------------

class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def _rec(student, status="graded", reused=False, score=22.0):
    return {"student": student, "status": status, "score": score, "max_score": 22.0,
            "seconds": 10.0, "error": "", "reused": reused}


def test_progress_is_a_bar_with_an_eta_on_a_terminal_and_lines_in_a_log():
    tty = FakeTerminal()
    bar = progress.Progress(3, tty)
    bar.update(_rec("ada"), jobs=1)
    bar.update(_rec("alan", reused=True), jobs=1)
    text = tty.getvalue()
    assert text.count("\r") == 2 and "\n" not in text
    assert "[################........] 2/3  ETA 10s" in text
    log = io.StringIO()
    lines = progress.Progress(2, log)
    lines.update(_rec("ada"), jobs=2)
    lines.update(_rec("bob", status="refused", score=None) | {"error": "no exercise files"},
                 jobs=2)
    assert log.getvalue().splitlines() == [
        "grade-many: [1/2] ada: 22/22 (10.0 s); ETA 5s",
        "grade-many: [2/2] bob: refused: no exercise files (10.0 s); ETA 0s"]


def test_gradebook_cells_never_become_spreadsheet_formulas():
    rec = {"key": "x", "student": "=HYPERLINK(1)", "status": "refused", "exercises": {},
           "score": None, "isolation": "", "seconds": 0.0, "error": "-bad"}
    rows = list(csv.reader(io.StringIO(store.gradebook_csv([rec]))))
    assert rows[0] == ["student", "ex1", "ex2", "ex3", "ex4", "total", "isolation",
                       "seconds", "error"]
    assert rows[1][0] == "'=HYPERLINK(1)" and rows[1][-1] == "'-bad"


def test_a_class_that_handed_in_notebooks_a_hanging_one_among_them(tmp_path, env):
    """Notebooks only (as Colab downloads them), beside the stubs, and one that hangs."""
    from test_intake import as_notebook
    hangs = SOLUTION.replace("stem_channels, groups, bot_mul = 32, 16, 1",
                             "import time\n        time.sleep(3600)\n"
                             "        stem_channels, groups, bot_mul = 32, 16, 1")
    assert hangs != SOLUTION
    klass = tmp_path / "class"
    for student, files in {"nora": {"ex1_deeper_regnetx.ipynb": as_notebook(SOLUTION)},
                           "nick": {"ex1_deeper_regnetx.ipynb": as_notebook(SOLUTION),
                                    "ex1_deeper_regnetx.py": STUB},
                           "hana": {"ex1_deeper_regnetx.ipynb": as_notebook(hangs)}}.items():
        (klass / student).mkdir(parents=True)
        for name, text in files.items():
            (klass / student / name).write_text(text)
    start = time.monotonic()
    done = run_grade_many(["class", "--out", "out", "--jobs", "2", *FAST], env, tmp_path)
    took = time.monotonic() - start
    assert done.returncode == 0, done.stdout + done.stderr
    book = gradebook(tmp_path / "out")
    assert {s: (book[s]["ex1"], book[s]["total"]) for s in book} == {
        "hana": ("0", "0"), "nick": ("23", "23"), "nora": ("23", "23")}
    hana = json.loads((tmp_path / "out" / "students" / "hana.json").read_text())
    assert hana["seconds"] < 60 and took < 120, (hana["seconds"], took)
    messages = [t["message"] for t in hana["grade"]["tests"] if t["status"] == "failed"]
    assert "DeepRegNetX() did not return within" in messages[0]
    nick = json.loads((tmp_path / "out" / "students" / "nick.json").read_text())
    assert nick["grade"]["sources"]["ex1"]["file"] == "ex1_deeper_regnetx.ipynb"


# -- the config hash --------------------------------------------------------------------

def _copy_checkout(tmp_path):
    """A throwaway copy of the package and the public tests, to edit."""
    for part in ("regnetlab", "autograder"):
        shutil.copytree(ROOT / part, tmp_path / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "regnetlab", tmp_path / "autograder"


def test_config_hash_covers_every_module_the_grading_imports(tmp_path, monkeypatch):
    """An edit to the training recipe regrades everybody; one to a module the grading
    never imports regrades nobody."""
    from regnetlab.grading.batch import config
    package, tests = _copy_checkout(tmp_path)
    monkeypatch.setattr(config, "PACKAGE", package)
    derived = {p.relative_to(package).as_posix() for p in config.grading_modules()}
    assert derived >= {"trainer.py", "data.py", "principles.py", "anynet.py", "summary.py",
                       "grading/worker/worker.py", "grading/worker/capture.py",
                       "grading/measure/training.py", "grading/scoring/session.py",
                       "grading/exercises/ex4_perfect_mlp.py", "__main__.py"}, derived
    assert "explore/report.py" not in derived

    args = Namespace(tests=str(tests), hidden=[], no_train=True, timeout=None,
                     submission_timeout=None, tier="cpu", memory_gb=6.0, only=None)
    options, digest = grade_many.grade_options(args)
    stored = {"content_hash": "c", "config_hash": digest, "status": "graded"}
    assert grade_many.grade_options(args)[1] == digest             # stable
    assert store.reusable(stored, "c", digest)

    report = package / "explore" / "report.py"
    report.write_text(report.read_text() + "\n# an edit the grader never sees\n")
    assert grade_many.grade_options(args)[1] == digest

    trainer = package / "trainer.py"
    recipe = trainer.read_text()
    edited = recipe.replace("weight_decay: float = 5e-4", "weight_decay: float = 1e-4")
    assert edited != recipe, "the recipe's weight decay moved: edit another constant"
    trainer.write_text(edited)
    changed = grade_many.grade_options(args)[1]
    assert changed != digest and not store.reusable(stored, "c", changed)

    # the calibration thresholds are read from the tests folder: hashed with the tests
    calibration = tests / "calibration.json"
    calibration.write_text(calibration.read_text() + "\n")
    recalibrated = grade_many.grade_options(args)[1]
    assert recalibrated != changed

    # another torch may train to other accuracies
    assert config.runtime()["torch"]
    monkeypatch.setattr(config, "runtime", lambda real=config.runtime: {**real(), "torch": "0"})
    assert grade_many.grade_options(args)[1] != recalibrated


def test_the_derived_modules_include_all_that_importing_the_grader_loads(tmp_path):
    """The static walk misses nothing that importing the grader's modules really loads
    (an import by computed name would be missed; the roots must then say so)."""
    from regnetlab.grading.batch import config
    from regnetlab.project import PACKAGE
    # every module of the roots and root folders, imported for real (__main__ by its CLI)
    names = ["regnetlab.cli", *(f"regnetlab.{r}" for r in config.ROOTS if r != "__main__")]
    for folder in config.ROOT_FOLDERS:
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    code = f"""if True:
        import importlib, json, sys
        for name in {names!r}:
            importlib.import_module(name)
        print(json.dumps([m.__file__ for n, m in list(sys.modules.items())
                          if n.split(".")[0] == "regnetlab" and getattr(m, "__file__", None)]))
    """
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = {Path(f).resolve() for f in json.loads(done.stdout)}
    assert loaded and all(PACKAGE in f.parents for f in loaded), loaded
    assert loaded <= set(config.grading_modules()), loaded - set(config.grading_modules())
