import os
import signal
from pathlib import Path

import pytest
import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
# Tests stop graders with Ctrl-C (SIGINT). A shell that starts the suite in the background
# makes it ignore SIGINT, and every process it starts inherits that; a handler of our own
# is reset to the default in each child instead, so their Ctrl-C works wherever we run.
signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def data_root():
    """The verified Fashion-MNIST copy named by REGNETLAB_DATA (CI sets it)."""
    root = os.environ.get("REGNETLAB_DATA")
    if not root or not (Path(root) / "FashionMNIST" / "raw").is_dir():
        pytest.skip("REGNETLAB_DATA is unset or has no FashionMNIST/raw: real-data test skipped")
    return Path(root)
