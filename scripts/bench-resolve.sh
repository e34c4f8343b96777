#!/usr/bin/env bash
# Benchmark `mxinfer resolve` against a local authoritative NSD serving a synthetic zone.
#
# Usage: scripts/bench-resolve.sh [N] [EXTRA MXINFER RESOLVE ARGS...]
#
#   N                 domains in the synthetic zone (default 100000; or env N)
#
# Environment (all optional):
#   CONCURRENCY       --concurrency value(s); several separated by spaces run one after the
#                     other against the same server (e.g. "200 500 1000 2000");
#                     empty: mxinfer's default
#   CLIENTS           --dns-client value(s), each run at every concurrency (default
#                     "own hickory": mxinfer's own client and hickory-resolver, same run)
#   MXINFER           mxinfer binary to use (default: cargo build --release, then
#                     target/release/mxinfer)
#   NSD_SERVER_COUNT  NSD server processes (default 1, see the notes below)
#   DNSPERF_SECONDS   dnsperf run length (default 12)
#   DNSPERF_CLIENTS / DNSPERF_OUTSTANDING / DNSPERF_THREADS
#                     dnsperf -c / -q / -T (default 4 / 100 / 1)
#   MAX_RESOLVE_S     time limit of one mxinfer run (default 120 + N/500 s)
#   SEED              zone generator seed
#   BENCH_KEEP=1      keep the temporary directory (zone, list, output) instead of removing it
#
# Needs nsd, dnsperf, python3 (standard library only) and, for peak RSS, GNU time
# (/usr/bin/time; without it peak RSS is sampled from /proc/PID/status VmHWM).
# All traffic stays on 127.53.9.1 (loopback); every address in the zone is documentation or
# benchmarking data and is never contacted.
#
# Notes (2-core VM, NSD 4.6.1, dnsperf 2.10.0, 100k-domain zone):
# - server-count 1 gave the (slightly) higher dnsperf ceiling: mean 266k vs 247k queries/s
#   over 6 runs of 10 s each, a difference within the run-to-run noise; with a second NSD
#   process, NSD and dnsperf only compete harder for the two cores. Either is 15-30 times
#   what mxinfer reaches, so the choice does not change the ratio.
# - dnsperf -c 4 -q 100 -T 1 loses no queries; -q 300 and more start to lose some.
# - NSD's response rate limiting (on in Debian's build) must be off (see the config below),
#   or the server answers a few thousand queries/s from one address and truncates the rest.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# The command line as run, with the settings given in the environment (for the summary).
INVOCATION=
for v in N CONCURRENCY CLIENTS MXINFER NSD_SERVER_COUNT DNSPERF_SECONDS DNSPERF_CLIENTS \
    DNSPERF_OUTSTANDING DNSPERF_THREADS MAX_RESOLVE_S SEED; do
    [[ -n ${!v+x} ]] && INVOCATION+="$v='${!v}' "
done
INVOCATION+="scripts/bench-resolve.sh${*:+ $*}"

N=${N:-100000}
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    N=$1
    shift
fi
EXTRA_ARGS=("$@")
if ! [[ $N =~ ^[0-9]+$ ]] || ((N < 1)); then
    echo "bench-resolve: N must be a positive integer (got '$N')" >&2
    exit 2
fi
CONCURRENCY=${CONCURRENCY:-}
NSD_SERVER_COUNT=${NSD_SERVER_COUNT:-1}
DNSPERF_SECONDS=${DNSPERF_SECONDS:-12}
DNSPERF_CLIENTS=${DNSPERF_CLIENTS:-4}
DNSPERF_OUTSTANDING=${DNSPERF_OUTSTANDING:-100}
DNSPERF_THREADS=${DNSPERF_THREADS:-1}
MAX_RESOLVE_S=${MAX_RESOLVE_S:-$((120 + N / 500))}
SEED=${SEED:-20261130}
ADDR=127.53.9.1

die() {
    echo "bench-resolve: $*" >&2
    exit 1
}
say() { echo "bench-resolve: $*" >&2; }

