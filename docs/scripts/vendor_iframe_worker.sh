#!/usr/bin/env bash
# Refresh the vendored iframe-worker shim in docs/assets/iframe-worker/ from the npm registry.
#
# Why: mkdocs-material's offline plugin makes search work when the site is opened from disk
# (file://), where browsers refuse web workers; it does so with this shim, which it would
# otherwise load from a CDN. The site loads nothing from the internet, so the shim (1.4 kB)
# lives in the repo and mkdocs.yml names it under extra.polyfills.
#
# Usage: bash docs/scripts/vendor_iframe_worker.sh [VERSION]   (needs npm; default: the pinned one)
set -euo pipefail
VERSION=${1:-1.0.4}
cd "$(dirname "$0")/../.."
DEST=docs/assets/iframe-worker
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "iframe-worker@$VERSION" >/dev/null && tar xzf "iframe-worker-$VERSION.tgz")
rm -rf "$DEST"
mkdir -p "$DEST"
cp "$TMP/package/shim/index.js" "$DEST/shim.js"
cp "$TMP/package/LICENSE" "$DEST/LICENSE"
echo "$VERSION" > "$DEST/VERSION"
echo "vendored iframe-worker $VERSION into $DEST"
