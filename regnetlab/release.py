"""``regnetlab release``: what a course hands out, built from this repository.

``release student DIR``
    The students' template repository: the exercise stubs, the library, the public grader
    tests, the docs and the classroom workflow; no ``solutions/``, no tests or benchmarks
    of the project, and no recorded runs that answer the exercises (``results/`` summaries
    become placeholders that keep their snippet sections, so every page that includes
    them still builds; the docs are built with ``show_results: false``). The workflow
    checks the grader out of ``--grader-repo`` at ``--grader-ref``. The build refuses to
    finish if any line of a reference solution is in it.
``release gradescope ZIP [--hidden DIR]``
    Gradescope's autograder zip: ``setup.sh`` and ``run_autograder``
    (``scripts/gradescope/``), the library with the grader, its tests and calibration, and
    the hidden tests in ``hidden/``; no solutions.
``release verify STUDENT --grader DIR --grader-repo R --grader-ref REF``
    Run by the classroom workflow with the grader's own checkout: fails, naming each
    file, when the student's ``autograder/`` or workflow differs from what the release
    made of the grader's.

Everything is built in a temporary folder beside the target and moved into place at the
end, so an error never leaves half a release.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from . import project, stubs

REPO = project.ROOT
WORKFLOW = Path(".github/workflows/classroom.yml")
MANIFEST = Path(".github/regnetlab-release.json")
PROTECTED = ("autograder", str(WORKFLOW))   # what `release verify` compares
SKIP = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}
STUDENT_PARTS = ["regnetlab", "exercises", "autograder", "docs", "mkdocs.yml",
                 "pyproject.toml", "scripts/setup.sh", ".gitignore", str(WORKFLOW)]
GRADESCOPE_PARTS = ["regnetlab", "autograder", "pyproject.toml"]
ANSWER_FIGURES = "docs/figures/explore"     # figures of the recorded runs
SHOW_RESULTS = re.compile(r"^(\s*show_results:).*$", re.M)
SLUG = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
REF = re.compile(r"^[A-Za-z0-9_./-]+$")
SECTION = re.compile(r"<!-- --8<-- \[start:(\w+)\] -->")


class ReleaseError(ValueError):
    """The release cannot be built as asked; says what is wrong and what was expected."""


def add_arguments(p):
    sub = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    s = sub.add_parser("student", help="the students' template repository, in a new folder")
    s.add_argument("dir", metavar="DIR", help="a folder that does not exist yet (or is empty)")
    s.add_argument("--grader-repo", default=None, metavar="OWNER/NAME",
                   help="repository the workflow takes the grader from (default: "
                        f"{project.github_slug()})")
    s.add_argument("--grader-ref", default=None, metavar="REF",
                   help="fixed ref of it: a tag or commit (default: this checkout's commit)")
    g = sub.add_parser("gradescope", help="Gradescope's autograder zip")
    g.add_argument("zip", metavar="ZIP", help="the .zip file to write")
    g.add_argument("--hidden", default=None, metavar="DIR",
                   help="hidden tests to add (graded like the public ones)")
    v = sub.add_parser("verify", help="check a student's autograder/ and workflow (CI)")
    v.add_argument("student", metavar="STUDENT", help="the student's repository")
    v.add_argument("--grader", default=str(REPO), metavar="DIR",
                   help="the grader's checkout (default: this one)")
    v.add_argument("--grader-repo", required=True, metavar="OWNER/NAME")
    v.add_argument("--grader-ref", required=True, metavar="REF")


def run(args):
    if args.what == "student":
        repo, ref = grader_location(args.grader_repo, args.grader_ref)
        out = release_student(args.dir, repo, ref)
        print(f"release: students' template in {out} (grader {repo}@{ref}); push it as the "
              "assignment's template repository")
        return 0
    if args.what == "gradescope":
        out = release_gradescope(args.zip, args.hidden)
        print(f"release: Gradescope autograder in {out} ({out.stat().st_size // 1024} KiB); "
              "upload it as the assignment's autograder (Ubuntu base image)")
        return 0
    problems = verify(args.student, args.grader, args.grader_repo, args.grader_ref)
    for line in problems:
        print(f"::error::{line}")
    if problems:
        print(f"release verify: {len(problems)} protected file(s) differ from the grader "
              f"{args.grader_repo}@{args.grader_ref}; the grade is not valid", file=sys.stderr)
        return 1
    print(f"release verify: autograder/ and {WORKFLOW} are as released "
          f"({args.grader_repo}@{args.grader_ref})")
    return 0


# -- shared helpers ----------------------------------------------------------------------

def grader_location(repo=None, ref=None):
    repo = repo or project.github_slug()
    if not SLUG.match(repo):
        raise ReleaseError(f"--grader-repo {repo!r}: expected OWNER/NAME, e.g. my-org/hw1")
    if ref is None:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise ReleaseError("--grader-ref missing and this is not a git checkout: pass a "
                               "tag or commit of the grader repository")
        ref = done.stdout.strip()
    if not REF.match(ref) or ".." in ref:
        raise ReleaseError(f"--grader-ref {ref!r}: expected a tag, branch or commit "
                           "(letters, digits, . _ / -)")
    return repo, ref


def _copy(src, dest):
    """Copy a file or a folder (without caches) from the repository into the release."""
    if src.is_dir():
        shutil.copytree(src, dest, ignore=lambda d, names: [n for n in names if n in SKIP
                                                            or n.endswith(".pyc")])
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)


def _parts(root, parts):
    missing = [p for p in parts if not (root / p).exists()]
    if missing:
        raise ReleaseError(f"{root}: not a regnetlab checkout (missing {', '.join(missing)}); "
                           "run `regnetlab release` from the repository it is installed from")


def check_stubs_current():
    """The stubs in exercises/ must be what the solutions generate: a stale one may hold
    what a newer solution took out."""
    if not (REPO / "solutions").is_dir():
        return
    problems = stubs.out_of_sync(REPO / "solutions", REPO / "exercises")
    if problems:
        raise ReleaseError(f"exercises/ is out of sync with solutions/ ({problems[0]}); run "
                           "`python scripts/make_stubs.py` first")


def leaked_lines(root):
    """``(file, line)`` for every reference-solution line found in the tree ``root``."""
    if not (REPO / "solutions").is_dir():
        return []
    secret = stubs.secret_lines(REPO / "solutions")
    found = []
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        found += [(path.relative_to(root), line) for line in secret if line in text]
    return found


def _refuse_leaks(root):
    leaks = leaked_lines(root)
    if leaks:
        where = "; ".join(f"{p}: {line!r}" for p, line in leaks[:3])
        raise ReleaseError(f"{len(leaks)} line(s) of the reference solutions would be "
                           f"released ({where}); nothing was written")


def _fresh_target(path):
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ReleaseError(f"{path}: exists and is not an empty folder; expected a new folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def file_hashes(root, parts=PROTECTED):
    """{relative path: sha256} of every file under ``parts`` of ``root`` (caches skipped)."""
    out = {}
    for part in parts:
        base = Path(root) / part
        if base.is_file():
            files = [base]
        elif base.is_dir():
            files = sorted(p for p in base.rglob("*") if p.is_file()
                           and not SKIP & set(p.parts) and p.suffix != ".pyc")
        else:
            files = []
        for f in files:
            out[f.relative_to(root).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


# -- the students' template --------------------------------------------------------------

def render_workflow(text, repo, ref):
    """The classroom workflow with its ``GRADER_REPO`` / ``GRADER_REF`` filled in."""
    out, n = re.subn(r"^(\s*GRADER_REPO:).*$", rf"\g<1> {repo}", text, flags=re.M)
    out, m = re.subn(r"^(\s*GRADER_REF:).*$", rf"\g<1> {ref}", out, flags=re.M)
    if n != 1 or m != 1:
        raise ReleaseError(f"{WORKFLOW}: expected one 'GRADER_REPO:' and one 'GRADER_REF:' "
                           "line in its env block")
    return out


def _placeholder(summary):
    """A results summary with its title and snippet sections, and none of its numbers."""
    text = summary.read_text(encoding="utf-8")
    title = next((line for line in text.splitlines() if line.startswith("# ")),
                 f"# {summary.stem}")
    note = ("*Left out of the students' copy: these recorded runs answer the exercises. "
            f"Record your own with `regnetlab explore {summary.stem}`.*")
    out = [title, "", note, ""]
    if re.search(r"^Budget:", text, re.M):  # the docs quote this paragraph of every summary
        out += ["Budget: not recorded in the students' copy.", ""]
    for name in SECTION.findall(text):
        out += [f"<!-- --8<-- [start:{name}] -->", note, f"<!-- --8<-- [end:{name}] -->", ""]
    return "\n".join(out)


STUDENT_README = """\
# {name}: exercises for *Dive into Deep Learning* 8.8

