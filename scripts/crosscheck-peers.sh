#!/usr/bin/env bash
# Cross-check with the tools users would otherwise use: zdns + zgrab2 (+ mxinfer ingest/label)
# against mxinfer's own resolve/probe/label, on one simulated world served on loopback.
#
#   scripts/crosscheck-peers.sh [DOMAINS]        (default 10000; seed: SEED, default 1)
#
# 1. installs zdns and zgrab2 as Go modules at pinned versions into $PEERS_BIN (default
#    ~/.cache/mxinfer-peers/bin; needs Go and the module proxy);
# 2. generates the world (`mxinfer sim world`) and serves it (`mxinfer sim serve`: DNS on a
#    127.x address, SMTP farm on a free port), all on 127.0.0.0/8;
# 3. peers: zdns MXLOOKUP (A and AAAA of each exchanger), zdns ALOOKUP of the names without
#    MX (implicit MX) -> targets -> zgrab2 smtp
#    (EHLO, STARTTLS when offered, QUIT; never MAIL/RCPT) -> `mxinfer ingest dns|probes` ->
#    `mxinfer label`;
# 4. mxinfer: `mxinfer run` (resolve and probe streaming into each other, label, report);
# 5. prints label agreement per domain (every difference with the world's truth classes), the
#    accuracy of both against the truth, and the wall time and peak RSS of each tool.
#
# Needs: go, python3, GNU time (apt-get install -y time). Nothing leaves 127.0.0.0/8: the
# resolvers ask only the world's DNS, the prober runs with MXINFER_LOOPBACK_ONLY=1, zgrab2
# gets only the 127.x addresses zdns found.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-10000}
SEED=${SEED:-1}
ZDNS_VERSION=v2.1.1
ZGRAB2_VERSION=v1.0.0
PEERS_BIN=${PEERS_BIN:-$HOME/.cache/mxinfer-peers/bin}
for t in go python3 /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "missing $t (go: golang; time: apt-get install -y time)" >&2; exit 1; }
done
ulimit -n "$(ulimit -Hn)"

