#!/usr/bin/env bash
# Benchmark of `mxinfer probe` against the project's SMTP farm, all on loopback.
#
#   scripts/bench-probe.sh [throughput|latency] [-n ADDRESSES] [-c CONCURRENCY] [--nmap-sample K]
#
# throughput (default): N farm addresses (default 20,000) with STARTTLS (ECDSA chain) and N
#   without STARTTLS; prints probes/s, CPU seconds and peak RSS of the prober for each; then
#   runs nmap (--script smtp-commands,ssl-cert -p 25) on a sample of the STARTTLS targets and
#   prints our ratio to it.
# latency: the farm adds a per-address delay before every reply (log-normal, median 100 ms)
#   and 10% of the addresses are tarpits; for several concurrency bounds prints throughput,
#   the bound (concurrency / mean session time) and their ratio, and peak RSS per probe.
#
# The farm listens on port 25 of 127.20.0.0/16 and up (one socket per address). This machine
# caps open files at a hard limit root cannot raise here, so the farm is split over several
# processes of at most FARM_CHUNK addresses each. Needs root (port 25), GNU time, nmap and
# python3 (for the summaries): apt-get install -y time nmap python3.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=throughput
N=20000
CONC=""
NMAP_SAMPLE=300
FARM_CHUNK=${FARM_CHUNK:-5000}
# Worker threads per farm process (two measured a little faster than one here).
FARM_THREADS=${FARM_THREADS:-2}
PORT=25
while [ $# -gt 0 ]; do
  case "$1" in
    throughput|latency) MODE=$1 ;;
    -n) N=$2; shift ;;
    -c) CONC=$2; shift ;;
    --nmap-sample) NMAP_SAMPLE=$2; shift ;;
    *) echo "usage: $0 [throughput|latency] [-n N] [-c CONCURRENCY] [--nmap-sample K]" >&2; exit 2 ;;
  esac
  shift
done

ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n); cores: $(nproc)"
for t in /usr/bin/time python3; do
  command -v "$t" >/dev/null || { echo "missing $t: apt-get install -y time python3" >&2; exit 1; }
done

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/mxinfer"
# Safety net: the prober refuses anything but loopback in this script.
export MXINFER_LOOPBACK_ONLY=1

