"""The trusted side's graph format: rebuilt networks compute what the originals do, and
everything outside the allowlist, the format or the size caps is refused by name."""
import json

import pytest
import torch
from safetensors.torch import save
from torch import nn
from torch.nn import functional as F

from regnetlab import AnyNet, RegNetX32, Residual
from regnetlab.grading import checks
from regnetlab.grading.exercises import Family
from regnetlab.grading.measure import graph, network as measure
from regnetlab.grading.worker import capture


def captured(model, captures=("train28", "eval28"), lr=0.1):
    """``model`` through the real path: capture here, bytes, rebuild on the trusted side."""
    data = capture.capture(model, captures)
    meta = {"name": "m", "class": type(model).__name__, "graphs": data["graphs"], "lr": lr}
    return capture.dumps(meta).encode(), save(data["tensors"])


def rebuilt(model, **kw):
    return graph.load_network(*captured(model, **kw))


def test_regnetx32_is_rebuilt_exactly_with_its_structure():
    torch.manual_seed(0)
    model = RegNetX32()
    net = rebuilt(model)
    x = torch.randn(3, 1, 28, 28)
    model.eval(), net.eval()
    with torch.no_grad():
        assert torch.equal(model(x), net(x))
    model.train(), net.train()
    F.cross_entropy(model(x), torch.tensor([1, 2, 3])).backward()
    F.cross_entropy(net(x), torch.tensor([1, 2, 3])).backward()
    theirs = dict(model.named_parameters())
    for attr, p in net.state.named_parameters():
        assert torch.allclose(p.grad, theirs[net.tensor_name(attr)].grad, atol=1e-6)
    facts = measure.describe(net, Family.CONV)
    assert checks.depths(facts) == (4, 6) and checks.widths(facts) == (32, 80)
    assert checks.group_widths(facts) == (16, 16) and checks.bot_muls(facts) == (1, 1)
    assert facts["stem"] == {"out_channels": 32, "stride": 2} and facts["layout"]["ok"]
    checks.check_downsampling(facts)
    checks.check_shortcuts(facts)
    assert facts["params"] == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("make, op", [
    (lambda: nn.Sequential(nn.Unfold(3), nn.Flatten(), nn.LazyLinear(10)), "aten.im2col"),
    (lambda: _AsStrided(), "aten.as_strided"),
])
def test_sliding_window_tricks_are_refused_by_name(make, op):
    with pytest.raises(graph.GraphError, match=op):
        rebuilt(_materialized(make()), captures=("eval28",))


def test_an_operation_outside_the_allowlist_is_refused_by_name():
    meta, tensors = captured(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)))
    data = json.loads(meta)
    data["graphs"]["eval28"]["nodes"][0]["target"] = "builtins.eval"
    with pytest.raises(graph.GraphError, match="uses builtins.eval, which the grader does not"):
        graph.load_network(json.dumps(data).encode(), tensors)


def test_no_pickle_is_ever_loaded(tmp_path):
    import pickle
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    meta, _ = captured(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)))
    for tensors in (pickle.dumps(Payload()), b"PK\x03\x04" + b"\0" * 64):
        with pytest.raises(graph.GraphError, match="not valid safetensors"):
            graph.load_network(meta, tensors)
    assert not marker.exists()


def test_caps_and_malformed_files_are_refused():
    meta, tensors = captured(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)))
    with pytest.raises(graph.GraphError, match="a graph file of"):
        graph.load_network(b" " * (graph.MAX_JSON_BYTES + 1), tensors)
    with pytest.raises(graph.GraphError, match="not valid JSON"):
        graph.load_network(b"{'a': NaN", tensors)
    with pytest.raises(graph.GraphError, match="not sent"):
        graph.load_network(meta, save({"other": torch.zeros(1)}))
    nan = {k: torch.full_like(v, float("nan")) for k, v in
           capture.capture(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), ("eval28",))
           ["tensors"].items()}
    with pytest.raises(graph.GraphError, match="NaN or infinity"):
        graph.load_network(meta, save(nan))
    data = json.loads(meta)
    data["lr"] = -1
    with pytest.raises(graph.GraphError, match="lr = -1"):
        graph.load_network(json.dumps(data).encode(), tensors)


class _AsStrided(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(9, 10)

    def forward(self, X):
        return self.fc(X.as_strided((X.shape[0], 9), (784, 1)))


class _Frozen(nn.Module):
    """A body whose weights hide in a buffer and whose output is detached."""

    def __init__(self, detach=True):
        super().__init__()
        self.register_buffer("w", torch.randn(16, 784) * 0.05)
        self.fc = nn.Linear(784, 16)
        self.head = nn.Linear(16, 10)
        self.detach = detach

    def forward(self, X):
        X = X.flatten(1)
        body = F.relu(self.fc(X) + X @ self.w.T)
        return self.head(body.detach() if self.detach else body)


def _materialized(model):
    model.eval()
    with torch.no_grad():
        model(torch.zeros(2, 1, 28, 28))
    return model


def test_every_tensor_is_trained_and_a_detached_body_is_found():
    net = rebuilt(_Frozen(detach=False))
    names = {net.tensor_name(a) for a, _ in net.state.named_parameters()}
    assert "w" in names  # a weight hidden in a buffer is trained like any other
    assert measure.gradients(net)["without_gradient"] == []
    missing = measure.gradients(rebuilt(_Frozen(detach=True)))["without_gradient"]
    assert set(missing) == {"w", "fc.weight", "fc.bias"}


class _NoShortcut(AnyNet):
    """Residual blocks whose shortcut is multiplied by zero: not a live shortcut."""

    def stage(self, depth, num_channels):
        return nn.Sequential(*[_ZeroShortcut(num_channels, i == 0) for i in range(depth)])


class _ZeroShortcut(Residual):
    def __init__(self, num_channels, first):
        super().__init__(num_channels, use_1x1conv=first, strides=2 if first else 1)

    def forward(self, X):
        Y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(X)))))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + 0 * X)


def test_a_dead_shortcut_is_not_live():
    torch.manual_seed(0)
    facts = measure.describe(rebuilt(_NoShortcut(((1, 16), (2, 24)), 8)), Family.CONV)
    assert [b["kind"] for s in facts["stages"] for b in s["blocks"]] == ["residual"] * 3
    with pytest.raises(AssertionError, match="residual connection .* is missing"):
        checks.check_shortcuts(facts)


def test_a_zero_initialised_residual_scale_still_learns():
    """torchvision's zero_init_residual: the branch opens after one step, so it counts."""
    torch.manual_seed(0)
    model = RegNetX32()
    for name, p in model.named_parameters():
        if name.endswith("bn3.weight"):
            p.data.zero_()
    assert measure.gradients(rebuilt(model))["without_gradient"] == []
