"""Notebook submissions: read as the module they define, chosen beside the .py stubs,
graded like ``.py`` files, errors and hangs reported by notebook cell.

The notebooks here are made with nbformat, as Jupyter and Colab save them (outputs
included); none of their code runs in this process.
"""
import json
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from regnetlab.grading.intake import choose, unfinished_parts
from regnetlab.grading.intake.notebook import NotebookError, read_notebook, to_module

from test_grader import EXERCISES, SOLUTIONS, grade, points

# what published answers to this chapter put in their notebooks, beside the definitions
INSTALL = "!pip install -q regnetlab\n%matplotlib inline"
SUMMARY = "import regnetlab as d2l\nmodel = d2l.RegNetX32()\nmodel.layer_summary((1, 1, 96, 96))"
FIT = ("%%time\ntrainer = d2l.Trainer(max_epochs=10, num_gpus=1)\n"
       "data = d2l.FashionMNIST(batch_size=128, resize=(224, 224))\ntrainer.fit(model, data)")


def as_notebook(py_source):
    """A solution's percent script as a student's saved notebook: its cells, then an
    install cell second, a model summary and a 10-epoch fit at the end, with outputs."""
    import jupytext
    nb = jupytext.reads(py_source, fmt="py:percent")
    nb.cells.insert(1, nbformat.v4.new_code_cell(INSTALL, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="Successfully installed\n")]))
    nb.cells.append(nbformat.v4.new_code_cell(SUMMARY, execution_count=7, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="Sequential output shape: ...\n")]))
    nb.cells.append(nbformat.v4.new_code_cell(FIT, execution_count=8, outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=" * 2000})]))
    return nbformat.writes(nb)


def notebook_class(folder, replace=None):
    """The template's untouched .py stubs, each beside the solution as a notebook."""
    folder.mkdir(parents=True, exist_ok=True)
    for stub in EXERCISES.glob("ex*.py"):
        shutil.copyfile(stub, folder / stub.name)
        source = (replace or {}).get(stub.stem) or (SOLUTIONS / stub.name).read_text()
        (folder / f"{stub.stem}.ipynb").write_text(as_notebook(source))
    return folder


def cells(*sources):
    return [(i, s) for i, s in enumerate(sources, 1)]


# -- reading a notebook as a module ----------------------------------------------------

def test_only_definitions_run_and_what_is_left_out_is_listed_by_cell():
    out = to_module(cells(
        INSTALL,
        "import torch\nARCH = ((1, 32), (2, 64))\nWIDTHS = tuple(c for _, c in ARCH)",
        "def f(x):\n    return x + 1\n\nf(2)",
        SUMMARY,
        FIT,
        "%%bash\necho hi",
        "try:\n    import scipy\nexcept ImportError:\n    scipy = None",
        'if __name__ == "__main__":\n    f(3)',
        "x = 1; print(x)",
    ), "nb.ipynb")
    namespace = {}
    exec(compile(out.text, "nb", "exec"), namespace)  # the test's own, trusted notebook
    assert namespace["WIDTHS"] == (32, 64) and namespace["f"](1) == 2
    assert namespace["scipy"] is not None and namespace["x"] == 1
    assert "model" not in namespace and "trainer" not in namespace
    assert out.left_out == [
        "cell 3, line 4: `f(2)`",
        "cell 4, line 2: `model = d2l.RegNetX32()`",
        "cell 4, line 3: `model.layer_summary((1, 1, 96, 96))`",
        "cell 5, line 2: `trainer = d2l.Trainer(max_epochs=10, num_gpus=1)`",
        "cell 5, line 3: `data = d2l.FashionMNIST(batch_size=128, resize=(224, 224))`",
        "cell 5, line 4: `trainer.fit(model, data)`",
        "cell 9, line 1: `x = 1; print(x)`",
    ]
    assert out.notes == ["cell 1, line 1: IPython `!pip install -q regnetlab` removed",
                         "cell 1, line 2: IPython `%matplotlib inline` removed",
                         "cell 5, line 1: IPython `%%time` removed",
                         "cell 6: a %%bash cell (not Python); left out"]


def test_every_module_line_knows_its_cell_and_line():
    out = to_module(cells("# text", "%matplotlib inline\n\ndef g():\n    raise ValueError"),
                    "nb.ipynb")
    line = next(i for i, text in enumerate(out.text.splitlines(), 1) if "raise" in text)
    assert out.where(line) == "cell 2, line 4"
    assert out.where(0) is None and out.where(10_000) is None


@pytest.mark.parametrize("raw, message", [
    (b"\xff\xfe", "not a Jupyter notebook (not JSON"),
    (b"[1, 2]", "no list of cells"),
    (b'{"cells": [{"cell_type": "code", "source": 3}]}', "cell 1 has no text source"),
    (json.dumps({"cells": [{"cell_type": "markdown", "source": "x"},
                           {"cell_type": "code", "source": "def f(:\n  pass"}]}).encode(),
     "nb.ipynb, cell 2, line 1: SyntaxError"),
])
def test_a_notebook_that_is_not_one_is_a_clear_error(raw, message):
    with pytest.raises(NotebookError, match=None) as e:
        to_module(read_notebook(raw, "nb.ipynb"), "nb.ipynb")
    assert message in str(e.value) and "Traceback" not in str(e.value)


def test_a_huge_notebook_is_refused_before_it_is_parsed(monkeypatch):
    from regnetlab.grading.intake import notebook
    monkeypatch.setattr(notebook, "MAX_NOTEBOOK_BYTES", 1000)
    with pytest.raises(NotebookError, match="1,001 bytes; notebooks over"):
        read_notebook(b" " * 1001, "nb.ipynb")


# -- which file is graded ---------------------------------------------------------------

def test_the_file_with_fewer_unfinished_parts_is_graded(tmp_path):
    stub = (EXERCISES / "ex4_perfect_mlp.py").read_text()
    done = (SOLUTIONS / "ex4_perfect_mlp.py").read_text()
    assert unfinished_parts(stub) >= 2 and unfinished_parts(done) == 0
    ex = {"ex4": "ex4_perfect_mlp"}

    def chosen(py, nb):
        folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        if py is not None:
            (folder / "ex4_perfect_mlp.py").write_text(py)
        if nb is not None:
            (folder / "ex4_perfect_mlp.ipynb").write_text(as_notebook(nb))
        return choose(folder, ex)["ex4"]

    assert chosen(stub, done).file == "ex4_perfect_mlp.ipynb"   # completed in Colab
    assert chosen(done, stub).file == "ex4_perfect_mlp.py"      # completed with jupytext
    tie = chosen(done, done)
    assert tie.file == "ex4_perfect_mlp.py" and "both files are finished" in tie.passed_over
    # half done in the notebook beats the untouched stub
    half = stub.replace(stub[stub.index("def sample_anymlp"):], done[done.index("def sample_anymlp"):])
    assert 0 < unfinished_parts(half) < unfinished_parts(stub)
    assert chosen(stub, half).file == "ex4_perfect_mlp.ipynb"
    assert chosen(None, done).file == "ex4_perfect_mlp.ipynb"
    assert chosen(None, None).file is None
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "ex4_perfect_mlp.ipynb").write_text("{not json")
    (broken / "ex4_perfect_mlp.py").write_text(stub)
    src = choose(broken, ex)["ex4"]
    assert src.file == "ex4_perfect_mlp.py" and "cannot be read" in src.passed_over


# -- graded like a .py ------------------------------------------------------------------

@pytest.fixture(scope="module")
def notebooks_structure(tmp_path_factory):
    folder = notebook_class(tmp_path_factory.mktemp("nb") / "submission")
    return grade(folder, "--no-train", cwd=folder.parent)


def test_notebooks_beside_the_stubs_earn_every_structure_point(notebooks_structure):
    result, output, code = notebooks_structure
    assert code == 0, output[-3000:]
    graded = [t for t in result["tests"] if t["status"] != "skipped"]
    assert graded and all(t["status"] == "passed" for t in graded), output[-3000:]
    for ex, module in [("ex1", "ex1_deeper_regnetx"), ("ex2", "ex2_de_resnextify"),
                       ("ex3", "ex3_vionet"), ("ex4", "ex4_perfect_mlp")]:
        source = result["sources"][ex]
        assert source["file"] == f"{module}.ipynb" and source["kind"] == "notebook"
        assert "unfinished part(s)" in source["not_graded"]
        assert any("trainer.fit(model, data)" in w for w in source["left_out"])
        assert f"graded from {module}.ipynb" in output


def test_an_error_in_a_notebook_points_at_its_cell_and_line(tmp_path):
    done = (SOLUTIONS / "ex2_de_resnextify.py").read_text()
    broken = done.replace("        super().__init__(((4, 32)",
                          "        raise RuntimeError('my bug')\n        super().__init__(((4, 32)", 1)
    assert broken != done
    folder = notebook_class(tmp_path / "submission", {"ex2_de_resnextify": broken})
    result, output, _ = grade(folder, "--no-train", "--only", "ex2", cwd=tmp_path)
    messages = [t["message"] for t in result["tests"] if t["status"] == "failed"]
    assert messages and all("RuntimeError: my bug (ex2_de_resnextify.ipynb, cell " in m
                            for m in messages), messages
    assert ".py, line" not in " ".join(messages)


def test_a_hanging_notebook_is_reported_fast_naming_the_phase(tmp_path):
    done = (SOLUTIONS / "ex1_deeper_regnetx.py").read_text()
    hangs = done.replace("stem_channels, groups, bot_mul = 32, 16, 1",
                         "while True:\n            pass\n        stem_channels, groups, bot_mul = 32, 16, 1")
    assert hangs != done
    folder = notebook_class(tmp_path / "submission", {"ex1_deeper_regnetx": hangs})
    start = time.monotonic()
    result, output, _ = grade(folder, "--no-train", "--only", "ex1", cwd=tmp_path)
    took = time.monotonic() - start
    assert took < 60, f"the hang took {took:.0f} s to report"
    points_ex1 = points(result, "ex1")
    assert points_ex1[0] == 0
    message = next(t["message"] for t in result["tests"] if t["status"] == "failed")
    assert message.startswith("DeepRegNetX.structure: DeepRegNetX() did not return within 10 s")
    assert "ex1_deeper_regnetx.ipynb, cell" in message


@pytest.mark.slow
def test_notebooks_score_100_in_about_the_time_of_the_py_files(tmp_path, data_root):
    """The four solutions as notebooks beside the stubs, trained on the CPU tier, and the
    same solutions as .py files, one after the other: both 100/100, and the two times
    printed side by side (a speed figure, not an assertion: the machine may be shared)."""
    folder = notebook_class(tmp_path / "notebooks")
    start = time.monotonic()
    nb_result, nb_output, _ = grade(folder, cwd=tmp_path)
    nb_s = time.monotonic() - start
    start = time.monotonic()
    py_result, py_output, _ = grade(SOLUTIONS, cwd=tmp_path)
    py_s = time.monotonic() - start
    print(f"\nnotebooks {nb_s:.1f} s, .py files {py_s:.1f} s ({nb_s / py_s:.2f}x)")
    assert py_result["score"] == 100, py_output[-3000:]
    assert nb_result["score"] == nb_result["max_score"] == 100, nb_output[-3000:]
    assert {ex: s["file"] for ex, s in nb_result["sources"].items()} == {
        ex: Path(f).with_suffix(".ipynb").name
        for ex, f in [(ex, s["file"]) for ex, s in py_result["sources"].items()]}
