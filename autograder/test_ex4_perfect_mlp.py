"""Exercise 4: the "perfect" MLP from the chapter's design principles (d2l 8.8.6, ex. 4)."""
import pytest

from regnetlab.grading import checks, expect, fail
from regnetlab.grading.exercises.ex4_perfect_mlp import ANYMLP_ARCH
from regnetlab.principles import MLP_PRINCIPLES, mlp_holds

pytestmark = pytest.mark.exercise("ex4")

# What each principle's name in MLP_PRINCIPLES (given in the stub) asks of an arch.
PRINCIPLE_TESTS = {name: (lambda arch, name=name: mlp_holds(name, arch))
                   for name in MLP_PRINCIPLES}


def arch_of(net):
    """(depth, width, bot_mul) per stage, as measured."""
    out = []
    for s in net["stages"]:
        ks = {b.get("bot_mul") for b in s["blocks"]}
        out.append((s["depth"], s["out_features"], ks.pop() if len(ks) == 1 else None))
    return out


@pytest.fixture(scope="module")
def perfect(ex4):
    return ex4.get("PerfectMLP.structure")


@pytest.mark.points(4)
def test_no_convolutions(ex4, perfect):
    """ex4: no convolution in AnyMLP or PerfectMLP: their graphs hold no convolution"""
    # measured on the captured graphs, where sliding-window tricks (unfold, as_strided)
    # are refused outright: a convolution hidden in an MLP is still a convolution
    for label, net in (("PerfectMLP()", perfect), ("AnyMLP(arch, 32)", ex4.get("AnyMLP.custom"))):
        expect(not net["conv_ops"],
               f"{label}'s forward pass runs {', '.join(net['conv_ops'])}; an MLP has only "
               "Linear, normalisation and activation layers")


@pytest.mark.points(4)
def test_anymlp_builds_its_arch(ex4):
    """ex4: AnyMLP(arch, stem_width) builds the stages its arch says"""
    net = ex4.get("AnyMLP.custom")
    call = f"AnyMLP(arch={ANYMLP_ARCH}, stem_width=32)"
    expect(net.get("stem", {}).get("out_features") == 32,
           f"{call}: the stem outputs {net.get('stem', {}).get('out_features')} features; "
           "expected 32")
    found = arch_of(net)
    expect(len(found) == len(ANYMLP_ARCH),
           f"{call} has {len(found)} stages; expected {len(ANYMLP_ARCH)}")
    for i, (got, want) in enumerate(zip(found, ANYMLP_ARCH), 1):
        for j, what in enumerate(("depth (blocks)", "width (features out)",
                                  "bottleneck ratio (hidden / width)")):
            expect(got[j] == want[j], f"{call}: stage {i} has {what} {got[j]}; expected "
                   f"{want[j]}")


@pytest.mark.points(2)
def test_residual_blocks(ex4, perfect):
    """ex4: every block is a residual MLP block with a live shortcut"""
    for label, net in (("PerfectMLP()", perfect), ("AnyMLP(arch, 32)", ex4.get("AnyMLP.custom"))):
        for i, s in enumerate(net["stages"], 1):
            for j, b in enumerate(s["blocks"], 1):
                expect(b["mlp_block"], f"{label} stage {i} block {j} is a {b['type']}; "
                       "expected an MLP block with fc1 and fc2 (see the stub)")
                expect(b.get("shortcut"), f"{label} stage {i} block {j}: its output does not "
                       "depend on the shortcut: the residual connection (Y + X) is missing")


@pytest.mark.points(3)
def test_perfect_follows_principles(perfect):
    """ex4: PerfectMLP is an AnyMLP that follows every principle of MLP_PRINCIPLES"""
    checks.check_layout(perfect, "AnyMLP")
    arch = arch_of(perfect)
    expect(len(arch) >= 2, f"PerfectMLP has {len(arch)} stage(s); expected at least 2, so "
           "that the principles say something")
    for name, holds in PRINCIPLE_TESTS.items():
        expect(holds(arch), f"PerfectMLP's stages (depth, width, bot_mul) {arch} break "
               f"'{name}'")


@pytest.mark.points(2)
def test_outputs(ex4):
    """ex4: logits of shape [batch, 10], finite (28x28 and 96x96 images)"""
    checks.check_outputs(ex4.get("PerfectMLP.outputs"))


@pytest.fixture(scope="module")
def samples(ex4):
    return ex4.get("sample_anymlp")


@pytest.mark.points(3)
def test_samples_obey_constraints(samples):
    """ex4: sample_anymlp(rng, constraints) obeys each constraint asked for"""
    for name, holds in PRINCIPLE_TESTS.items():
        drawn = samples["samples"].get(name)
        if drawn is None:
            fail(f"sample_anymlp was not run with constraints=({name!r},): is it in "
                 "MLP_PRINCIPLES?")
        for s in drawn:
            expect(holds(s["arch"]), f"sample_anymlp(rng, constraints=({name!r},)) drew "
                   f"arch {s['arch']}, which breaks {name!r}")


@pytest.mark.points(1)
def test_samples_explore(samples):
    """ex4: without constraints, sample_anymlp explores the whole design space"""
    free = samples["samples"][""]
    for name, holds in PRINCIPLE_TESTS.items():
        expect(not all(holds(s["arch"]) for s in free),
               f"sample_anymlp(rng) with no constraint obeyed {name!r} in all "
               f"{len(free)} draws; without constraints it should sample the whole space")
    expect(len({str(s) for s in free}) > 1, "sample_anymlp(rng) drew the same network for "
           "every seed; expected random draws that depend on rng")


@pytest.mark.points(1)
def test_unknown_constraint(samples):
    """ex4: sample_anymlp refuses an unknown constraint with a ValueError"""
    raised = samples["unknown"]
    expect(raised["raised"] == "ValueError",
           "sample_anymlp(rng, constraints=('no_such_principle',)) "
           + (f"raised {raised['raised']} ({raised['message']})" if raised["raised"]
              else "did not raise")
           + "; expected a ValueError naming the allowed constraints")


@pytest.mark.points(1)
def test_samples_build(ex4, samples):
    """ex4: a sampled network builds as an AnyMLP with the stages it was sampled with"""
    first = samples["samples"][""][0]
    net = ex4.get("sample_anymlp.first")
    want = [tuple(s) for s in first["arch"]]
    expect(arch_of(net) == want and net["stem"]["out_features"] == first["stem_width"],
           f"AnyMLP(**sample_anymlp(random.Random(0))) was sampled with arch {want} and stem "
           f"width {first['stem_width']}, but the network built has stages {arch_of(net)} and "
           f"a stem of {net['stem']['out_features']} features")


@pytest.mark.points(1)
def test_every_parameter_learns(ex4):
    """ex4: every parameter of PerfectMLP receives a gradient (nothing frozen or detached)"""
    checks.check_gradients(ex4.get("PerfectMLP.gradients"), "PerfectMLP")


@pytest.mark.points(3)
def test_learns(ex4, thresholds):
    """ex4: PerfectMLP learns: short training beats the calibrated accuracy"""
    checks.check_accuracy(ex4.trained("PerfectMLP.train"), thresholds["ex4.PerfectMLP"],
                          "PerfectMLP")