WORK=$(mktemp -d /tmp/bench-probe.XXXXXX)
FARM_PIDS=()
cleanup() {
  for p in "${FARM_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_farm NAME FIRST_ADDRESS COUNT PERSONAS [extra farm flags...]
# Writes $WORK/NAME.targets and $WORK/NAME.ca.pem (farm processes of one set share nothing,
# so each chunk has its own CA: the verdict is not what this measures).
start_farm() {
  local name=$1 first=$2 count=$3 personas=$4; shift 4
  local base
  base=$(python3 -c "import ipaddress,sys; print(int(ipaddress.IPv4Address(sys.argv[1])))" "$first")
  : > "$WORK/$name.targets"
  local done=0 i=0
  while [ "$done" -lt "$count" ]; do
    local n=$(( count - done < FARM_CHUNK ? count - done : FARM_CHUNK ))
    local start
    start=$(python3 -c "import ipaddress,sys; print(ipaddress.IPv4Address(int(sys.argv[1])))" $((base + done)))
    "$BIN" sim farm --first "$start" --count "$n" --port "$PORT" --personas "$personas" \
      --threads "$FARM_THREADS" \
      --ca-out "$WORK/$name.$i.ca.pem" --targets-out "$WORK/$name.$i.targets" "$@" \
      2> "$WORK/$name.$i.log" &
    FARM_PIDS+=($!)
    for _ in $(seq 1 600); do
      grep -q ready "$WORK/$name.$i.log" 2>/dev/null && break
      if ! kill -0 "${FARM_PIDS[-1]}" 2>/dev/null; then cat "$WORK/$name.$i.log" >&2; exit 1; fi
      sleep 0.1
    done
    cat "$WORK/$name.$i.targets" >> "$WORK/$name.targets"
    done=$((done + n)); i=$((i + 1))
  done
}

# run_probe LABEL TARGETS CONCURRENCY [extra probe flags...]: prints one result line.
run_probe() {
  local label=$1 targets=$2 conc=$3; shift 3
  local out="$WORK/$label.jsonl"
  # Other work on the machine skews the figures: show it.
  echo "   (load average before $label: $(cut -d' ' -f1-3 /proc/loadavg))"
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/$label.time" \
    "$BIN" probe "$targets" --out "$out" --port "$PORT" --allow-private 127.0.0.0/8 \
      --concurrency "$conc" --progress off "$@"
  python3 - "$out" "$WORK/$label.time" "$label" "$conc" <<'EOF'
import json, sys, collections
out, timef, label, conc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
wall, user, sys_s, rss_kb = open(timef).read().split()[-4:]
wall, cpu, rss_kb = float(wall), float(user) + float(sys_s), int(rss_kb)
import datetime
st = collections.Counter(); dur = []; starts = []
for line in open(out):
    r = json.loads(line); st[r["status"]] += 1; dur.append(r["duration_ms"])
    starts.append(datetime.datetime.strptime(r["started_at"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp())
n = sum(st.values())
mean = sum(dur) / max(1, len(dur)) / 1000
bound = conc / mean if mean > 0 else float("inf")
print(f"{label}: {n} probes in {wall:.2f} s = {n / wall:.0f} probes/s; CPU {cpu:.2f} s "
      f"({cpu / n * 1e6:.0f} us/probe); peak RSS {rss_kb / 1024:.1f} MiB "
      f"({rss_kb / conc:.1f} KiB per in-flight probe at concurrency {conc}); "
      f"mean session {mean * 1000:.0f} ms; bound {bound:.0f}/s; "
      f"throughput/bound {n / wall / bound * 100:.0f}%")
# Steady state: probes start at the completion rate once the pipeline is full; the first
# `conc` starts (ramp-up) and the drain after the last start (ramp-down) are left out.
starts.sort()
steady = ""
if len(starts) > 2 * conc:
    window = starts[-1] - starts[conc]
    if window > 0:
        rate = (len(starts) - 1 - conc) / window
        steady = f"; steady state (by start times) {rate:.0f} probes/s = {rate / bound * 100:.0f}% of the bound"
print("   statuses:", dict(st), steady)
open(out + ".rate", "w").write(f"{n / wall}\n")
EOF
}

if [ "$MODE" = throughput ]; then
  CONC=${CONC:-1000}
  echo "== farm: $N addresses with STARTTLS (normal), $N without (no-starttls) on port $PORT"
  start_farm tls 127.20.0.1 "$N" normal
  start_farm plain 127.60.0.1 "$N" no-starttls
  echo "== mxinfer probe, concurrency $CONC"
  run_probe plain "$WORK/plain.targets" "$CONC"
  run_probe starttls "$WORK/tls.targets" "$CONC"
  if command -v nmap >/dev/null; then
    echo "== nmap --script smtp-commands,ssl-cert -p $PORT on $NMAP_SAMPLE STARTTLS targets"
    cut -d, -f1 "$WORK/tls.targets" | shuf -n "$NMAP_SAMPLE" --random-source=<(yes) > "$WORK/nmap.txt"
    t0=$(date +%s.%N)
    nmap -n -Pn -p "$PORT" --script smtp-commands,ssl-cert -iL "$WORK/nmap.txt" -oN "$WORK/nmap.out" >/dev/null
    t1=$(date +%s.%N)
    python3 - "$t0" "$t1" "$NMAP_SAMPLE" "$WORK/starttls.jsonl.rate" "$WORK/nmap.out" <<'EOF'
import sys
t0, t1, k, ratef, outf = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
nm = k / (t1 - t0)
ours = float(open(ratef).read())
certs = open(outf).read().count("ssl-cert: Subject")
print(f"nmap: {k} targets in {t1 - t0:.1f} s = {nm:.0f} targets/s ({certs} certificates seen); "
      f"mxinfer/nmap = {ours / nm:.1f}x")
EOF
  else
    echo "nmap is missing (apt-get install -y nmap): no comparison"
  fi
else
  echo "== farm: $N addresses, median 100 ms before every reply, 10% tarpits, port $PORT"
  start_farm lat 127.20.0.1 "$N" normal --latency-ms 100 --tarpit-share 0.1
  for c in ${CONC:-1000 2000 5000}; do
    run_probe "latency-c$c" "$WORK/lat.targets" "$c" --step-timeout 2 --session-timeout 5
  done
fi
