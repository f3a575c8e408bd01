"""The grader's layout: one folder per stage, each saying what runs there, and
dependencies that point down (nothing of the grader imports the top-level command line)."""
import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import regnetlab
import regnetlab.grading

PACKAGE = Path(regnetlab.__file__).parent
GRADING = Path(regnetlab.grading.__file__).parent
STAGES = ("intake", "sandbox", "worker", "measure", "scoring", "batch", "exercises")


def grading_modules():
    return sorted(m.name for m in pkgutil.walk_packages([str(GRADING)], "regnetlab.grading."))


def test_every_stage_is_a_package_that_says_what_runs_there():
    for stage in STAGES:
        init = GRADING / stage / "__init__.py"
        assert init.is_file(), f"grading/{stage}/ has no __init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.split()) >= 12, f"grading/{stage}/__init__.py: no docstring"
    top = ast.get_docstring(ast.parse((GRADING / "__init__.py").read_text()))
    assert all(f"``{stage}/``" in top for stage in STAGES)


def test_importing_the_grader_imports_nothing_of_the_command_line():
    # in a fresh interpreter: this test process may have imported regnetlab.cli already
    code = ("import importlib, json, sys\n"
            f"for name in {grading_modules()!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m == 'regnetlab.cli')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(grading_modules()) > 20
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_no_grader_module_imports_the_command_line_or_a_script():
    for path in GRADING.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = "." * node.level + (node.module or "")
                depth = len(path.relative_to(PACKAGE).parts) - 1  # regnetlab/ = 0
                assert not (node.level == depth + 1 and node.module == "cli"), \
                    f"{path.relative_to(PACKAGE)}: imports regnetlab.cli ({target})"
                assert node.module != "regnetlab.cli", f"{path}: imports regnetlab.cli"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert "scripts/" not in node.value or "make_stubs" not in node.value, \
                    f"{path}: loads a script from outside the package"


def test_the_repository_root_is_defined_once():
    found = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
             if "Path(__file__).resolve().parents" in p.read_text()
             or "dirname(os.path.dirname(os.path.abspath(__file__)))" in p.read_text()]
    assert found == [], f"the root is worked out again in {found}; use regnetlab.project.ROOT"
    from regnetlab import project
    assert (project.ROOT / "regnetlab" / "project.py").is_file()
