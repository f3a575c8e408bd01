"""The book's own code for section 8.8 runs unchanged with ``import regnetlab as d2l``.

``listings/cnn_design_pytorch.py`` holds the chapter's PyTorch cells (with attribution);
this test changes only the import line and runs them, on a few images so it takes seconds.
"""
import math
import re
from pathlib import Path

import pytest
import torch
from torch import nn

import regnetlab
from regnetlab.data import FashionMNIST

LISTING = Path(__file__).parent / "listings" / "cnn_design_pytorch.py"
BOOK_IMPORT, OUR_IMPORT = "from d2l import torch as d2l", "import regnetlab as d2l"


def cells():
    """``{name: code}`` of the listing's ``# %% name`` cells, with the import changed."""
    text = LISTING.read_text()
    line = re.compile(f"^{re.escape(BOOK_IMPORT)}$", flags=re.M)
    assert len(line.findall(text)) == 1, "the listing should import d2l exactly once"
    text = line.sub(OUR_IMPORT, text)
    parts = re.split(r"^# %% (.+)$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def run_cells(names, namespace):
    for name in names:
        exec(compile(cells()[name], f"{LISTING.name}:{name}", "exec"), namespace)
    return namespace


def xavier_bound(w):
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(w)
    return math.sqrt(6.0 / (fan_in + fan_out))


def test_listing_defines_the_books_network_and_its_summary(capsys):
    ns = run_cells(["imports", "stem", "stage", "__init__", "RegNetX32", "layer_summary"], {})
    out = capsys.readouterr().out.splitlines()
    # stem, 2 stages, head: 96 -> 48 -> 24 -> 12 -> 10 logits, as printed in the book
    assert out == ["Sequential output shape:\t torch.Size([1, 32, 48, 48])",
                   "Sequential output shape:\t torch.Size([1, 32, 24, 24])",
                   "Sequential output shape:\t torch.Size([1, 80, 12, 12])",
                   "Sequential output shape:\t torch.Size([1, 10])"]
    net = ns["RegNetX32"]()
    assert ns["stage"] is None  # d2l's add_to_class returns nothing, so neither do we
    assert net.lr == 0.1 and net.hparams == {"arch": net.arch, "stem_channels": 32,
                                             "lr": 0.1, "num_classes": 10}
    assert [n for n, _ in net.net.named_children()] == ["0", "stage1", "stage2", "head"]


def test_init_cnn_on_lazy_layers_gives_xavier_weights_at_the_first_batch():
    """The book applies init_cnn before the layers know their shapes; it must still count."""
    ns = run_cells(["imports", "stem", "stage", "__init__", "RegNetX32"], {})
    torch.manual_seed(0)
    net = ns["RegNetX32"]()
    net(torch.randn(2, 1, 32, 32))
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == 1 + 3 * 10 + 2 + 1  # stem, 3 convs per block, 2 shortcuts, head
    for m in layers:
        bound = xavier_bound(m.weight)
        assert m.weight.abs().max() <= bound + 1e-6, m
        if m.weight.numel() >= 2000:  # enough weights to tell Xavier from torch's default
            assert m.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.1), m


def test_the_training_cell_runs_unchanged(data_root, monkeypatch, capsys):
    """``Trainer(max_epochs=10, num_gpus=1).fit`` on 16 images: the chapter's code, seconds."""
    def few_images(batch_size=64, resize=(28, 28), **kwargs):
        return FashionMNIST(batch_size, resize, root=data_root, limit_train=16,
                            limit_test=16, **kwargs)

    monkeypatch.setattr(regnetlab, "FashionMNIST", few_images)
    torch.manual_seed(0)
    ns = run_cells(["imports", "stem", "stage", "__init__", "RegNetX32", "training"], {})
    res, trainer = ns["trainer"].result, ns["trainer"]
    expected = "cuda:0" if torch.cuda.is_available() else "cpu"  # num_gpus=1, as in d2l
    assert res.device == expected and res.epochs == 10 and len(res.history) == 10
    assert all(math.isfinite(h["train_loss"]) for h in res.history)
    assert ns["data"].train[0].shape[-2:] == (96, 96)
    assert trainer.model is ns["model"] and ns["model"].trainer is trainer
    # not a terminal: one line per epoch, no carriage-return bar updates
    out = capsys.readouterr()
    assert "\r" not in out.out + out.err
    assert [line.split()[:2] for line in out.out.splitlines()] == [
        ["epoch", str(e)] for e in range(1, 11)]
