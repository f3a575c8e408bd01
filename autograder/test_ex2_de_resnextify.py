"""Exercise 2: De-ResNeXt-ify RegNets with the ResNet block (d2l 8.8.6, exercise 2)."""
import pytest

from regnetlab.grading import checks, expect
from regnetlab.grading.exercises.ex2_de_resnextify import DE_ANYNET_ARCH

pytestmark = pytest.mark.exercise("ex2")


@pytest.fixture(scope="module")
def net(ex2):
    return ex2.get("DeResNeXt.structure")


@pytest.mark.points(2)
def test_builds(net):
    """ex2: DeResNeXt() builds with AnyNet's layout (stem, stages, head)"""
    checks.check_layout(net, "AnyNet")


@pytest.mark.points(4)
def test_residual_blocks(net):
    """ex2: every block is a ResNet Residual block, no ResNeXt block left"""
    checks.check_block_kind(net, "residual")


@pytest.mark.points(4)
def test_downsampling(net):
    """ex2: each stage's first block halves the resolution through a 1x1 projection"""
    checks.check_downsampling(net)


@pytest.mark.points(3)
def test_shortcuts(net):
    """ex2: every block has a live residual connection"""
    checks.check_shortcuts(net)


@pytest.mark.points(3)
def test_regnetx32_layout(net):
    """ex2: RegNetX32's layout: stem 32, depths (4, 6), widths (32, 80)"""
    checks.check_stem(net, 32)
    checks.check_stages(net, (4, 6), (32, 80))


@pytest.mark.points(3)
def test_de_anynet_builds_other_archs(ex2):
    """ex2: DeAnyNet(arch, stem_channels) builds any (depth, num_channels) stages"""
    net = ex2.get("DeAnyNet.custom")
    expect(net.get("stem", {}).get("out_channels") == 8,
           f"DeAnyNet(arch={DE_ANYNET_ARCH}, stem_channels=8): stem has "
           f"{net.get('stem', {}).get('out_channels')} channels; expected 8")
    checks.check_stages(net, [d for d, _ in DE_ANYNET_ARCH], [c for _, c in DE_ANYNET_ARCH])
    checks.check_block_kind(net, "residual")
    checks.check_downsampling(net)


@pytest.mark.points(2)
def test_outputs(ex2):
    """ex2: logits of shape [batch, 10], finite, at 28x28 and 96x96"""
    checks.check_outputs(ex2.get("DeResNeXt.outputs"))


@pytest.mark.points(1)
def test_every_parameter_learns(ex2):
    """ex2: every parameter of DeResNeXt receives a gradient (nothing frozen or detached)"""
    checks.check_gradients(ex2.get("DeResNeXt.gradients"), "DeResNeXt")


@pytest.mark.points(3)
def test_learns(ex2, thresholds):
    """ex2: DeResNeXt learns: short training beats the calibrated accuracy"""
    checks.check_accuracy(ex2.trained("DeResNeXt.train"), thresholds["ex2.DeResNeXt"],
                          "DeResNeXt")
