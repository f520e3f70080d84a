#!/usr/bin/env bash
# Refresh the vendored front-end files from the npm registry (versions pinned here and in VERSIONS.md).
set -euo pipefail
cd "$(dirname "$0")"
HTMX=2.0.11
WS=2.0.4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$HTMX" "htmx-ext-ws@$WS" >/dev/null)
tar xzf "$work/htmx.org-$HTMX.tgz" -C "$work" package/dist/htmx.min.js package/LICENSE
cp "$work/package/dist/htmx.min.js" "htmx-$HTMX.min.js"
cp "$work/package/LICENSE" htmx.LICENSE
rm -rf "$work/package"
tar xzf "$work/htmx-ext-ws-$WS.tgz" -C "$work" package/dist/ws.min.js
cp "$work/package/dist/ws.min.js" "htmx-ext-ws-$WS.min.js"
sha256sum "htmx-$HTMX.min.js" "htmx-ext-ws-$WS.min.js"