# --- 1. peers, pinned -------------------------------------------------------------------------
# `go install module@version` needs the proxy's @v/list for its deprecation check, which some
# proxies refuse; `go mod download` of the exact version and a build in a copy of it does not.
install_go_tool() { # NAME MODULE VERSION PACKAGE-DIR
  local name=$1 module=$2 version=$3 pkg=$4
  local stamp="$PEERS_BIN/.$name.version"
  if [ -x "$PEERS_BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    return
  fi
  mkdir -p "$PEERS_BIN"
  local dir src
  dir=$(go mod download -json "$module@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  src=$(mktemp -d /tmp/peer-src.XXXXXX)
  cp -r "$dir/." "$src/" && chmod -R u+w "$src"
  (cd "$src" && go build -o "$PEERS_BIN/$name" "$pkg")
  rm -rf "$src"
  echo "$version" > "$stamp"
}
install_go_tool zdns github.com/zmap/zdns/v2 "$ZDNS_VERSION" .
install_go_tool zgrab2 github.com/zmap/zgrab2 "$ZGRAB2_VERSION" ./cmd/zgrab2
ZDNS="$PEERS_BIN/zdns"
ZGRAB2="$PEERS_BIN/zgrab2"

# MXINFER_BIN: an mxinfer binary to use instead of building the release one.
if [ -n "${MXINFER_BIN:-}" ]; then
  BIN=$MXINFER_BIN
else
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
  cargo build --release --quiet
  case $CARGO_TARGET_DIR in
    /*) BIN="$CARGO_TARGET_DIR/release/mxinfer" ;;
    *) BIN="$(pwd)/$CARGO_TARGET_DIR/release/mxinfer" ;;
  esac
fi
export MXINFER_LOOPBACK_ONLY=1

WORK=$(mktemp -d /tmp/crosscheck.XXXXXX)
SERVE_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
echo "work dir: $WORK; load average: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"

# --- 2. the world -----------------------------------------------------------------------------
"$BIN" sim world --domains "$N" --seed "$SEED" --out "$WORK/w" 2>/dev/null
python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)["domain"])' "$WORK/w/truth.jsonl" > "$WORK/domains.txt"
DNS_ADDR="127.53.$(( RANDOM % 250 + 1 )).$(( RANDOM % 250 + 1 )):5353"
"$BIN" sim serve "$WORK/w" --dns "$DNS_ADDR" --port 0 > "$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 600); do
  grep -q "SMTP farm" "$WORK/serve.log" 2>/dev/null && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.1
done
PORT=$(sed -n 's/.* on port \([0-9]*\).*/\1/p' "$WORK/serve.log")
echo "world: $N domains (seed $SEED); $(cat "$WORK/serve.log")"

measure() { # NAME COMMAND...: runs under GNU time, appends "NAME seconds maxrss_kb"
  local name=$1; shift
  /usr/bin/time -f "$name %e %M" -a -o "$WORK/times.txt" "$@"
}

# --- 3. peers ---------------------------------------------------------------------------------
measure zdns "$ZDNS" MXLOOKUP --ipv4-lookup --ipv6-lookup --name-servers "$DNS_ADDR" \
  --local-addr 127.0.0.1 --threads 200 --timeout 5 --quiet \
  -f "$WORK/domains.txt" -o "$WORK/zdns.jsonl" 2> "$WORK/zdns.log"
# Second zdns pass: the domains' own addresses where there is no MX (implicit MX).
python3 -c 'import json,sys
for line in open(sys.argv[1]):
    r = json.loads(line); m = r.get("results", {}).get("MXLOOKUP", r)
    if m.get("status") == "NOERROR" and not (m.get("data") or {}).get("exchanges"):
        print(r["name"])' "$WORK/zdns.jsonl" > "$WORK/nomx.txt"
measure zdns-apex "$ZDNS" ALOOKUP --ipv4-lookup --ipv6-lookup --name-servers "$DNS_ADDR" \
  --local-addr 127.0.0.1 --threads 200 --timeout 5 --quiet \
  -f "$WORK/nomx.txt" -o "$WORK/zdns-apex.jsonl" 2>> "$WORK/zdns.log"
python3 - "$WORK/zdns.jsonl" "$WORK/zdns-apex.jsonl" "$WORK/targets.csv" <<'EOF'
import ipaddress, json, sys
seen = {}
def add(ip, name):
    if not ipaddress.IPv4Address(ip).is_loopback:
        sys.exit(f"refusing to scan {ip}: not in 127.0.0.0/8")
    seen.setdefault(ip, name.rstrip("."))
for line in open(sys.argv[1]):
    r = json.loads(line)
    res = r.get("results", {}).get("MXLOOKUP", r)
    for e in (res.get("data") or {}).get("exchanges") or []:
        for ip in e.get("ipv4_addresses") or []:
            add(ip, e["name"])
for line in open(sys.argv[2]):
    r = json.loads(line)
    res = r.get("results", {}).get("ALOOKUP", r)
    for ip in (res.get("data") or {}).get("ipv4_addresses") or []:
        add(ip, r["name"])
with open(sys.argv[3], "w") as f:
    for ip, name in seen.items():
        f.write(f"{ip}, {name}\n")
EOF
printf '# empty: every target is in 127.0.0.0/8\n' > "$WORK/blocklist.conf"
measure zgrab2 "$ZGRAB2" smtp -b "$WORK/blocklist.conf" --port "$PORT" --send-ehlo-override \
  --send-quit --root-cas "$WORK/w/ca.pem" --connect-timeout 2s --target-timeout 10s -s 200 \
  -f "$WORK/targets.csv" -o "$WORK/zgrab2.jsonl" 2> "$WORK/zgrab2.log"
measure ingest-dns "$BIN" ingest dns "$WORK/zdns.jsonl" --apex "$WORK/zdns-apex.jsonl" --out "$WORK/peers-dns.jsonl" 2>> "$WORK/ingest.log"
measure ingest-probes "$BIN" ingest probes "$WORK/zgrab2.jsonl" --out "$WORK/peers-probes.jsonl" 2>> "$WORK/ingest.log"
measure label-peers "$BIN" label --dns "$WORK/peers-dns.jsonl" --probes "$WORK/peers-probes.jsonl" \
  --pfx2as "$WORK/w/pfx2as.txt" --psl "$WORK/w/psl.dat" --out "$WORK/peers-labels.jsonl" --progress off

# --- 4. mxinfer resolve alone (against zdns), then mxinfer run -------------------------------------
measure resolve "$BIN" resolve "$WORK/domains.txt" --out "$WORK/resolve.jsonl" \
  --nameserver "$DNS_ADDR" --timeout 5 --progress off 2> "$WORK/resolve.log"
measure run "$BIN" run "$WORK/domains.txt" --out "$WORK/run" --nameserver "$DNS_ADDR" \
  --timeout 2 --port "$PORT" --roots "$WORK/w/ca.pem" --allow-private 127.0.0.0/8 \
  --step-timeout 2 --pfx2as "$WORK/w/pfx2as.txt" --psl "$WORK/w/psl.dat" --progress off \
  > "$WORK/run.log" 2>&1

# --- 5. comparison ----------------------------------------------------------------------------
python3 - "$WORK" <<'EOF'
import collections, json, sys
w = sys.argv[1]
def labels(p):
    out = {}
    for line in open(p):
        r = json.loads(line)
        prov = sorted((x["id"], round(x["weight"], 3)) for x in r.get("providers", []))
        out[r["domain"]] = (r["status"], tuple(prov))
    return out
truth = {}
for line in open(f"{w}/w/truth.jsonl"):
    t = json.loads(line)
    truth[t["domain"]] = (sorted((p["id"], round(p["weight"], 3)) for p in t.get("providers", [])),
                          t.get("classes", []))
ours, peers = labels(f"{w}/run/labels.jsonl"), labels(f"{w}/peers-labels.jsonl")
n = len(truth)
same = [d for d in truth if ours.get(d) == peers.get(d)]
diff = [d for d in truth if ours.get(d) != peers.get(d)]
def correct(lab):
    return sum(1 for d, (p, _) in truth.items() if d in lab and list(lab[d][1]) == p)
print(f"\nlabel agreement (priority providers and status): {len(same)}/{n} = {100*len(same)/n:.2f}%")
print(f"same provider IDs and weights as the truth (exact match, not `mxinfer eval`): mxinfer {100*correct(ours)/n:.2f}%, zdns+zgrab2+ingest {100*correct(peers)/n:.2f}%")
by_class = collections.Counter()
for d in diff:
    by_class[",".join(truth[d][1]) or "(no class)"] += 1
if diff:
    print("differences by truth class:", dict(by_class))
    for d in diff[:20]:
        print(f"  {d}: mxinfer {ours.get(d)} | peers {peers.get(d)} | truth classes {truth[d][1]}")
    if len(diff) > 20:
        print(f"  … {len(diff) - 20} more")
t = {}
for line in open(f"{w}/times.txt"):
    name, secs, rss = line.split()
    t[name] = (float(secs), int(rss) / 1024)
print("\n| tool | step | wall s | peak RSS MiB |")
print("|---|---|---:|---:|")
rows = [("mxinfer", "run (resolve + probe + label + report)", "run"),
        ("mxinfer", "resolve (MX, A, AAAA; implicit MX)", "resolve"),
        ("zdns", "MXLOOKUP", "zdns"), ("zdns", "ALOOKUP of names without MX", "zdns-apex"),
        ("zgrab2", "smtp", "zgrab2"), ("mxinfer", "ingest dns", "ingest-dns"),
        ("mxinfer", "ingest probes", "ingest-probes"), ("mxinfer", "label", "label-peers")]
for tool, step, k in rows:
    print(f"| {tool} | {step} | {t[k][0]:.2f} | {t[k][1]:.1f} |")
peers = ["zdns", "zdns-apex", "zgrab2", "ingest-dns", "ingest-probes", "label-peers"]
print(f"| peers | total (peak RSS: largest step) | {sum(t[k][0] for k in peers):.2f} | {max(t[k][1] for k in peers):.1f} |")
zd = t["zdns"][0] + t["zdns-apex"][0]
print(f"\nDNS: zdns (both passes) {zd:.2f} s, mxinfer resolve {t['resolve'][0]:.2f} s: mxinfer {zd / t['resolve'][0]:.1f}x faster")
EOF
