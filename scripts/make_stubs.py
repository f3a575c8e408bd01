"""Write exercises/ from solutions/ (``--check``: only compare). The code is
``regnetlab/stubs.py``, so that ``regnetlab release`` needs nothing outside the package."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from regnetlab.stubs import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