Your copy of the four exercises of section 8.8 ("Designing Convolution Network
Architectures"), with the `regnetlab` library (`import regnetlab as d2l`) and its grader.

```bash
bash scripts/setup.sh                      # .venv with regnetlab (Python 3.10+)
.venv/bin/regnetlab grade                  # grades exercises/, a score per rubric line
.venv/bin/regnetlab grade --only ex1 --no-train   # one exercise, structure only (seconds)
```

Fill in the stubs in `exercises/` (each is also a Jupyter notebook: `bash scripts/setup.sh`
registers the kernel "regnetlab"). Every push is graded by the workflow in
`.github/workflows/classroom.yml` with your instructor's copy of the tests
(`{repo}` at `{ref}`): do not edit `autograder/` or the workflow, or the grade is
not valid. The docs: `REGNETLAB_EXTRAS=docs bash scripts/setup.sh && .venv/bin/mkdocs serve`.
"""


COURSE_LINE = re.compile(r'^COURSE_REPOSITORY = .*$', re.M)


def fill_course_address(root, url, ref=None):
    """Write the course's address ``url`` into the copy ``root``: its
    ``regnetlab/project.py`` (the site's links and Colab buttons) and the notebooks'
    setup cells, which were generated with the address and release of this checkout;
    with ``ref`` (the grader's tag) the setup cells install that release instead."""
    url = project.check_address(url)
    path = root / "regnetlab" / "project.py"
    text, n = COURSE_LINE.subn(f"COURSE_REPOSITORY = {url!r}", path.read_text())
    if n != 1:
        raise ReleaseError(f"{path}: expected one 'COURSE_REPOSITORY = ...' line")
    path.write_text(text)
    olds = {a.rstrip("/") + ".git@" for a in (project.REPOSITORY, project.PLACEHOLDER)}
    for stub in sorted((root / "exercises").glob("ex*.*")):
        if stub.suffix in (".py", ".ipynb"):
            text = stub.read_text()
            for old in olds:
                if ref:
                    text = text.replace(old + project.RELEASE, f"{url}.git@{ref}")
                text = text.replace(old, url + ".git@")
            stub.write_text(text)


def release_student(target, repo, ref):
    """Build the students' template in the new folder ``target``; return its path."""
    target = _fresh_target(target)
    if not project.is_set(f"https://github.com/{repo}"):
        raise ReleaseError("--grader-repo missing and regnetlab/project.py names no course "
                           "repository: pass --grader-repo OWNER/NAME, e.g. my-org/hw1")
    _parts(REPO, STUDENT_PARTS)
    check_stubs_current()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for part in STUDENT_PARTS:
            _copy(REPO / part, tmp / part)
        shutil.rmtree(tmp / ANSWER_FIGURES, ignore_errors=True)
        mkdocs = tmp / "mkdocs.yml"
        text, n = SHOW_RESULTS.subn(r"\g<1> false   # the students' copy: no recorded answers",
                                    mkdocs.read_text())
        if n != 1:
            raise ReleaseError("mkdocs.yml: expected one 'show_results:' line under extra:")
        mkdocs.write_text(text)
        for summary in sorted((REPO / "results" / "summary").glob("*.md")):
            dest = tmp / "results" / "summary" / summary.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(_placeholder(summary))
        (tmp / "results" / "README.md").write_text(
            "# Your explorer runs\n\n`regnetlab explore STUDY` records here; `regnetlab "
            "explore report` writes `summary/` from them.\n\n"
            # the explorer page includes this section: it must exist, without our runs
            "## How they were recorded\n\nThe course's recorded runs are not part of this "
            "copy: record your own with the commands on this page.\n")
        fill_course_address(tmp, f"https://github.com/{repo}", ref)
        workflow = tmp / WORKFLOW
        workflow.write_text(render_workflow(workflow.read_text(), repo, ref))
        (tmp / "README.md").write_text(STUDENT_README.format(
            name=repo.split("/")[-1], repo=repo, ref=ref))
        (tmp / MANIFEST).write_text(json.dumps({
            "grader_repo": repo, "grader_ref": ref,
            "source_commit": _head(), "protected": file_hashes(tmp)}, indent=2) + "\n")
        _refuse_leaks(tmp)
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _head():
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                          text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def verify(student, grader, repo, ref):
    """Lines naming each protected file of ``student`` that differs from the grader's."""
    student, grader = Path(student), Path(grader)
    for folder, what in ((student, "STUDENT"), (grader, "--grader")):
        if not (folder / "autograder").is_dir():
            raise ReleaseError(f"{what} {folder}: no autograder/ folder; expected a checkout")
    expected = file_hashes(grader, ["autograder"])
    workflow = grader / WORKFLOW
    if not workflow.is_file():
        raise ReleaseError(f"--grader {grader}: no {WORKFLOW}")
    expected[WORKFLOW.as_posix()] = hashlib.sha256(
        render_workflow(workflow.read_text(), repo, ref).encode()).hexdigest()
    found = file_hashes(student)
    problems = []
    for path in sorted(set(expected) | set(found)):
        if path not in found:
            problems.append(f"{path}: missing from the student's repository")
        elif path not in expected:
            problems.append(f"{path}: added by the student (not in the grader)")
        elif found[path] != expected[path]:
            problems.append(f"{path}: altered (differs from {repo}@{ref})")
    return problems


# -- Gradescope --------------------------------------------------------------------------

def release_gradescope(zip_path, hidden=None):
    """Write Gradescope's autograder zip to ``zip_path`` atomically; return its path."""
    zip_path = Path(zip_path)
    if zip_path.suffix.lower() != ".zip":
        raise ReleaseError(f"{zip_path}: expected a file name ending in .zip")
    if zip_path.is_dir():
        raise ReleaseError(f"{zip_path}: is a folder; expected a .zip file path")
    if hidden is not None and not Path(hidden).is_dir():
        raise ReleaseError(f"--hidden {hidden}: no such folder of tests")
    _parts(REPO, GRADESCOPE_PARTS + ["scripts/gradescope/setup.sh",
                                     "scripts/gradescope/run_autograder"])
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".gradescope-", dir=zip_path.parent) as tmp:
        tmp = Path(tmp)
        tree = tmp / "source"
        for part in GRADESCOPE_PARTS:
            _copy(REPO / part, tree / part)
        if hidden is not None:
            _copy(Path(hidden).resolve(), tree / "hidden")
        for name in ("setup.sh", "run_autograder"):
            _copy(REPO / "scripts" / "gradescope" / name, tree / name)
        (tree / "README.md").write_text(
            "# regnetlab autograder for Gradescope\n\nMade by `regnetlab release gradescope`."
            " Gradescope runs `setup.sh` once and `run_autograder` per submission.\n")
        _refuse_leaks(tree)
        partial = tmp / "autograder.zip"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(p for p in tree.rglob("*") if p.is_file()):
                info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), (2026, 1, 1, 0, 0, 0))
                executable = path.name in ("setup.sh", "run_autograder")
                info.external_attr = (0o100755 if executable else 0o100644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, path.read_bytes())
        os.replace(partial, zip_path)
    return zip_path
