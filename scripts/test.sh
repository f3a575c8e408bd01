#!/usr/bin/env bash
# Set up .venv (with test and docs extras), build the docs strictly, then run every test:
# the library's, the grader's and the docs'. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
REGNETLAB_EXTRAS=test,docs bash scripts/setup.sh
if [ -z "${REGNETLAB_DATA:-}" ] && [ -d ../shared/data/fashion-mnist ]; then
  export REGNETLAB_DATA="$(cd ../shared/data/fashion-mnist && pwd)"
fi
echo "test: REGNETLAB_DATA=${REGNETLAB_DATA:-<unset: tests that need the data are skipped>}"
if [ -f mkdocs.yml ]; then
  .venv/bin/mkdocs build --strict --quiet --site-dir site
  echo "test: mkdocs build --strict passed"
fi
.venv/bin/python -m pytest "$@"
