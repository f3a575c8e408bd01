"""Fashion-MNIST, loaded once and kept resident as tensors.

``torchvision.datasets.FashionMNIST`` reads the files; then the whole set lives in one
float tensor (on the GPU when training there), normalised once and resized once, and a
batch is one indexing operation. The book's pipeline instead builds a PIL image and runs
``Resize`` + ``ToTensor`` for every sample of every epoch, which dominates the run time
of a small network on a CPU (see benchmarks/bench_train.py).

Where the data comes from, first match wins: the ``root`` argument (CLI ``--data``), the
environment variable ``REGNETLAB_DATA``, else a user cache folder, downloaded on first use.
"""
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import torch
from torch.nn import functional as F

CLASSES = ("t-shirt", "trouser", "pullover", "dress", "coat",
           "sandal", "shirt", "sneaker", "bag", "ankle boot")
# Mean and std of the 60,000 training images in [0, 1]: normalise once with these.
MEAN, STD = 0.2860, 0.3530

# name -> (number of items, md5 of the uncompressed file): the official release.
_FILES = {
    "train-images-idx3-ubyte": (60000, "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    "train-labels-idx1-ubyte": (60000, "9018921c3c673c538a1fc5bad174d6f9"),
    "t10k-images-idx3-ubyte": (10000, "8181f5470baa50b63fa0f6fddb340f0a"),
    "t10k-labels-idx1-ubyte": (10000, "15d484375f8d13e6eb1aabb0c3f46965"),
}


class DataError(RuntimeError):
    """The data folder is missing, partial or corrupt, or a download failed."""


def default_root():
    """The user cache folder used when neither ``--data`` nor ``REGNETLAB_DATA`` is set."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "regnetlab" / "fashion-mnist"


def resolve_root(root=None):
    """``(root, may_download)``: an explicit folder is never downloaded into."""
    if root:
        return Path(root), False
    if os.environ.get("REGNETLAB_DATA"):
        return Path(os.environ["REGNETLAB_DATA"]), False
    return default_root(), True


def verify_raw_folder(root):
    """Check the four files under ``root/FashionMNIST/raw`` (header, size and md5).

    Raises :class:`DataError` naming the first problem and what to do about it.
    """
    raw = Path(root) / "FashionMNIST" / "raw"
    fix = ("Point --data or REGNETLAB_DATA at a folder holding FashionMNIST/raw/ with the "
           "four official files, or unset both to download into " + str(default_root()))
    if not raw.is_dir():
        raise DataError(f"no Fashion-MNIST folder at {raw}. {fix}")
    for name, (count, md5) in _FILES.items():
        path = raw / name
        if not path.is_file():
            raise DataError(f"{path} is missing (the data folder is partial). {fix}")
        data = path.read_bytes()
        is_images = "images" in name
        header = 16 if is_images else 8
        expected_size = header + count * (784 if is_images else 1)
        magic = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
        if magic != (2051 if is_images else 2049) or len(data) != expected_size:
            raise DataError(
                f"{path} is corrupt: {len(data)} bytes with magic number {magic}, expected "
                f"{expected_size} bytes with magic {2051 if is_images else 2049}. {fix}")
        if hashlib.md5(data).hexdigest() != md5:
            raise DataError(f"{path} is corrupt: its md5 differs from the official file. {fix}")


def download(root):
    """Download Fashion-MNIST into ``root`` so that a failure leaves nothing behind.

    torchvision downloads into a fresh temporary folder beside ``root``; only once all
    four files are verified are they moved into place, each with an atomic rename.
    """
    from torchvision.datasets import FashionMNIST as TVFashionMNIST

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
    try:
        try:
            TVFashionMNIST(str(tmp), train=True, download=True)
        except Exception as e:  # network errors come in many types
            reason = " ".join(str(e).split())  # torchvision's message spans lines
            raise DataError(
                f"downloading Fashion-MNIST into {root} failed ({type(e).__name__}: {reason}). "
                "Nothing was written. Check the network, or point --data or "
                "REGNETLAB_DATA at a folder that already holds FashionMNIST/raw/") from None
        verify_raw_folder(tmp)
        raw = root / "FashionMNIST" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        for name in _FILES:
            os.replace(tmp / "FashionMNIST" / "raw" / name, raw / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# Folders verified in this process, with the (size, mtime) of each file when it was:
# loading both splits (or many networks in one sweep) hashes the 55 MB only once.
_VERIFIED = {}


def _stamp(path):
    raw = Path(path) / "FashionMNIST" / "raw"
    try:
        return tuple((st.st_size, st.st_mtime_ns) for st in (os.stat(raw / n) for n in _FILES))
    except OSError:
        return None


def load_split(root=None, train=True, download_ok=None):
    """``(images uint8 [N, 28, 28], labels int64 [N])`` of one split, verified."""
    from torchvision.datasets import FashionMNIST as TVFashionMNIST

    path, may_download = resolve_root(root)
    if download_ok is None:
        download_ok = may_download
    key = str(Path(path).resolve())
    if _VERIFIED.get(key) is None or _VERIFIED[key] != _stamp(path):
        try:
            verify_raw_folder(path)
        except DataError:
            if not download_ok:
                raise
            download(path)
        _VERIFIED[key] = _stamp(path)
    ds = TVFashionMNIST(str(path), train=train, download=False)
    return ds.data, ds.targets


def to_input(images, resize=None, device="cpu", chunk=4096):
    """uint8 ``[N, 28, 28]`` -> normalised float ``[N, 1, H, W]`` on ``device``, once."""
    out = []
    for i in range(0, len(images), chunk):
        x = images[i:i + chunk].to(device).unsqueeze(1).float().div_(255)
        if resize is not None and tuple(resize) != tuple(x.shape[-2:]):
            x = F.interpolate(x, size=tuple(resize), mode="bilinear",
                              align_corners=False, antialias=True)
        out.append(x.sub_(MEAN).div_(STD))
    return torch.cat(out)


class TensorLoader:
    """Batches from resident tensors: one ``index_select`` per batch, reshuffled each epoch."""

    def __init__(self, X, y, batch_size, shuffle=False, seed=0):
        self.X, self.y, self.batch_size, self.shuffle = X, y, batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        n = len(self.y) // self.batch_size
        return n + (len(self.y) % self.batch_size > (1 if self.shuffle else 0))

    def __iter__(self):
        n = len(self.y)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.X.device)
        else:
            order = torch.arange(n, device=self.X.device)
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield self.X.index_select(0, idx), self.y.index_select(0, idx)


def check_memory(resize, limit_train=None, limit_test=None, device="cpu"):
    """Refuse up front a resident set that would not fit in this machine's memory.

    The whole set lives as float32: 70,000 images of 96x96 take 2.6 GB, of 224x224 14 GB.
    """
    h, w = resize
    n = min(limit_train or 60000, 60000) + min(limit_test or 10000, 10000)
    need = n * h * w * 4
    if torch.device(device).type == "cuda":
        have = torch.cuda.get_device_properties(torch.device(device)).total_memory
    else:
        try:
            have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # not on every OS
            return
    if need > 0.6 * have:
        raise DataError(
            f"{n:,} images of {h}x{w} take {need / 2**30:.1f} GiB as resident float32 "
            f"tensors, more than 60% of this device's {have / 2**30:.1f} GiB; use a smaller "
            "--resize or --limit-train/--limit-test")


def _check_size(name, value):
    if value is not None and (int(value) != value or value < 1):
        raise ValueError(f"{name}={value!r}: expected a positive integer or None")


class FashionMNIST:
    """d2l's ``FashionMNIST(batch_size, resize)``, with the whole set resident.

    ``train_dataloader()`` and ``val_dataloader()`` yield ``(X, y)`` with X of shape
    ``[B, 1, H, W]`` normalised with the training mean and std. ``limit_train`` and
    ``limit_test`` keep the first N images of a split (for quick runs).
    """

    def __init__(self, batch_size=64, resize=(28, 28), root=None, device="cpu",
                 limit_train=None, limit_test=None, seed=0):
        if isinstance(resize, int):
            resize = (resize, resize)
        if resize is not None:
            resize = tuple(resize)
            if len(resize) != 2 or any(int(s) != s or s < 1 for s in resize):
                raise ValueError(f"resize={resize!r}: expected (height, width), positive")
        _check_size("batch_size", batch_size)
        _check_size("limit_train", limit_train)
        _check_size("limit_test", limit_test)
        check_memory(resize or (28, 28), limit_train, limit_test, device)
        self.batch_size, self.resize, self.device, self.seed = batch_size, resize, device, seed
        self.root = root
        self.train = self._load(True, limit_train)
        self.val = self._load(False, limit_test)
        self.num_train, self.num_val = len(self.train[1]), len(self.val[1])

    def _load(self, train, limit):
        images, labels = load_split(self.root, train)
        if limit is not None:
            images, labels = images[:limit], labels[:limit]
        return to_input(images, self.resize, self.device), labels.to(self.device)

    def get_dataloader(self, train):
        X, y = self.train if train else self.val
        return TensorLoader(X, y, self.batch_size, shuffle=train, seed=self.seed)

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)

    def text_labels(self, indices):
        return [CLASSES[int(i)] for i in indices]


def book_fashion_mnist(root, batch_size=128, resize=(28, 28), num_workers=4):
    """The book's pipeline, for the benchmark only: PIL + Resize + ToTensor per sample
    in 4 DataLoader workers (d2l's default)."""
    from torch.utils.data import DataLoader
    from torchvision import transforms
    from torchvision.datasets import FashionMNIST as TVFashionMNIST

    path, _ = resolve_root(root)
    verify_raw_folder(path)
    trans = transforms.Compose([transforms.Resize(resize), transforms.ToTensor()])
    train = TVFashionMNIST(str(path), train=True, transform=trans, download=False)
    val = TVFashionMNIST(str(path), train=False, transform=trans, download=False)
    return (DataLoader(train, batch_size, shuffle=True, num_workers=num_workers),
            DataLoader(val, batch_size, shuffle=False, num_workers=num_workers))


__all__ = ["FashionMNIST", "TensorLoader", "DataError", "load_split", "download",
           "verify_raw_folder", "resolve_root", "default_root", "to_input", "check_memory",
           "CLASSES"]
