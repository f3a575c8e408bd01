"""The exercise stubs: generated from the solutions, in sync, importable and helpful;
and the reference solutions they are cut from build what the exercises ask for."""
import importlib
import importlib.util
import functools
import random
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) from anywhere
    sys.path.insert(0, str(ROOT))

from regnetlab import stubs as make_stubs  # noqa: E402  (scripts/make_stubs.py calls it)

MODULES = ["ex1_deeper_regnetx", "ex2_de_resnextify", "ex3_vionet", "ex4_perfect_mlp"]


# -- the generator on a small synthetic solution -----------------------------------------

TOY = '''\
# %% [markdown]
# # Toy exercise

# %%
import math


# %%
class Toy:
    """A toy."""

    def area(self, r):
        """Area of a disc."""
        # STUB: write area(r): pi r squared
        # STUB: (d2l 8.8.1).
        # BEGIN SOLUTION
        return math.pi * r ** 2
        # END SOLUTION


# %% [markdown] tags=["solution"]
# Only in the solution.

# %%
X = 1
'''

TOY_STUB = '''\
# %% [markdown]
# # Toy exercise

# %%
# Generated from solutions/toy.py by scripts/make_stubs.py.
# Students: fill in every part that raises NotImplementedError.
import math


# %%
class Toy:
    """A toy."""

    def area(self, r):
        """Area of a disc."""
        raise NotImplementedError(
            'write area(r): pi r squared (d2l 8.8.1).')


# %%
X = 1
'''


def test_make_stub_replaces_blocks_and_drops_solution_cells():
    assert make_stubs.make_stub(TOY, "solutions/toy.py") == TOY_STUB
    [block] = make_stubs.solution_blocks(TOY, "toy.py")
    assert block == make_stubs.Block("Toy.area", "write area(r): pi r squared (d2l 8.8.1).", 16)


def test_long_messages_wrap_and_survive_quotes():
    msg = 'write it "exactly" so; it\'s long ' * 8 + "(d2l 8.8.3)"
    src = f"def f():\n    # STUB: {msg}\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n"
    stub = make_stubs.make_stub(src, "t.py")
    assert max(len(line) for line in stub.splitlines()) <= make_stubs.LINE_WIDTH
    namespace = {}
    exec(compile(stub, "t.py", "exec"), namespace)
    with pytest.raises(NotImplementedError) as e:
        namespace["f"]()
    assert str(e.value) == " ".join(msg.split())


def _toy(body):
    """TOY with the area() body replaced by ``body`` (lines at 8 spaces)."""
    start = TOY.index("        # STUB: write area")
    end = TOY.index("        # END SOLUTION\n") + len("        # END SOLUTION\n")
    return TOY[:start] + body + TOY[end:]