# --- Tools ----------------------------------------------------------------------------------
NSD_BIN=$(command -v nsd || true)
[[ -z $NSD_BIN && -x /usr/sbin/nsd ]] && NSD_BIN=/usr/sbin/nsd
[[ -n $NSD_BIN ]] || die "nsd not found; install it with: apt-get install nsd dnsperf"
command -v dnsperf >/dev/null || die "dnsperf not found; install it with: apt-get install nsd dnsperf"
command -v python3 >/dev/null || die "python3 not found"
GNU_TIME=
if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
    GNU_TIME=/usr/bin/time
else
    say "GNU time (/usr/bin/time) not found: peak RSS is sampled from /proc (apt-get install time for the exact figure)"
fi

# --- Temporary directory and cleanup --------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-resolve.XXXXXX")
NSD_PID=
RUN_PID=
PERF_PID=

stop_pid() { # PID SIGNAL GRACE_TENTHS
    local pid=$1 sig=$2 grace=$3 i
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < grace; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # reached through the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $RUN_PID ]]; then
        # The mxinfer process itself (child of GNU time, if used), then its parent.
        local child
        child=$(pgrep -P "$RUN_PID" 2>/dev/null || true)
        [[ -n $child ]] && stop_pid "$child" INT 50
        stop_pid "$RUN_PID" TERM 20
    fi
    stop_pid "$PERF_PID" TERM 20
    stop_pid "$NSD_PID" TERM 50
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        say "kept $WORK"
    else
        rm -rf -- "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# --- Zone, list, queries --------------------------------------------------------------------
say "generating a zone of $N domains in $WORK"
python3 "$SCRIPT_DIR/gen-bench-zone.py" --seed "$SEED" "$N" "$WORK"

# --- mxinfer --------------------------------------------------------------------------------
if [[ -n ${MXINFER:-} ]]; then
    BIN=$MXINFER
else
    say "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
    BIN=$ROOT/target/release/mxinfer
fi
[[ -x $BIN ]] || die "no mxinfer binary at $BIN"
MX_VERSION=$("$BIN" --version 2>/dev/null || echo "mxinfer ?")
GIT_REV=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo "?")

# --- NSD ------------------------------------------------------------------------------------
PORT=$(python3 - "$ADDR" <<'EOF'
import socket, sys
addr = sys.argv[1]
for _ in range(100):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind((addr, port))
    except OSError:
        continue
    finally:
        u.close()
        t.close()
    print(port)
    break
else:
    sys.exit("no free port on " + addr)
EOF
)
NS=$ADDR@$PORT
mkdir -p "$WORK/nsd"
cat >"$WORK/nsd/nsd.conf" <<EOF
server:
    ip-address: $ADDR@$PORT
    server-count: $NSD_SERVER_COUNT
    username: ""
    chroot: ""
    zonesdir: "$WORK"
    database: ""
    pidfile: "$WORK/nsd/nsd.pid"
    xfrdfile: "$WORK/nsd/xfrd.state"
    zonelistfile: "$WORK/nsd/zone.list"
    logfile: "$WORK/nsd/nsd.log"
    verbosity: 0
    hide-version: yes
    reuseport: yes
    tcp-count: 200
    round-robin: no
    # Response rate limiting (on by default in Debian's build: 200 answers/s per /24) would
    # throttle a benchmark from one address to a few thousand queries/s: off.
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0

remote-control:
    control-enable: no

zone:
    name: bench.
    zonefile: "$WORK/bench.zone"
EOF
NSD_VERSION=$("$NSD_BIN" -v 2>&1 | sed -n 1p)
say "starting $NSD_VERSION on $ADDR port $PORT (server-count $NSD_SERVER_COUNT)"
"$NSD_BIN" -d -c "$WORK/nsd/nsd.conf" >"$WORK/nsd/stdout.log" 2>&1 &
NSD_PID=$!

