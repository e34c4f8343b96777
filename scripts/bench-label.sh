#!/usr/bin/env bash
# Benchmark of `mxinfer label` at several sizes over the same addresses: generates evidence
# for each size (scripts/gen-label-evidence.py: DOMAINS domains over ADDRS addresses),
# labels it with the release binary with one thread and with every core, and prints per
# run the wall clock, domains/s, CPU time and peak RSS (GNU time); then the bytes of peak
# RSS per additional domain between the smallest and the largest size, the speed-up of
# the cores over one thread, the cost of a gzip-compressed resolve input, and the output
# bytes per domain. Pure computation: no network.
#
# Usage: scripts/bench-label.sh [SIZES] [ADDRS]
#   SIZES: domain counts separated by commas (default 1000000,4000000); ADDRS default 50000.
#   BENCH_DIR (default /tmp/mxinfer-bench-label) keeps the generated evidence between runs.
#   BASELINE_BIN: another mxinfer binary (e.g. an older build) run on the same evidence with
#   default settings, for a ratio in the same run (this machine's speed drifts).
#   CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-1000000,4000000}
addrs=${2:-50000}
root=${BENCH_DIR:-/tmp/mxinfer-bench-label}
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/mxinfer
if [ ! -x /usr/bin/time ]; then
  echo "GNU time is missing: apt-get install -y time" >&2
  exit 1
fi
cargo build --release --locked --bin mxinfer
cores=$(nproc)
results=$root/results.tsv
mkdir -p "$root"
: > "$results"

# run NAME DIR BIN DNS [ARGS...]: one label run, a line of results.
run() {
  local name=$1 dir=$2 exe=$3 dns=$4
  shift 4
  rm -f "$dir/labels.jsonl" "$dir/claims.jsonl"
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$dir/time.txt" "$exe" label --progress off \
    --dns "$dns" --probes "$dir/probes.jsonl" \
    --out "$dir/labels.jsonl" --claims "$dir/claims.jsonl" "$@"
  read -r wall user sys rss < "$dir/time.txt"
  local n out_bytes
  n=$(basename "$dir")
  out_bytes=$(stat -c %s "$dir/labels.jsonl")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$n" "$wall" "$user" "$sys" "$rss" "$out_bytes" >> "$results"
  python3 - "$name" "$n" "$wall" "$user" "$sys" "$rss" "$out_bytes" <<'PY'
import sys
name, n, wall, user, sysc, rss, out = sys.argv[1:]
n, wall, cpu, rss, out = int(n), float(wall), float(user) + float(sysc), int(rss), int(out)
print(f"{name:>22} {n:>10,} domains: {wall:7.2f} s  {n / wall:>9,.0f} domains/s  "
      f"CPU {cpu:6.2f} s  peak RSS {rss / 1024:7,.0f} MiB  output {out / n:6.0f} bytes/domain")
PY
}

IFS=, read -r -a size_list <<< "$sizes"
for n in "${size_list[@]}"; do
  dir=$root/$n
  if [ ! -s "$dir/dns.jsonl" ] || [ ! -s "$dir/probes.jsonl" ]; then
    python3 scripts/gen-label-evidence.py "$dir" "$n" "$addrs" >/dev/null
  fi
  echo "evidence $n: $(du -h "$dir/dns.jsonl" | cut -f1) dns.jsonl, $(du -h "$dir/probes.jsonl" | cut -f1) probes.jsonl ($addrs addresses)"
  run "1 thread" "$dir" "$bin" "$dir/dns.jsonl" --label-threads 1
  run "$cores threads" "$dir" "$bin" "$dir/dns.jsonl" --label-threads "$cores"
  if [ -n "${BASELINE_BIN:-}" ]; then
    run "baseline" "$dir" "$BASELINE_BIN" "$dir/dns.jsonl"
  fi
done

# The gzip-compressed input, on the smallest size.
small=${size_list[0]}
dir=$root/$small
if [ ! -s "$dir/dns.jsonl.gz" ]; then
  gzip -1 -k -c "$dir/dns.jsonl" > "$dir/dns.jsonl.gz"
fi
run "gzip input, $cores thr" "$dir" "$bin" "$dir/dns.jsonl.gz" --label-threads "$cores"

python3 - "$results" "$cores" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
cores = sys.argv[2]
by = {(r[0], int(r[1])): r for r in rows}
sizes = sorted({int(r[1]) for r in rows})
lo, hi = sizes[0], sizes[-1]
for name in ["1 thread", f"{cores} threads", "baseline"]:
    if (name, lo) in by and (name, hi) in by and hi > lo:
        d = (int(by[(name, hi)][5]) - int(by[(name, lo)][5])) * 1024 / (hi - lo)
        print(f"{name}: {d:.0f} bytes of peak RSS per additional domain between {lo:,} and {hi:,}")
for n in sizes:
    one, many = by.get(("1 thread", n)), by.get((f"{cores} threads", n))
    if one and many:
        print(f"{n:,}: {cores} threads {float(one[2]) / float(many[2]):.2f}x the speed of one")
    base = by.get(("baseline", n))
    if base and many:
        print(f"{n:,}: {float(base[2]) / float(many[2]):.2f}x the baseline binary's speed")
g = by.get((f"gzip input, {cores} thr", lo))
if g and (f"{cores} threads", lo) in by:
    p = by[(f"{cores} threads", lo)]
    print(f"gzip input: {float(g[2]) / float(p[2]):.2f}x the wall clock of the plain input")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($cores cores)"
