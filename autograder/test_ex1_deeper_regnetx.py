"""Exercise 1: a deeper RegNetX with four stages (d2l 8.8.6, exercise 1).

Each test is one rubric line (its docstring) worth its `points`. The facts are measured
by the grader on the graph of `DeepRegNetX()` that the sandboxed worker captured from
the submission (see regnetlab/grading/).
"""
import pytest

from regnetlab.grading import checks, expect

pytestmark = pytest.mark.exercise("ex1")



@pytest.fixture(scope="module")
def net(ex1):
    return ex1.get("DeepRegNetX.structure")


@pytest.mark.points(2)
def test_builds_as_anynet(net):
    """ex1: DeepRegNetX() builds with AnyNet's layout (stem, stages, head)"""
    checks.check_layout(net, "AnyNet")


@pytest.mark.points(3)
def test_four_stages(net):
    """ex1: four stages (stem, stage1..stage4, head)"""
    checks.check_num_stages(net, 4)


@pytest.mark.points(2)
def test_resnext_blocks_with_shortcuts(net):
    """ex1: every block is a ResNeXt block with a live residual connection"""
    checks.check_block_kind(net, "resnext")
    checks.check_shortcuts(net)


@pytest.mark.points(3)
def test_downsampling(net):
    """ex1: each stage's first block halves the resolution through a 1x1 projection"""
    checks.check_downsampling(net)


@pytest.mark.points(3)
def test_shared_group_width(net):
    """ex1: one group width g shared by all stages"""
    checks.check_group_width(net)


@pytest.mark.points(2)
def test_shared_bottleneck(net):
    """ex1: one bottleneck ratio k shared by all stages"""
    checks.check_bot_mul(net)


@pytest.mark.points(2)
def test_widths_non_decreasing(net):
    """ex1: widths do not decrease (c_1 <= c_2 <= c_3 <= c_4)"""
    checks.check_non_decreasing(checks.widths(net), "widths", "c")


@pytest.mark.points(2)
def test_depths_non_decreasing(net):
    """ex1: depths do not decrease (d_1 <= d_2 <= d_3 <= d_4)"""
    checks.check_non_decreasing(checks.depths(net), "depths", "d")


@pytest.mark.points(2)
def test_outputs(ex1):
    """ex1: logits of shape [batch, 10], finite, at 28x28 and 96x96"""
    checks.check_outputs(ex1.get("DeepRegNetX.outputs"))


@pytest.mark.points(1)
def test_flop_budget(net, grading):
    """ex1: at most twice RegNetX32's FLOPs on a 28x28 image"""
    # deeper, not wider, so that the four-stage net still trains in seconds on a laptop
    # CPU; both FLOP counts are measured by the grader on graphs
    budget = 2 * grading.reference["RegNetX32.flops"]
    expect(net["flops"] <= budget,
           f"DeepRegNetX needs {net['flops'] / 1e6:.1f} MFLOPs on a 28x28 image; the budget "
           f"is {budget / 1e6:.1f} MFLOPs (twice RegNetX32): use fewer or narrower blocks")


@pytest.mark.points(1)
def test_every_parameter_learns(ex1):
    """ex1: every parameter of DeepRegNetX receives a gradient (nothing frozen or detached)"""
    checks.check_gradients(ex1.get("DeepRegNetX.gradients"), "DeepRegNetX")


@pytest.mark.points(2)
def test_learns(ex1, thresholds):
    """ex1: DeepRegNetX learns: short training passes the calibrated threshold"""
    checks.check_accuracy(ex1.trained("DeepRegNetX.train"), thresholds["ex1.DeepRegNetX"],
                          "DeepRegNetX")
