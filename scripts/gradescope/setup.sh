#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image; the zip made
# by `regnetlab release gradescope` is unpacked in /autograder/source. It makes a virtual
# environment with CPU-only torch and regnetlab, and fetches Fashion-MNIST into it.
#
# Overridable (for testing the zip away from Gradescope, or a mirror):
#   REGNETLAB_AUTOGRADER_ROOT  the folder Gradescope calls /autograder
#   REGNETLAB_TORCH_INDEX      where CPU-only torch comes from (PyTorch's CPU index)
#   REGNETLAB_PIP_INDEX        where everything else comes from (PyPI)
#   REGNETLAB_PIP_ARGS         more pip arguments, e.g. --find-links DIR
#   REGNETLAB_DATA             a folder that already holds FashionMNIST/raw/ (no download)
#   REGNETLAB_NO_APT=1         do not apt-get Python (it is there already)
set -euo pipefail
ROOT=${REGNETLAB_AUTOGRADER_ROOT:-/autograder}
SRC="$ROOT/source"
TORCH_INDEX=${REGNETLAB_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
PIP_INDEX=${REGNETLAB_PIP_INDEX:-https://pypi.org/simple}
read -r -a PIP_ARGS <<< "${REGNETLAB_PIP_ARGS:-}"

if [ -z "${REGNETLAB_NO_APT:-}" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
python3 -m venv "$ROOT/venv"
PY="$ROOT/venv/bin/python"
"$PY" -m pip install -q "${PIP_ARGS[@]}" --index-url "$TORCH_INDEX" \
  --extra-index-url "$PIP_INDEX" torch torchvision
"$PY" -m pip install -q "${PIP_ARGS[@]}" --index-url "$PIP_INDEX" "$SRC"
if [ -z "${REGNETLAB_DATA:-}" ]; then
  "$PY" -c 'import sys; from regnetlab.data import download; download(sys.argv[1])' "$SRC/data"
fi
echo "setup.sh: ready ($("$PY" -c 'import torch, regnetlab; print("regnetlab", regnetlab.__version__, "torch", torch.__version__)'))"
