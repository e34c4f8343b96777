#!/usr/bin/env bash
# End-to-end benchmark of `mxinfer run` on a generated world, all on loopback.
#
#   scripts/bench-run.sh [DOMAINS]        (default 1,000,000)
#
# Generates a world (`mxinfer sim world`), loads its zone into NSD, serves its SMTP personas
# with `mxinfer sim serve --no-dns`, split over processes of at most FARM_SHARD addresses
# each (the open-files limit of this machine is 20,000 per process), then runs
# `mxinfer run` under GNU time against it and prints the wall time, the peak RSS of the run,
# the stage durations of run.json and the accuracy against the world's truth.
# Issue 5's target: 1,000,000 domains in under 10 minutes with a peak RSS under 2 GB.
#
# Environment: SEED (1), FARM_SHARD (15000), FARM_PORT (a free one), PROBE_CONCURRENCY (5000),
# RESOLVE_CONCURRENCY (200), STEP_TIMEOUT (5), KEEP=1 keeps the work directory,
# PROFILE=1 samples the run with `perf record` (99 Hz, call graphs off) and prints where its
# CPU went, by part of the program (symbol prefixes: resolve, DNS wire format, probe, TLS and
# certificates, label, output, async runtime, allocator, kernel).
# Needs nsd, GNU time and python3: apt-get install -y nsd time python3 (and linux-perf for
# PROFILE=1).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-1000000}
SEED=${SEED:-1}
FARM_SHARD=${FARM_SHARD:-15000}
# The world's personas answer with simulated network latency (about 2 s per full session),
# so the probe rate is concurrency over session time: 5,000 sessions in flight.
PC=${PROBE_CONCURRENCY:-5000}
RC=${RESOLVE_CONCURRENCY:-200}
STEP=${STEP_TIMEOUT:-5}
NS_IP=127.0.0.79

for t in /usr/sbin/nsd /usr/bin/time python3; do
  command -v "$t" >/dev/null || { echo "missing $t: apt-get install -y nsd time python3" >&2; exit 1; }
done
ulimit -n "$(ulimit -Hn)"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/mxinfer"
# Safety net: the prober refuses anything but loopback in this script.
export MXINFER_LOOPBACK_ONLY=1