# Waits until NSD answers the zone's SOA authoritatively (loading a large zone takes a while).
WAIT_S=$((30 + N / 20000))
if ! python3 - "$ADDR" "$PORT" "$WAIT_S" "$NSD_PID" <<'EOF'
import os, socket, struct, sys, time
addr, port, wait_s, pid = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
q = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0) + b"\x05bench\x00" + struct.pack(">HH", 6, 1)
deadline = time.monotonic() + wait_s
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("nsd exited")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    try:
        s.sendto(q, (addr, port))
        r = s.recv(512)
        if len(r) >= 12 and r[:2] == q[:2] and r[3] & 0x0F == 0 and r[2] & 0x04 \
                and struct.unpack(">H", r[6:8])[0] >= 1:
            sys.exit(0)
    except OSError:
        pass
    finally:
        s.close()
    time.sleep(0.2)
sys.exit("no answer within %g s" % wait_s)
EOF
then
    cat "$WORK/nsd/stdout.log" "$WORK/nsd/nsd.log" 2>/dev/null | tail -n 20 >&2
    die "NSD did not come up on $NS"
fi
say "NSD answers on $ADDR port $PORT"

# --- Resolve runs ---------------------------------------------------------------------------
read -r -a CONC_LIST <<<"$CONCURRENCY"
((${#CONC_LIST[@]} > 0)) || CONC_LIST=("")

declare -a RESULTS=() CMDS=()
# UDP datagrams dropped for a full receive buffer, system-wide (a sign of lost queries).
udp_rcvbuf_errors() {
    awk '/^Udp:/ { if (n++) { for (i = 1; i <= NF; i++) if (h[i] == "RcvbufErrors") print $i }
                   else for (i = 1; i <= NF; i++) h[i] = $i }' /proc/net/snmp 2>/dev/null || echo 0
}
CPUS=$(nproc 2>/dev/null || echo 1)
run_resolve() { # CONCURRENCY (may be empty) CLIENT
    local conc=$1 client=$2 tag=$2-${1:-default}
    local out="$WORK/out-$tag.jsonl" tv="$WORK/time-$tag.txt" log="$WORK/mxinfer-$tag.log"
    local -a cmd=("$BIN" resolve "$WORK/domains.txt" --nameserver "$ADDR:$PORT" --out "$out"
        --dns-client "$client")
    [[ -n $conc ]] && cmd+=(--concurrency "$conc")
    if ((${#EXTRA_ARGS[@]} > 0)); then
        cmd+=("${EXTRA_ARGS[@]}")
    fi
    local shown="${cmd[*]}"
    shown=${shown//"$WORK"/\$TMP}
    shown=${shown//"$ROOT"\//}
    CMDS+=("$shown")
    local load drops0 drops1
    load=$(cut -d' ' -f1 /proc/loadavg)
    if python3 -c "import sys; sys.exit(float('$load') < 0.5 * $CPUS)"; then
        say "warning: load average $load on $CPUS CPUs before the run: figures will be low and noisy"
    fi
    say "running: $shown"
    local t0 t1 hwm=0 cur child= rc=0 deadline stopped=0
    drops0=$(udp_rcvbuf_errors)
    t0=$(date +%s.%N)
    deadline=$(($(date +%s) + MAX_RESOLVE_S))
    if [[ -n $GNU_TIME ]]; then
        "$GNU_TIME" -v -o "$tv" "${cmd[@]}" 2>"$log" &
    else
        "${cmd[@]}" 2>"$log" &
    fi
    RUN_PID=$!
    while kill -0 "$RUN_PID" 2>/dev/null; do
        if [[ -n $GNU_TIME ]]; then
            [[ -n $child ]] || child=$(pgrep -P "$RUN_PID" 2>/dev/null || true)
        else
            child=$RUN_PID
        fi
        if [[ -n $child ]]; then
            cur=$(awk '/^VmHWM:/ {print $2}' "/proc/$child/status" 2>/dev/null || true)
            [[ -n $cur ]] && ((cur > hwm)) && hwm=$cur
        fi
        if (($(date +%s) > deadline)); then
            say "mxinfer still running after $MAX_RESOLVE_S s (MAX_RESOLVE_S): stopping it"
            [[ -n $child ]] && stop_pid "$child" INT 100
            stopped=1
            break
        fi
        sleep 0.1
    done
    wait "$RUN_PID" || rc=$?
    RUN_PID=
    t1=$(date +%s.%N)
    drops1=$(udp_rcvbuf_errors)
    if ((rc != 0 || stopped)); then
        tail -n 20 "$log" >&2
        ((stopped)) && die "mxinfer stopped at the time limit of $MAX_RESOLVE_S s (status $rc); raise MAX_RESOLVE_S"
        die "mxinfer exited with status $rc"
    fi
    [[ -s $out.meta.json ]] || die "no metadata file $out.meta.json"
    local rss_kb=$hwm rss_src="VmHWM sampled" cpu_s=-1
    if [[ -n $GNU_TIME && -s $tv ]]; then
        rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
        rss_src="GNU time"
        cpu_s=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$tv")
    fi
    local line
    line=$(python3 - "$out.meta.json" "$WORK/expected.json" "$t0" "$t1" "$rss_kb" "$rss_src" "$tag" \
        "$load" "$((${drops1:-0} - ${drops0:-0}))" "$cpu_s" <<'EOF'
import json, sys
meta = json.load(open(sys.argv[1]))
exp = json.load(open(sys.argv[2]))
t0, t1, rss_kb, rss_src, tag = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5] or 0), sys.argv[6], sys.argv[7]
load, drops, cpu_s = sys.argv[8], int(sys.argv[9]), float(sys.argv[10])
st = meta["stage"]
dur = meta["duration_s"]
done = sum(meta["status_counts"].values())
q = st["queries_sent"]
c = st["exchanger_cache"]
got = {k: v for k, v in meta["status_counts"].items() if v}
want = exp["status_counts"]
mix = "as expected" if got == want else "DIFFERS: got %s, expected %s" % (got, want)
print("client=%s concurrency=%s domains=%d duration_s=%.2f wall_s=%.2f domains_per_s=%.0f queries=%d "
      "expected_queries=%d queries_per_s=%.0f peak_rss_mb=%.1f rss_source=%s "
      "cache_hits=%d cache_misses=%d cache_evictions=%d statuses=%s load_before=%s udp_drops=%d cpu_s=%.2f cpu_us_per_query=%.0f"
      % (tag.split("-")[0], st.get("concurrency", tag), done, dur, t1 - t0, done / dur, q, exp["queries"], q / dur,
         rss_kb / 1024, rss_src.replace(" ", "_"), c["hits"], c["misses"], c.get("evictions", 0),
         mix.replace(" ", "_"), load, drops, cpu_s, 1e6 * cpu_s / max(q, 1) if cpu_s >= 0 else -1))
EOF
)
    RESULTS+=("$line")
    say "$line"
}

read -r -a CLIENT_LIST <<<"${CLIENTS:-own hickory}"
for c in "${CONC_LIST[@]}"; do
    for client in "${CLIENT_LIST[@]}"; do
        run_resolve "$c" "$client"
    done
done

# --- dnsperf ceiling --------------------------------------------------------------------------
DNSPERF_VERSION=$(dnsperf -h 2>&1 | awk '/^Version/ {print $2}')
PERF_ARGS=(-s "$ADDR" -p "$PORT" -d "$WORK/queries.txt" -l "$DNSPERF_SECONDS" -e
    -c "$DNSPERF_CLIENTS" -q "$DNSPERF_OUTSTANDING" -T "$DNSPERF_THREADS" -t 2)
PERF_LOAD=$(cut -d' ' -f1 /proc/loadavg)
say "dnsperf ${PERF_ARGS[*]//"$WORK"/\$TMP}"
dnsperf "${PERF_ARGS[@]}" >"$WORK/dnsperf.txt" 2>&1 &
PERF_PID=$!
perf_rc=0
wait "$PERF_PID" || perf_rc=$?
PERF_PID=
if ((perf_rc != 0)); then
    tail -n 20 "$WORK/dnsperf.txt" >&2
    die "dnsperf exited with status $perf_rc"
fi
CEILING=$(awk '/Queries per second:/ {print $4}' "$WORK/dnsperf.txt")
PERF_LOST=$(awk '/Queries lost:/ {print $3, $4}' "$WORK/dnsperf.txt")
[[ -n $CEILING ]] || die "could not read the dnsperf result"

# --- Summary --------------------------------------------------------------------------------
python3 - "$WORK/expected.json" "$CEILING" "$PERF_LOST" "$INVOCATION" "$MX_VERSION" "$GIT_REV" \
    "$NSD_VERSION" "$NSD_SERVER_COUNT" "$DNSPERF_VERSION" "${PERF_ARGS[*]//"$WORK"/\$TMP}" \
    "$CPUS" "$(uname -srm)" "$PERF_LOAD" "${#RESULTS[@]}" "${RESULTS[@]}" \
    "${CMDS[@]}" <<'EOF'
import json, sys, time
a = sys.argv[1:]
exp = json.load(open(a[0]))
ceiling, lost, invocation, mxv, rev, nsdv, nsd_sc, perfv, perf_args, cpus, kernel, pload = a[1:13]
k = int(a[13])
results, cmds = a[14:14 + k], a[14 + k:14 + 2 * k]
ceiling = float(ceiling)
kinds = exp["kinds"]
n = exp["domains"]
mix = ", ".join("%s %.0f%%" % (kk, 100 * v / n) for kk, v in sorted(kinds.items(), key=lambda x: -x[1]))
print()
print("==== mxinfer resolve benchmark (%s) ====" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
print("script:   %s" % invocation)
print("host:     %s CPUs, %s" % (cpus, kernel))
print("mxinfer:  %s (git %s), release build" % (mxv, rev))
print("zone:     %d domains under bench. (%s); %d provider exchanger names, %d exchanger names"
      % (n, mix, exp["provider_exchanger_names"], exp["exchanger_names"]))
print("server:   %s, server-count %s, on 127.53.9.1 (loopback)" % (nsdv, nsd_sc))
best = None
for r, cmd in zip(results, cmds):
    f = dict(kv.split("=", 1) for kv in r.split())
    dps, qps = float(f["domains_per_s"]), float(f["queries_per_s"])
    if best is None or dps > best[0]:
        best = (dps, "%s, client %s" % (f["concurrency"], f["client"]))
    print("command:  %s" % cmd)
    print("  client %-7s concurrency %-6s %8.0f domains/s  %8.0f queries/s  (%d queries, expected %d, in %.2f s; wall %.2f s)"
          % (f["client"], f["concurrency"], dps, qps, int(f["queries"]), int(f["expected_queries"]),
             float(f["duration_s"]), float(f["wall_s"])))
    if float(f["cpu_s"]) >= 0:
        print("  CPU %.2f s user+sys = %s us per query (%.2f cores busy)"
              % (float(f["cpu_s"]), f["cpu_us_per_query"], float(f["cpu_s"]) / float(f["wall_s"])))
    print("  peak RSS %.1f MB (%s); exchanger cache hits %s, misses %s, evictions %s; statuses %s"
          % (float(f["peak_rss_mb"]), f["rss_source"].replace("_", " "), f["cache_hits"],
             f["cache_misses"], f["cache_evictions"], f["statuses"].replace("_", " ")))
    print("  ratio to the dnsperf ceiling: %.3f; load average before %s; UDP receive-buffer drops %s"
          % (qps / ceiling, f["load_before"], f["udp_drops"]))
print("dnsperf:  %.0f queries/s ceiling (dnsperf %s, %s; lost %s; load average before %s)"
      % (ceiling, perfv, perf_args, lost, pload))
if len(results) > 1:
    print("best:     concurrency %s (%.0f domains/s)" % (best[1], best[0]))
EOF
