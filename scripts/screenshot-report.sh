#!/usr/bin/env bash
# Renders a report.html in headless Chromium (Debian's package) to a PNG, to look at the chart.
#
#   scripts/screenshot-report.sh [REPORT.html] [OUT.png]
#
# Without REPORT.html, runs `mxinfer demo --out` on a fresh 2,000-domain world first and
# renders its report. Chromium runs with no network use (file:// page, background networking
# off) in a throw-away profile. Needs: apt-get install -y chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v chromium >/dev/null || { echo "missing chromium: apt-get install -y chromium" >&2; exit 1; }
WORK=$(mktemp -d /tmp/screenshot-report.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

REPORT=${1:-}
OUT=${2:-report.png}
if [ -z "$REPORT" ]; then
  cargo run --release --quiet -- demo --out "$WORK/demo" --progress off > /dev/null
  REPORT="$WORK/demo/report.html"
fi
REPORT=$(realpath "$REPORT")

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$WORK/profile" --hide-scrollbars --window-size=1100,1400 \
  --screenshot="$(realpath -m "$OUT")" "file://$REPORT" 2> "$WORK/chromium.log" || {
  cat "$WORK/chromium.log" >&2; exit 1; }
test -s "$OUT" || { echo "no screenshot written" >&2; cat "$WORK/chromium.log" >&2; exit 1; }
echo "wrote $OUT from $REPORT"
