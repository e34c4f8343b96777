#!/usr/bin/env bash
# Benchmark of `mxinfer label`: generates evidence for DOMAINS domains over ADDRS addresses
# (default 1,000,000 over 50,000; scripts/gen-label-evidence.py), labels it with the release
# binary and prints domains/s and peak RSS (GNU time). Pure computation: no network.
#
# Usage: scripts/bench-label.sh [DOMAINS] [ADDRS]
#   BENCH_DIR (default /tmp/mxinfer-bench-label) keeps the generated evidence between runs.
#   CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
domains=${1:-1000000}
addrs=${2:-50000}
dir=${BENCH_DIR:-/tmp/mxinfer-bench-label}/${domains}-${addrs}
target=${CARGO_TARGET_DIR:-target}
if [ ! -x /usr/bin/time ]; then
  echo "GNU time is missing: apt-get install -y time" >&2
  exit 1
fi
cargo build --release --locked --bin mxinfer
if [ ! -s "$dir/dns.jsonl" ] || [ ! -s "$dir/probes.jsonl" ]; then
  python3 scripts/gen-label-evidence.py "$dir" "$domains" "$addrs"
fi
echo "evidence: $(du -h "$dir/dns.jsonl" | cut -f1) dns.jsonl, $(du -h "$dir/probes.jsonl" | cut -f1) probes.jsonl"
rm -f "$dir/labels.jsonl" "$dir/claims.jsonl"   # truncating a large old output costs time
sync
/usr/bin/time -v "$target/release/mxinfer" label --progress off \
  --dns "$dir/dns.jsonl" --probes "$dir/probes.jsonl" \
  --out "$dir/labels.jsonl" --claims "$dir/claims.jsonl" 2> "$dir/time.txt"
wall=$(python3 -c "import json;print(json.load(open('$dir/labels.jsonl.meta.json'))['duration_s'])")
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.txt")
elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time.txt")
user=$(awk -F': ' '/User time \(seconds\)/ {print $2}' "$dir/time.txt")
sys=$(awk -F': ' '/System time \(seconds\)/ {print $2}' "$dir/time.txt")
python3 - "$domains" "$wall" "$rss_kb" "$elapsed" "$user" "$sys" <<'PY'
import sys
n, wall, rss, elapsed = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cpu = float(sys.argv[5]) + float(sys.argv[6])
print(f"label: {n} domains in {wall:.2f} s (process wall {elapsed}): {n / wall:,.0f} domains/s")
print(f"CPU: {cpu:.2f} s user+sys (one thread): {n / cpu:,.0f} domains per CPU-second")
print(f"peak RSS: {rss / 1024:,.0f} MiB")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
echo "output: $(du -h "$dir/labels.jsonl" | cut -f1) labels.jsonl; metadata: $dir/labels.jsonl.meta.json"