WORK=$(mktemp -d /tmp/bench-run.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "== world: $N domains, seed $SEED"
/usr/bin/time -f "world: %e s, peak RSS %M KB" "$BIN" sim world --domains "$N" --seed "$SEED" --out "$WORK/w"
python3 - "$WORK/w" <<'EOF'
import json, sys
d = sys.argv[1]
with open(f"{d}/truth.jsonl") as f, open(f"{d}/domains.txt", "w") as out:
    for line in f:
        out.write(json.loads(line)["domain"] + "\n")
EOF

PORT=$(python3 -c "
import socket
for p in range(20000, 60000, 7):
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('$NS_IP', p))
        t = socket.socket(); t.bind(('$NS_IP', p)); print(p); break
    except OSError:
        pass
")
cat > "$WORK/nsd.conf" <<EOF
server:
  ip-address: $NS_IP@$PORT
  zonesdir: "$WORK/w"
  pidfile: "$WORK/nsd.pid"
  database: ""
  zonelistfile: "$WORK/nsd.zonelist"
  xfrdfile: "$WORK/nsd.xfrd"
  xfrdir: "$WORK"
  username: ""
  server-count: 1
  verbosity: 1
  logfile: "$WORK/nsd.log"
  # NSD's response rate limiting (on by default) drops answers to one client asking for
  # thousands of names; this server answers only the benchmark's resolver.
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "."
  zonefile: "world.zone"
EOF
echo "== NSD on $NS_IP:$PORT"
/usr/sbin/nsd -d -c "$WORK/nsd.conf" &
PIDS+=($!)
for _ in $(seq 1 600); do
  grep -q "zone . read with success\|nsd started" "$WORK/nsd.log" 2>/dev/null && break
  sleep 0.5
done
grep -q "read with success" "$WORK/nsd.log" || { echo "NSD did not load the zone:"; cat "$WORK/nsd.log"; exit 1; }

# A port free on the world's first addresses (another served world may hold 2525).
FARM_PORT=${FARM_PORT:-$(python3 -c "
import socket
for p in range(32525, 60000, 11):
    ok = True
    for a in ('127.160.0.1', '127.161.0.1', '127.64.0.1'):
        s = socket.socket()
        try:
            s.bind((a, p))
        except OSError:
            ok = False
        s.close()
    if ok:
        print(p); break
")}
PERSONAS=$(python3 -c "import json; print(len(json.load(open('$WORK/w/personas.json'))))")
SHARDS=$(( (PERSONAS + FARM_SHARD - 1) / FARM_SHARD ))
echo "== farm: $PERSONAS personas in $SHARDS processes on port $FARM_PORT"
# One shard at a time: each reads the whole personas.json before keeping its share.
for i in $(seq 0 $((SHARDS - 1))); do
  "$BIN" sim serve "$WORK/w" --no-dns --shard "$i/$SHARDS" --port "$FARM_PORT" --threads 1 2> "$WORK/farm-$i.log" &
  PIDS+=($!)
  for _ in $(seq 1 1200); do
    grep -q "SMTP farm" "$WORK/farm-$i.log" 2>/dev/null && break
    if grep -q "error" "$WORK/farm-$i.log" 2>/dev/null; then cat "$WORK/farm-$i.log"; exit 1; fi
    sleep 0.5
  done
  grep -q "SMTP farm" "$WORK/farm-$i.log" || { echo "farm shard $i did not start"; cat "$WORK/farm-$i.log"; exit 1; }
done

echo "== mxinfer run (resolve concurrency $RC, probe concurrency $PC, step timeout $STEP s)"
PERF=()
if [ "${PROFILE:-0}" = 1 ]; then
  command -v perf >/dev/null || { echo "PROFILE=1 needs perf (apt-get install -y linux-perf)" >&2; exit 1; }
  PERF=(perf record -F 99 -o "$WORK/perf.data" --)
fi
/usr/bin/time -v -o "$WORK/time.txt" "${PERF[@]}" "$BIN" run "$WORK/w/domains.txt" --out "$WORK/out" \
  --nameserver "$NS_IP:$PORT" --resolve-concurrency "$RC" --probe-concurrency "$PC" \
  --port "$FARM_PORT" --allow-private 127.0.0.0/8 --roots "$WORK/w/ca.pem" \
  --pfx2as "$WORK/w/pfx2as.txt" --psl "$WORK/w/psl.dat" --truth "$WORK/w/truth.jsonl" \
  --step-timeout "$STEP" --progress lines > "$WORK/run.out" 2> "$WORK/run.err" || {
  echo "mxinfer run failed:"; tail -20 "$WORK/run.err"; exit 1; }

python3 - "$WORK" "$N" <<'EOF'
import json, re, sys
w, n = sys.argv[1], int(sys.argv[2])
t = open(f"{w}/time.txt").read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
parts = [float(x) for x in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
cpu = float(re.search(r"User time \(seconds\): (\S+)", t).group(1)) + float(
    re.search(r"System time \(seconds\): (\S+)", t).group(1))
rj = json.load(open(f"{w}/out/run.json"))
ev = json.load(open(f"{w}/out/eval.json"))
print(f"domains            {n}")
print(f"wall time          {secs:.1f} s ({n / secs:.0f} domains/s)  target < 600 s")
print(f"peak RSS (run)     {rss / 1024:.0f} MiB  target < 2048 MiB")
print(f"CPU (run)          {cpu:.1f} s")
for k, s in rj["stages"].items():
    print(f"stage {k:<12} {s['duration_s']:.1f} s, {s['records']} records, {s['status_counts']}")
for a in ev["approaches"]:
    print(f"accuracy {a['approach']:<12} {100 * a['accuracy']:.2f}%  (by company {100 * a['company_accuracy']:.2f}%)")
EOF

if [ "${PROFILE:-0}" = 1 ]; then
  perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
    | python3 -c '
import re, sys
# Where the CPU went, by part of the program (first matching rule).
rules = [
    ("resolve (mxinfer)", r"mxinfer_core::resolve|mxinfer_core::pipeline::run_resolve"),
    ("DNS wire format (hickory-proto)", r"hickory_proto"),
    ("TLS and certificates", r"rustls|ring::|ring_core|webpki|x509_parser|der_parser|asn1_rs|libcrypto|libssl|openssl|p256|p384|sha2|fiat_"),
    ("probe (mxinfer)", r"mxinfer_core::probe|mxinfer_core::pipeline::probe"),
    ("label and report", r"mxinfer_label|mxinfer_core::report|mxinfer_core::pipeline::label"),
    ("records and output (serde, JSON)", r"serde|mxinfer_record|mxinfer_core::jsonl|itoa|ryu"),
    ("async runtime (tokio, futures)", r"tokio|futures|mio::"),
    ("allocator and memory copies", r"malloc|free|memmove|memcpy|memset|_int_|realloc|cfree|unlink_chunk"),
    ("kernel (network, scheduling)", r"\[kernel|\[k\]"),
]
tot = {}
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+(.*)", line)
    if not m:
        continue
    pct, rest = float(m.group(1)), m.group(2)
    for name, rx in rules:
        if re.search(rx, rest):
            break
    else:
        name = "other"
    tot[name] = tot.get(name, 0) + pct
print("CPU of the run by part (perf samples):")
for k, v in sorted(tot.items(), key=lambda kv: -kv[1]):
    print(f"  {v:5.1f}%  {k}")
'
fi
