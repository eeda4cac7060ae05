#!/bin/sh
# Render an HTML report (from `modelcheck check --html`) to a PNG with headless
# Chromium, to look at the diagrams as a browser draws them.
#   scripts/render_report.sh report.html report.png [WIDTHxHEIGHT]
# Needs Debian's `chromium` package (apt-get install -y chromium).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2; exit 2; }
html=$(realpath "$1")
out=$(realpath -m "$2")
size=${3:-1400x4000}
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "$0: chromium not found (apt-get install -y chromium)" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars \
    --window-size="$(echo "$size" | tr x ,)" --screenshot="$out" "file://$html" 2>/dev/null
[ -s "$out" ] || { echo "$0: no screenshot written" >&2; exit 1; }
echo "$out"
