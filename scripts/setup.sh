#!/usr/bin/env bash
# Make (or reuse) the virtual environment .venv and install regnetlab with the extras
# named in $REGNETLAB_EXTRAS (default: test; add notebook for a Jupyter kernel). Safe to
# run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[${REGNETLAB_EXTRAS:-test}]"
# REGNETLAB_EXTRAS=notebook (or test,notebook ...) also registers .venv as the Jupyter
# kernel "regnetlab" for this user, so the exercise notebooks open with the right Python.
case ",${REGNETLAB_EXTRAS:-test}," in
  *,notebook,*) .venv/bin/python -m ipykernel install --user --name regnetlab \
      --display-name "Python (regnetlab)" >/dev/null
    echo "setup: Jupyter kernel 'regnetlab' registered (.venv/bin/python)" ;;
esac
echo "setup: .venv ready ($(.venv/bin/python -c 'import torch, regnetlab; print("regnetlab", regnetlab.__version__, "torch", torch.__version__)'))"
