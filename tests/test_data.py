"""Fashion-MNIST: resident tensors, verified files, clear errors, downloads that can't half-fail."""
import os
import shutil

import pytest
import torch

from regnetlab import data as D
from regnetlab.data import DataError, FashionMNIST, TensorLoader, verify_raw_folder


@pytest.fixture
def copy_of(data_root, tmp_path):
    """A writable copy of the four uncompressed files (the shared copy is read-only)."""
    raw = tmp_path / "fm" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in D._FILES:
        shutil.copy(data_root / "FashionMNIST" / "raw" / name, raw / name)
    return tmp_path / "fm"


def test_full_set_is_resident_normalised_and_balanced(data_root):
    d = FashionMNIST(batch_size=256, root=data_root)
    X, y = d.train
    assert X.shape == (60000, 1, 28, 28) and X.dtype == torch.float32
    assert d.val[0].shape == (10000, 1, 28, 28)
    assert abs(X.mean().item()) < 0.01 and abs(X.std().item() - 1) < 0.01
    assert torch.bincount(y).tolist() == [6000] * 10


def test_resize_is_done_once_up_front(data_root):
    d = FashionMNIST(batch_size=32, resize=(96, 96), root=data_root, limit_train=64, limit_test=32)
    X, _ = next(iter(d.train_dataloader()))
    assert X.shape == (32, 1, 96, 96) and d.train[0].shape == (64, 1, 96, 96)


def test_loader_covers_every_image_once_per_epoch_and_reshuffles():
    X, y = torch.arange(10).float().view(10, 1, 1, 1), torch.arange(10)
    loader = TensorLoader(X, y, batch_size=4, shuffle=True, seed=1)
    epochs = [torch.cat([b[1] for b in loader]) for _ in range(2)]
    for e in epochs:
        assert sorted(e.tolist()) == list(range(10))
    assert epochs[0].tolist() != epochs[1].tolist()
    again = TensorLoader(X, y, batch_size=4, shuffle=True, seed=1)
    assert torch.cat([b[1] for b in again]).tolist() == epochs[0].tolist()


def test_a_training_batch_of_one_is_dropped_batch_norm_cannot_use_it():
    loader = TensorLoader(torch.zeros(9, 1, 1, 1), torch.zeros(9), batch_size=4, shuffle=True)
    assert [len(b[1]) for b in loader] == [4, 4]
    test_loader = TensorLoader(torch.zeros(9, 1, 1, 1), torch.zeros(9), batch_size=4)
    assert [len(b[1]) for b in test_loader] == [4, 4, 1]


def test_root_comes_from_argument_then_environment_then_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("REGNETLAB_DATA", str(tmp_path / "env"))
    assert D.resolve_root(tmp_path / "arg") == (tmp_path / "arg", False)
    assert D.resolve_root() == (tmp_path / "env", False)
    monkeypatch.delenv("REGNETLAB_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert D.resolve_root() == (tmp_path / "cache" / "regnetlab" / "fashion-mnist", True)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(DataError, match=r"no Fashion-MNIST folder at .*FashionMNIST/raw.*REGNETLAB_DATA"):
        FashionMNIST(root=tmp_path / "nowhere")


def test_partial_folder_names_the_missing_file(copy_of):
    os.remove(copy_of / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte")
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte is missing \(the data folder is partial\)"):
        verify_raw_folder(copy_of)


def test_truncated_file_is_called_corrupt(copy_of):
    path = copy_of / "FashionMNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"is corrupt: 1000 bytes .* expected 47040016 bytes"):
        verify_raw_folder(copy_of)


def test_one_flipped_pixel_is_caught_by_the_checksum(copy_of):
    path = copy_of / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte"
    raw = bytearray(path.read_bytes())
    raw[5000] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="md5 differs"):
        FashionMNIST(root=copy_of)


def test_failed_download_leaves_nothing_behind(monkeypatch, tmp_path):
    import torchvision.datasets

    def half_download(root, train=True, download=False):
        raw = os.path.join(root, "FashionMNIST", "raw")
        os.makedirs(raw)
        with open(os.path.join(raw, "train-images-idx3-ubyte"), "wb") as f:
            f.write(b"\x00\x00\x08\x03 half a file")
        raise ConnectionError("network unreachable")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", half_download)
    monkeypatch.delenv("REGNETLAB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(DataError, match="downloading Fashion-MNIST .* failed .*Nothing was written"):
        D.load_split()
    root = tmp_path / "regnetlab" / "fashion-mnist"
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_successful_download_is_verified_then_moved_into_place(monkeypatch, tmp_path, data_root):
    import torchvision.datasets
    real = torchvision.datasets.FashionMNIST

    def fake_download(root, train=True, download=False):
        raw = os.path.join(root, "FashionMNIST", "raw")
        os.makedirs(raw, exist_ok=True)
        for name in D._FILES:
            shutil.copy(data_root / "FashionMNIST" / "raw" / name, raw)
        return real(root, train=train)

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", fake_download)
    D.download(tmp_path / "regnetlab" / "fashion-mnist")
    verify_raw_folder(tmp_path / "regnetlab" / "fashion-mnist")
    leftovers = [p.name for p in (tmp_path / "regnetlab" / "fashion-mnist").iterdir()]
    assert leftovers == ["FashionMNIST"]  # the temporary download folder is gone


@pytest.mark.parametrize("kwargs,match", [
    (dict(batch_size=0), "batch_size=0"), (dict(limit_train=-5), "limit_train=-5"),
    (dict(resize=(0, 28)), "resize=")])
def test_bad_arguments_are_named(kwargs, match, data_root):
    with pytest.raises(ValueError, match=match):
        FashionMNIST(root=data_root, **kwargs)


def test_a_resident_set_too_big_for_memory_is_refused_up_front(data_root):
    with pytest.raises(DataError, match=r"70,000 images of 2000x2000 take .* GiB .*--limit-train"):
        FashionMNIST(resize=(2000, 2000), root=data_root)
