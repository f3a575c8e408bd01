#!/usr/bin/env bash
# Refresh the vendored KaTeX in docs/assets/katex/ from the npm registry.
#
# Why vendored: the site must render math with no internet (CI and the course machines
# have no CDN access), so the few KaTeX files it needs live in the repo: the minified
# script and style, the auto-render extension and the woff2 fonts (every browser that
# runs the site reads woff2; the .woff/.ttf fallbacks the CSS also names are left out
# to keep the repo small). About 0.6 MB in all.
#
# Usage: bash docs/scripts/vendor_katex.sh [VERSION]   (needs npm; default: the pinned one)
set -euo pipefail
VERSION=${1:-0.19.1}
cd "$(dirname "$0")/../.."
DEST=docs/assets/katex
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "katex@$VERSION" >/dev/null && tar xzf "katex-$VERSION.tgz")
rm -rf "$DEST"
mkdir -p "$DEST/contrib" "$DEST/fonts"
cp "$TMP/package/dist/katex.min.js" "$TMP/package/dist/katex.min.css" "$DEST/"
cp "$TMP/package/dist/contrib/auto-render.min.js" "$DEST/contrib/"
cp "$TMP"/package/dist/fonts/*.woff2 "$DEST/fonts/"
cp "$TMP/package/LICENSE" "$DEST/LICENSE"
echo "$VERSION" > "$DEST/VERSION"
echo "vendored KaTeX $VERSION into $DEST ($(du -sh "$DEST" | cut -f1))"
