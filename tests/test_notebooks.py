"""Notebooks that open anywhere: the setup cell installs regnetlab and the data in a fresh
virtual environment (a local wheel and package index stand in for the repository and
PyPI), and scripts/setup.sh's kernel registration works."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_release import local_torch_index, sandbox_wheel

ROOT = Path(__file__).resolve().parents[1]


def setup_cell(path):
    text = path.read_text()
    m = re.search(r"^# %% tags=\[\"setup\"\]\n(.*?)(?=^# %%)", text, re.M | re.S)
    assert m, f"{path.name}: no setup cell"
    return m.group(1)


def test_every_notebook_has_the_same_setup_cell_second():
    cells = {setup_cell(p) for d in ("exercises", "solutions")
             for p in (ROOT / d).glob("ex*.py")}
    assert len(cells) == 1
    from regnetlab import project
    assert repr(project.install_spec()) in cells.pop()
    for path in (ROOT / "exercises").glob("ex*.py"):
        markers = [line for line in path.read_text().splitlines() if line.startswith("# %%")]
        assert markers[0] == "# %% [markdown]" and markers[1] == '# %% tags=["setup"]'


def build_wheel(tmp_path):
    """regnetlab's wheel, built from what the repository holds of it (the package, and
    the public grader tests that setup.py puts inside it)."""
    src = tmp_path / "src"
    for name in ("regnetlab", "autograder"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "setup.py", "MANIFEST.in"):
        shutil.copy(ROOT / name, src / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                           "--no-build-isolation", "-w", str(tmp_path / "wheels"), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return next((tmp_path / "wheels").glob("regnetlab-*.whl"))


def fresh_venv(tmp_path, data_root=None):
    """A new virtual environment and the settings under which the setup cell installs
    regnetlab there from a local wheel (a local index stands in for PyPI)."""
    index = local_torch_index(tmp_path / "torch-index")
    if index is None:
        pytest.skip("needs the local CPU torch wheels")
    wheel = build_wheel(tmp_path)
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(REGNETLAB_INSTALL=str(wheel), PIP_CONFIG_FILE=os.devnull,
               PIP_INDEX_URL="file:///opt/pypi/simple", PIP_EXTRA_INDEX_URL=index,
               PIP_FIND_LINKS=str(sandbox_wheel(tmp_path / "extra-wheels")),
               OMP_NUM_THREADS="1", **({"REGNETLAB_DATA": str(data_root)} if data_root else {}))
    return tmp_path / "venv" / "bin" / "python", env


def run_setup_cell(python, env, cwd):
    cell = setup_cell(ROOT / "exercises" / "ex1_deeper_regnetx.py")
    return subprocess.run([str(python), "-c", cell], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


NO_CPU_TORCHVISION = "torchvision::nms does not exist"
# the only torchvision wheel here is PyPI's CUDA build of 0.28, which does not load beside
# CPU-only torch; PyTorch's CPU index pairs them properly


def test_setup_cell_installs_regnetlab_and_the_data_in_a_fresh_venv(tmp_path, data_root):
    python, env = fresh_venv(tmp_path, data_root)
    for attempt in ("installs", "finds it installed"):
        done = run_setup_cell(python, env, tmp_path)
        where = subprocess.run([str(python), "-c", "import regnetlab.project as p; "
                                "print(p.__file__)"], cwd=tmp_path, env=env,
                               capture_output=True, text=True).stdout
        assert str(tmp_path / "venv") in where, (attempt, done.stderr[-3000:])
        if NO_CPU_TORCHVISION in done.stderr:
            pytest.skip("regnetlab installed from the wheel; the data step needs a "
                        "torchvision built for CPU torch, which this machine lacks")
        assert done.returncode == 0, (attempt, done.stdout, done.stderr[-3000:])
        assert f"Fashion-MNIST in {data_root}" in done.stdout


def run_in_kernel(cells, python, env, jupyter, allow_errors=False):
    """Execute a notebook of ``cells`` in a real Jupyter kernel of ``python``; return it."""
    import nbformat
    from nbclient import NotebookClient
    spec = jupyter / "kernels" / "fresh"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh venv", "language": "python", "env": env}))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    saved = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(jupyter)
    try:
        NotebookClient(nb, kernel_name="fresh", timeout=600, allow_errors=allow_errors,
                       resources={"metadata": {"path": str(jupyter.parent)}}).execute()
    finally:
        if saved is None:
            os.environ.pop("JUPYTER_PATH")
        else:
            os.environ["JUPYTER_PATH"] = saved
    return nb


def shown(cell):
    """What a cell displayed: its text and HTML outputs."""
    out = []
    for o in cell.outputs:
        out.append(o.get("text", ""))
        out += [o.get("data", {}).get(k, "") for k in ("text/html", "text/plain")]
    return "\n".join(out)


def test_check_in_a_real_kernel_shows_the_rubric_in_the_notebook(tmp_path):
    """The exercise notebook with the solution filled in, run top to bottom in a Jupyter
    kernel of a fresh venv that installed regnetlab as the setup cell does; its last cell
    runs ``regnetlab.check("ex1")``."""
    pytest.importorskip("nbclient")
    python, env = fresh_venv(tmp_path)
    done = run_setup_cell(python, env, tmp_path)
    assert done.returncode == 0 or NO_CPU_TORCHVISION in done.stderr, done.stderr[-3000:]
    got = subprocess.run([str(python), "-m", "pip", "install", "-q", "ipykernel"], env=env,
                         capture_output=True, text=True, timeout=600)
    assert got.returncode == 0, got.stderr[-2000:]
    import jupytext
    solution = jupytext.read(ROOT / "solutions" / "ex1_deeper_regnetx.py")
    code = [c.source for c in solution.cells if c.cell_type == "code"
            and "setup" not in c.metadata.get("tags", [])]
    assert 'regnetlab.check("ex1").show()' in code[-1]  # the notebook's last cell
    nb = run_in_kernel(code, python, env, tmp_path / "jupyter")
    table = shown(nb.cells[-1])
    m = re.search(r"regnetlab.check: (\d+)/(\d+) points", table)
    assert m and m.group(1) == m.group(2) != "0", table[-2000:]
    assert "<table>" in table and "the code this kernel has run" in table
    assert "four stages (stem, stage1..stage4, head)" in table

    # the same notebook with a bug in DeepRegNetX (its demo cell then fails too, and the
    # student runs on): the failing lines say where the bug is
    at = next(i for i, c in enumerate(code) if "class DeepRegNetX" in c)
    broken = list(code)
    broken[at] = broken[at].replace("        super().__init__(\n", "        raise ValueError("
                                    "'my bug')\n        super().__init__(\n", 1)
    assert broken[at] != code[at]
    table = shown(run_in_kernel(broken, python, env, tmp_path / "jupyter",
                                allow_errors=True).cells[-1])
    assert re.search(r"regnetlab.check: 0/\d+ points", table), table[-2000:]
    assert f"ValueError: my bug (ex1_deeper_regnetx.ipynb, cell {at + 1}, line" in table


def test_setup_sh_registers_the_venv_as_a_jupyter_kernel(tmp_path):
    pytest.importorskip("ipykernel")
    script = (ROOT / "scripts" / "setup.sh").read_text()
    m = re.search(r"\*,notebook,\*\) (\.venv/bin/python -m ipykernel install [^>]*)", script,
                  re.S)
    assert m, "setup.sh no longer registers the kernel under REGNETLAB_EXTRAS=notebook"
    command = m.group(1).replace("\\\n", " ").replace(".venv/bin/python", sys.executable)
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "JUPYTER_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    spec = json.loads((tmp_path / "kernels" / "regnetlab" / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable and spec["display_name"] == "Python (regnetlab)"
