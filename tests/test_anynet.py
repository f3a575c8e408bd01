"""AnyNet and RegNetX32 build the book's network, and the weight init really runs."""
import pytest
import torch
from torch import nn

from regnetlab import AnyNet, BlockConfigError, RegNetX32, count_params
from regnetlab.blocks import ResNeXtBlock


def test_regnetx32_has_the_books_parameter_count():
    assert count_params(RegNetX32()) == 179_290


def test_regnetx32_stage_outputs_on_96x96_are_48_24_12():
    model = RegNetX32().eval()
    x = torch.randn(1, 1, 96, 96)
    shapes = []
    with torch.no_grad():
        for layer in model.net:
            x = layer(x)
            shapes.append(tuple(x.shape))
    assert shapes == [(1, 32, 48, 48), (1, 32, 24, 24), (1, 80, 12, 12), (1, 10)]


def test_layout_follows_the_book():
    model = RegNetX32()
    names = [n for n, _ in model.net.named_children()]
    assert names == ["0", "stage1", "stage2", "head"]
    assert [len(model.net.stage1), len(model.net.stage2)] == [4, 6]
    for stage in (model.net.stage1, model.net.stage2):
        assert all(isinstance(b, ResNeXtBlock) for b in stage)
        assert stage[0].conv2.stride == (2, 2) and stage[0].conv4 is not None
        assert all(b.conv4 is None and b.conv2.stride == (1, 1) for b in stage[1:])
    assert model.arch[1] == (6, 80, 16, 1) and model.lr == 0.1


@pytest.mark.parametrize("size,batch", [(28, 1), (28, 5), (96, 2)])
def test_output_shape(size, batch):
    model = RegNetX32().eval()
    with torch.no_grad():
        assert model(torch.randn(batch, 1, size, size)).shape == (batch, 10)


def test_no_layer_is_left_lazy():
    for p in RegNetX32().parameters():
        assert not isinstance(p, nn.parameter.UninitializedParameter)


def _var_ratio_to_xavier(layer):
    fan_in = layer.weight[0].numel()
    fan_out = layer.weight.shape[0] * layer.weight[0, 0].numel()
    return layer.weight.var().item() / (2.0 / (fan_in + fan_out))


def test_init_cnn_really_ran():
    """Xavier variance 2/(fan_in+fan_out), not torch's default 1/(3 fan_in).

    For the stem conv (fan_in 9, fan_out 288) these differ by 5.5x; for the head
    (fan_in 80, fan_out 10) by 5.3x the other way, so either would be caught.
    """
    torch.manual_seed(0)
    model = RegNetX32()
    stem, head = model.net[0][0], model.net.head[-1]
    assert 0.7 < _var_ratio_to_xavier(stem) < 1.4
    assert 0.7 < _var_ratio_to_xavier(head) < 1.4
    plain = nn.Linear(80, 10)  # torch's default init, as the book's no-op leaves it
    assert not 0.7 < _var_ratio_to_xavier(plain) < 1.4


def test_dry_pass_leaves_batch_norm_statistics_untouched():
    model = RegNetX32()
    bn = model.net[0][1]
    assert model.training
    assert int(bn.num_batches_tracked) == 0
    assert torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))


def test_bad_stage_error_names_the_stage():
    with pytest.raises(BlockConfigError, match=r"stage 2 \(2, 80, 24, 1\).*group width 24"):
        AnyNet(((1, 32, 16, 1), (2, 80, 24, 1)), 16)
