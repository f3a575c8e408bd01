"""Regenerate every figure and snippet of the docs site that comes from regnetlab.

    .venv/bin/python docs/scripts/build_assets.py          # write docs/figures/*.png, docs/snippets/*.md
    .venv/bin/python docs/scripts/build_assets.py --check  # exit 1 if a committed snippet is stale

The explorer's figures and tables (docs/figures/explore/, results/summary/) come from
recorded runs and have their own command, ``regnetlab explore report``. The parts of the
exercise and instructors' pages that come from the stubs and the grader are made at
build time by docs/hooks/. KaTeX is vendored by docs/scripts/vendor_katex.sh.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import snippets  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; fail if a committed snippet is out of date")
    args = parser.parse_args(argv)
    if args.check:
        stale = snippets.main(check=True)
        if stale:
            print("stale docs snippets (run python docs/scripts/build_assets.py): "
                  + ", ".join(stale))
            return 1
        print("docs snippets are up to date")
        return 0
    import figures  # matplotlib: only when drawing
    figures.main()
    snippets.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