OK_STUB = "        # STUB: write area (d2l 8.8.1)\n"
MALFORMED = {
    "no END": (_toy(OK_STUB + "        # BEGIN SOLUTION\n        return 1\n"),
               15, "not closed"),
    "END without BEGIN": (_toy("        return 1\n        # END SOLUTION\n"),
                          15, "without a '# BEGIN SOLUTION'"),
    "no STUB": (_toy("        # BEGIN SOLUTION\n        return 1\n        # END SOLUTION\n"),
                14, "without '# STUB: <message>'"),
    "STUB without BEGIN": (_toy(OK_STUB + "        return 1\n"), 14, "not followed by"),
    "no chapter section": (_toy("        # STUB: write area\n        # BEGIN SOLUTION\n"
                                "        return 1\n        # END SOLUTION\n"),
                           14, "names no section of the chapter"),
    "nested": (_toy(OK_STUB + "        # BEGIN SOLUTION\n        # BEGIN SOLUTION\n"
                    "        return 1\n        # END SOLUTION\n"), 16, "inside the solution"),
    "END indented differently": (_toy(OK_STUB + "        # BEGIN SOLUTION\n        return 1\n"
                                      "    # END SOLUTION\n"), 17, "indented differently"),
    "typo": (_toy(OK_STUB + "        # BEGIN SOLUTION\n        return 1\n"
                  "        # END SOLUTION\n        # begin solution\n        pass\n"),
             18, "unrecognised marker"),
    "at class level": (TOY.replace("    def area", "    # STUB: x (d2l 8.8.1)\n"
                                   "    # BEGIN SOLUTION\n    k = 1\n    # END SOLUTION\n\n"
                                   "    def area"), 13, "outside a function body"),
    "no END at the end of the file": (
        "def f():\n    # STUB: x (d2l 8.8.1)\n    # BEGIN SOLUTION\n    return 1\n", 3,
        "not closed by '# END SOLUTION' before the end of the file"),
    "not Python": (TOY.replace("import math", "import math)"), 5, "not valid Python"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_markers_name_file_and_line(case):
    source, line, words = MALFORMED[case]
    with pytest.raises(make_stubs.MarkerError) as e:
        make_stubs.make_stub(source, "toy.py")
    assert str(e.value).startswith(f"toy.py:{line}: "), str(e.value)
    assert words in str(e.value)


def test_check_names_each_out_of_sync_file(tmp_path, capsys):
    sol, ex = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    (sol / "__init__.py").write_text("")
    (sol / "toy.py").write_text(TOY)
    args = ["--solutions", str(sol), "--exercises", str(ex)]
    assert make_stubs.main(args) == 0
    assert (ex / "toy.py").read_text() == TOY_STUB
    assert make_stubs.main(["--check"] + args) == 0
    (ex / "toy.py").write_text(TOY_STUB + "# edited by hand\n")
    (ex / "__init__.py").unlink()
    (ex / "stale.py").write_text("")
    capsys.readouterr()
    assert make_stubs.main(["--check"] + args) == 1
    err = capsys.readouterr().err
    assert f"{ex / 'toy.py'}: differs" in err
    assert f"{ex / '__init__.py'}: missing" in err
    assert f"{ex / 'stale.py'}: has no solution" in err
    (sol / "toy.py").write_text(TOY.replace("# END SOLUTION", ""))
    assert make_stubs.main(args) == 2  # a marker error writes nothing
    assert "toy.py:16: '# BEGIN SOLUTION' not closed" in capsys.readouterr().err
    assert (ex / "toy.py").read_text() == TOY_STUB + "# edited by hand\n"


# -- the real stubs ------------------------------------------------------------------------

def test_exercises_are_in_sync_with_solutions():
    problems = make_stubs.out_of_sync(ROOT / "solutions", ROOT / "exercises")
    assert not problems, ("exercises/ is out of sync; run `python scripts/make_stubs.py`:\n"
                          + "\n".join(problems))


@pytest.mark.parametrize("name", MODULES)
def test_stub_imports_and_reads_as_a_notebook(name):
    jupytext = pytest.importorskip("jupytext")
    importlib.import_module(f"exercises.{name}")  # module-level code must not raise
    nb = jupytext.read(ROOT / "exercises" / f"{name}.py")
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    for words in ("Dive into Deep Learning", "What you write", "autograder checks", "Hints"):
        assert words in first.source, f"exercises/{name}.py: first cell lacks {words!r}"
    assert not any("solution" in c.metadata.get("tags", ()) for c in nb.cells)
    assert "SOLUTION" not in (ROOT / "exercises" / f"{name}.py").read_text()


# How to reach each piece a student writes, by (module, qualname) of its solution block.
TRIGGERS = {
    ("ex1_deeper_regnetx", "DeepRegNetX.__init__"): lambda m: m.DeepRegNetX(),
    ("ex2_de_resnextify", "DeAnyNet.stage"): lambda m: m.DeAnyNet(((1, 8),), 8),
    ("ex2_de_resnextify", "DeResNeXt.__init__"): lambda m: m.DeResNeXt(),
    ("ex3_vionet", "VioNet.__init__"): lambda m: m.VioNet(),
    ("ex3_vionet", "vionet_family"): lambda m: m.vionet_family(),
    ("ex4_perfect_mlp", "MLPBlock.__init__"): lambda m: m.MLPBlock(8, 8, 1.0),
    ("ex4_perfect_mlp", "MLPBlock.forward"): lambda m: m.MLPBlock.forward(None, torch.zeros(2, 8)),
    ("ex4_perfect_mlp", "AnyMLP.stem"): lambda m: m.AnyMLP(((1, 8, 1.0),), 8),
    ("ex4_perfect_mlp", "AnyMLP.stage"): lambda m: m.AnyMLP.stage(None, 1, 8, 1.0),
    ("ex4_perfect_mlp", "sample_anymlp"): lambda m: m.sample_anymlp(random.Random(0)),
    ("ex4_perfect_mlp", "PerfectMLP.__init__"): lambda m: m.PerfectMLP(),
}


def _blocks():
    return {(name, b.qualname): b for name in MODULES
            for b in make_stubs.solution_blocks(
                (ROOT / "solutions" / f"{name}.py").read_text(), f"{name}.py")}


def test_every_piece_to_write_is_triggered_here():
    assert set(_blocks()) == set(TRIGGERS)


@pytest.mark.parametrize("key", TRIGGERS, ids=lambda k: f"{k[0]}:{k[1]}")
def test_each_unimplemented_piece_says_what_to_write_and_where(key):
    block = _blocks()[key]
    module = importlib.import_module(f"exercises.{key[0]}")
    with pytest.raises(NotImplementedError) as e:
        TRIGGERS[key](module)
    message = str(e.value)
    assert message == block.message
    assert message.startswith(f"Exercise {key[0][2]}: write {key[1].replace('.__init__', '')}")
    assert make_stubs.CHAPTER_REF.search(message)


# -- the reference solutions ---------------------------------------------------------------

def sol(name):
    return importlib.import_module(f"solutions.{name}")


def _principles_broken(arch):
    """Keys of the RegNetX principles an AnyNet ``arch`` of (d, c, g, k) stages breaks."""
    d, c, g, k = zip(*arch)
    return {key for key, ok in (("d", list(d) == sorted(d)), ("c", list(c) == sorted(c)),
                                ("g", len(set(g)) == 1), ("b", len(set(k)) == 1)) if not ok}


def _models():
    ex1, ex2, ex3, ex4 = (sol(n) for n in MODULES)
    models = {"DeepRegNetX": ex1.DeepRegNetX, "DeResNeXt": ex2.DeResNeXt,
              "DeAnyNet": lambda: ex2.DeAnyNet(((1, 16), (2, 24), (1, 40)), 8),
              "VioNet": ex3.VioNet, "AnyMLP": lambda: ex4.AnyMLP(((1, 64, 1.0), (2, 128, 0.5)), 32),
              "PerfectMLP": ex4.PerfectMLP}
    models.update({f"vionet_family[{k}]": (lambda k=k: _family()[k]) for k in "dcgb"})
    return models


@functools.lru_cache(maxsize=None)
def _family():
    torch.manual_seed(0)
    return sol("ex3_vionet").vionet_family()


@pytest.mark.parametrize("name", list(_models()))
def test_solution_models_give_finite_logits_at_28_and_96(name):
    torch.manual_seed(0)
    model = _models()[name]()
    for batch, size, train in ((1, 28, False), (4, 28, True), (1, 96, False), (4, 96, True)):
        model.train(train)
        with torch.no_grad():
            y = model(torch.randn(batch, 1, size, size))
        assert y.shape == (batch, 10), (batch, size, train)
        assert torch.isfinite(y).all(), (batch, size, train)


def test_deep_regnetx_has_four_stages_that_obey_the_principles():
    from regnetlab import RegNetX32, check_input_size, complexity
    model = sol("ex1_deeper_regnetx").DeepRegNetX()
    assert len(model.arch) == 4
    assert _principles_broken(model.arch) == set()
    for d, c, g, k in model.arch:
        assert int(round(c * k)) % g == 0
    check_input_size(model, 28)
    assert complexity(model).flops <= 2 * complexity(RegNetX32()).flops


def test_de_resnext_is_regnetx32_with_residual_blocks():
    from regnetlab import Residual
    model = sol("ex2_de_resnextify").DeResNeXt()
    stages = [model.net.stage1, model.net.stage2]
    assert [len(s) for s in stages] == [4, 6]
    assert model.net[0][0].out_channels == 32
    for stage, width in zip(stages, (32, 80)):
        assert all(isinstance(b, Residual) and b.conv2.out_channels == width for b in stage)
        assert stage[0].conv3 is not None and stage[0].conv3.stride == (2, 2)
        assert all(b.conv3 is None and b.conv1.stride == (1, 1) for b in list(stage)[1:])


def test_vionet_defaults_are_regnetx32_and_members_break_one_principle_each():
    from regnetlab import RegNetX32, count_params
    ex3 = sol("ex3_vionet")
    assert ex3.VioNet().arch == ((4, 32, 16, 1), (6, 80, 16, 1))
    assert count_params(ex3.VioNet()) == count_params(RegNetX32())
    family = _family()
    assert set(family) == set(ex3.PRINCIPLES) == set("dcgb")
    for key, model in family.items():
        assert isinstance(model, ex3.VioNet)
        assert _principles_broken(model.arch) == {key}, (key, model.arch)
        assert model.stem_channels == 32 and len(model.arch) == 2
        baseline = ((4, 32, 16, 1), (6, 80, 16, 1))
        # Everything but the quantity the principle is about is RegNetX32's.
        same = {"d": (1, 2, 3), "c": (0, 2, 3), "g": (0, 1, 3), "b": (0, 1, 2)}[key]
        assert [[s[i] for i in same] for s in model.arch] == \
               [[s[i] for i in same] for s in baseline]
    with pytest.raises(ValueError, match=r"depths=\(4, 6, 8\) \(3\)"):
        ex3.VioNet(depths=(4, 6, 8))


def test_mlps_have_no_convolutions_and_project_only_when_the_width_changes():
    ex4 = sol("ex4_perfect_mlp")
    for model in (ex4.PerfectMLP(), ex4.AnyMLP(((1, 32, 1.0), (2, 64, 0.5)), 32)):
        assert not any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())
    model = ex4.AnyMLP(((1, 32, 1.0), (2, 64, 0.5)), 32)
    blocks = list(model.net.stage1) + list(model.net.stage2)
    assert [b.proj is not None for b in blocks] == [False, True, False]
    assert [b.fc1.out_features for b in blocks] == [32, 32, 32]


def test_sample_anymlp_obeys_constraints_and_is_uniform():
    ex4 = sol("ex4_perfect_mlp")
    principles = ex4.MLP_PRINCIPLES
    for seed in range(200):
        s = ex4.sample_anymlp(random.Random(seed), constraints=principles, num_stages=3)
        d, w, k = zip(*s["arch"])
        assert list(d) == sorted(d) and list(w) == sorted(w) and len(set(k)) == 1
        assert s["stem_width"] in (32, 64, 128)
    assert ex4.sample_anymlp(random.Random(3)) == ex4.sample_anymlp(random.Random(3))
    # Non-decreasing depths from (1, 2): three sequences, each a third of the draws.
    rng = random.Random(0)
    counts = Counter(tuple(d for d, _, _ in ex4.sample_anymlp(
        rng, ("increasing_depths",), depths=(1, 2))["arch"]) for _ in range(3000))
    assert set(counts) == {(1, 1), (1, 2), (2, 2)}
    assert all(900 < n < 1100 for n in counts.values()), counts
    with pytest.raises(ValueError, match="'wider'.*shared_bottleneck"):
        ex4.sample_anymlp(random.Random(0), constraints=("wider",))
