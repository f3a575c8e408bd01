import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def data_root():
    """The verified Fashion-MNIST copy named by REGNETLAB_DATA (CI sets it)."""
    root = os.environ.get("REGNETLAB_DATA")
    if not root or not (Path(root) / "FashionMNIST" / "raw").is_dir():
        pytest.skip("REGNETLAB_DATA is unset or has no FashionMNIST/raw: real-data test skipped")
    return Path(root)
