#!/usr/bin/env bash
# Benchmark of `mxinfer label` at several sizes over the same addresses: generates evidence
# for each size (scripts/gen-label-evidence.py: DOMAINS domains over ADDRS addresses),
# labels it with the release binary (built with the `parquet` feature, which changes nothing
# for JSON input) with one thread and with every core, and prints per run the wall clock,
# domains/s, CPU time and peak RSS (GNU time). Then:
# - the bytes of peak RSS per additional domain between the sizes;
# - the speed-up of the cores over one thread;
# - on the smallest size, the cost of each input form (gzip, zstd, the Parquet tables of
#   `mxinfer export`) and the bytes per domain and cost of each output form (plain, .gz,
#   .zst, --compact, --compact .zst).
# Pure computation: no network.
#
# Usage: scripts/bench-label.sh [SIZES] [ADDRS]
#   SIZES: domain counts separated by commas (default 1000000,4000000,10000000); a size
#   whose evidence and output would not fit on the disk of BENCH_DIR (keeping 5 GB free)
#   is skipped with a note. ADDRS default 50000.
#   BENCH_DIR (default /tmp/mxinfer-bench-label) keeps the generated evidence between runs
#   (about 0.4 GB per million domains; the output of a run is deleted after it).
#   BASELINE_BIN: another mxinfer binary (e.g. an older build) run on the same evidence with
#   default settings, for a ratio in the same run (this machine's speed drifts).
#   CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-1000000,4000000,10000000}
addrs=${2:-50000}
root=${BENCH_DIR:-/tmp/mxinfer-bench-label}
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/mxinfer
if [ ! -x /usr/bin/time ]; then
  echo "GNU time is missing: apt-get install -y time" >&2
  exit 1
fi
cargo build --release --locked --features parquet --bin mxinfer
cores=$(nproc)
results=$root/results.tsv
mkdir -p "$root"
: > "$results"

# run NAME DIR BIN DNS PROBES OUT [ARGS...]: one label run, a line of results; the output
# is deleted afterwards (its size is recorded).
run() {
  local name=$1 dir=$2 exe=$3 dns=$4 probes=$5 out=$6
  shift 6
  rm -f "$out" "$dir/claims.jsonl"
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$dir/time.txt" "$exe" label --progress off \
    --dns "$dns" --probes "$probes" \
    --out "$out" --claims "$dir/claims.jsonl" "$@"
  read -r wall user sys rss < "$dir/time.txt"
  local n out_bytes
  n=$(basename "$dir")
  out_bytes=$(stat -c %s "$out")
  rm -f "$out" "$out.meta.json"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$n" "$wall" "$user" "$sys" "$rss" "$out_bytes" >> "$results"
  python3 - "$name" "$n" "$wall" "$user" "$sys" "$rss" "$out_bytes" <<'PY'
import sys
name, n, wall, user, sysc, rss, out = sys.argv[1:]
n, wall, cpu, rss, out = int(n), float(wall), float(user) + float(sysc), int(rss), int(out)
print(f"{name:>24} {n:>11,} domains: {wall:7.2f} s  {n / wall:>9,.0f} domains/s  "
      f"CPU {cpu:6.2f} s  peak RSS {rss / 1024:7,.0f} MiB  output {out / n:6.0f} bytes/domain")
PY
}

# Free bytes on the disk of BENCH_DIR.
free_bytes() { df -B1 --output=avail "$root" | tail -1; }

IFS=, read -r -a size_list <<< "$sizes"
done_sizes=()
for n in "${size_list[@]}"; do
  dir=$root/$n
  if [ ! -s "$dir/dns.jsonl" ] || [ ! -s "$dir/probes.jsonl" ]; then
    # Evidence (about 420 bytes per domain) plus the plain output (about 1,450).
    need=$((n * 1900 + 5000000000))
    if [ "$(free_bytes)" -lt "$need" ]; then
      echo "skipping $n domains: needs about $((need / 1000000000)) GB free on $root"
      continue
    fi
    python3 scripts/gen-label-evidence.py "$dir" "$n" "$addrs" >/dev/null
  fi
  done_sizes+=("$n")
  echo "evidence $n: $(du -h "$dir/dns.jsonl" | cut -f1) dns.jsonl, $(du -h "$dir/probes.jsonl" | cut -f1) probes.jsonl ($addrs addresses)"
  run "1 thread" "$dir" "$bin" "$dir/dns.jsonl" "$dir/probes.jsonl" "$dir/labels.jsonl" --label-threads 1
  run "$cores threads" "$dir" "$bin" "$dir/dns.jsonl" "$dir/probes.jsonl" "$dir/labels.jsonl" --label-threads "$cores"
  if [ -n "${BASELINE_BIN:-}" ]; then
    run "baseline" "$dir" "$BASELINE_BIN" "$dir/dns.jsonl" "$dir/probes.jsonl" "$dir/labels.jsonl"
  fi
