#!/usr/bin/env bash
# Make (or reuse) the virtual environment .venv and install regnetlab with the extras
# named in $REGNETLAB_EXTRAS (default: test). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[${REGNETLAB_EXTRAS:-test}]"
echo "setup: .venv ready ($(.venv/bin/python -c 'import torch, regnetlab; print("regnetlab", regnetlab.__version__, "torch", torch.__version__)'))"