done

# Input and output forms, on the smallest size.
small=${done_sizes[0]}
dir=$root/$small
[ -s "$dir/dns.jsonl.gz" ] || gzip -1 -c "$dir/dns.jsonl" > "$dir/dns.jsonl.gz"
[ -s "$dir/dns.jsonl.zst" ] || zstd -q -3 -c "$dir/dns.jsonl" > "$dir/dns.jsonl.zst"
if [ ! -s "$dir/pq/dns/snapshot=2026-11-30/part-0.parquet" ]; then
  "$bin" export dns "$dir/dns.jsonl" --out-dir "$dir/pq/dns" --snapshot 2026-11-30 --progress off
  "$bin" export probes "$dir/probes.jsonl" --out-dir "$dir/pq/probes" --snapshot 2026-11-30 --progress off
fi
dns_pq=$dir/pq/dns/snapshot=2026-11-30/part-0.parquet
probes_pq=$dir/pq/probes/snapshot=2026-11-30/part-0.parquet
echo "input forms of $small domains: dns.jsonl $(du -h "$dir/dns.jsonl" | cut -f1), .gz $(du -h "$dir/dns.jsonl.gz" | cut -f1), .zst $(du -h "$dir/dns.jsonl.zst" | cut -f1), Parquet $(du -h "$dns_pq" | cut -f1)"
t=(--label-threads "$cores")
run "gzip input" "$dir" "$bin" "$dir/dns.jsonl.gz" "$dir/probes.jsonl" "$dir/labels.jsonl" "${t[@]}"
run "zstd input" "$dir" "$bin" "$dir/dns.jsonl.zst" "$dir/probes.jsonl" "$dir/labels.jsonl" "${t[@]}"
run "Parquet input" "$dir" "$bin" "$dns_pq" "$probes_pq" "$dir/labels.jsonl" "${t[@]}"
run "output .gz" "$dir" "$bin" "$dir/dns.jsonl" "$dir/probes.jsonl" "$dir/labels.jsonl.gz" "${t[@]}"
run "output .zst" "$dir" "$bin" "$dir/dns.jsonl" "$dir/probes.jsonl" "$dir/labels.jsonl.zst" "${t[@]}"
run "output --compact" "$dir" "$bin" "$dir/dns.jsonl" "$dir/probes.jsonl" "$dir/labels.jsonl" "${t[@]}" --compact
run "output --compact .zst" "$dir" "$bin" "$dir/dns.jsonl" "$dir/probes.jsonl" "$dir/labels.jsonl.zst" "${t[@]}" --compact

python3 - "$results" "$cores" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
cores = sys.argv[2]
by = {(r[0], int(r[1])): r for r in rows}
many = f"{cores} threads"
sizes = sorted({int(r[1]) for r in rows if r[0] == many})
lo = sizes[0]
print()
for name in ["1 thread", many, "baseline"]:
    got = [n for n in sizes if (name, n) in by]
    for a, b in zip(got, got[1:]):
        d = (int(by[(name, b)][5]) - int(by[(name, a)][5])) * 1024 / (b - a)
        print(f"{name}: {d:.0f} bytes of peak RSS per additional domain between {a:,} and {b:,}")
for n in sizes:
    one, m = by.get(("1 thread", n)), by.get((many, n))
    if one and m:
        print(f"{n:,}: {cores} threads {float(one[2]) / float(m[2]):.2f}x the speed of one")
    base = by.get(("baseline", n))
    if base and m:
        print(f"{n:,}: {float(base[2]) / float(m[2]):.2f}x the baseline binary's speed")
p = by[(many, lo)]
for name in ["gzip input", "zstd input", "Parquet input", "output .gz", "output .zst",
             "output --compact", "output --compact .zst"]:
    g = by.get((name, lo))
    if g:
        print(f"{name}: {float(g[2]) / float(p[2]):.2f}x the wall clock of plain JSON in and out, "
              f"peak RSS {int(g[5]) / 1024:,.0f} MiB, output {int(g[6]) / lo:.0f} bytes/domain")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($cores cores)"
