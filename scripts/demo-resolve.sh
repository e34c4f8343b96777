#!/usr/bin/env bash
# Runs the resolve stage on the bundled test zone: starts NSD on a loopback address with
# tests/fixtures/resolve-test.zone.in, resolves every domain of that zone and prints a
# summary of the JSON Lines written to ${OUT:-target/demo-resolve}/dns.jsonl.
# No network beyond 127.0.0.0/8. (Until `mxinfer demo` exists, this is the README's first command.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
cargo build --release --locked -q

out=${OUT:-target/demo-resolve}
mkdir -p "$out"
work=$(mktemp -d)
ip=127.53.77.1
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.53.77.1",0));print(s.getsockname()[1])')
sed -e "s/@NS@/$ip/" -e 's/@DEAD@/127.53.77.2/' -e 's/@SLOW@/127.53.77.3/' \
  tests/fixtures/resolve-test.zone.in > "$work/test.zone"
cp tests/fixtures/resolve-test.rev.zone "$work/rev.zone"
cat > "$work/nsd.conf" <<CONF
server:
  ip-address: $ip@$port
  username: ""
  chroot: ""
  zonesdir: "$work"
  database: ""
  pidfile: "$work/nsd.pid"
  xfrdfile: "$work/xfrd.state"
  zonelistfile: "$work/zone.list"
  logfile: "$work/nsd.log"
  server-count: 1
remote-control:
  control-enable: no
zone:
  name: test.
  zonefile: test.zone
zone:
  name: 43.0.192.in-addr.arpa.
  zonefile: rev.zone
CONF
/usr/sbin/nsd -d -c "$work/nsd.conf" 2>"$work/nsd.stderr" &
nsd_pid=$!
trap 'kill $nsd_pid 2>/dev/null; wait $nsd_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q "zone test. read with success" "$work/nsd.log" 2>/dev/null && break; sleep 0.1; done

# Every owner name of the zone that is a domain under test (not an exchanger), plus one
# name outside it.
awk '$1 !~ /^[;$@]/ && $1 !~ /\./ && NF > 2 {print $1 ".test"}' "$work/test.zone" | sort -u > "$out/domains.txt"
echo "outside.example" >> "$out/domains.txt"

target/release/mxinfer resolve "$out/domains.txt" --nameserver "$ip:$port" --txt --ptr \
  --timeout 1 --attempts 1 --out "$out/dns.jsonl" --progress off || rc=$?
python3 - "$out/dns.jsonl" <<'PY'
import json, sys, collections
recs = [json.loads(l) for l in open(sys.argv[1])]
print(f"{len(recs)} domains resolved -> {sys.argv[1]}")
print(f"{'domain':<18} {'status':<10} {'class':<16} exchangers (preference name: addresses) flags")
for r in sorted(recs, key=lambda r: r["domain"]):
    ex = "; ".join(f"{e['preference']} {e['name'][:40]}: {len(e.get('addresses', []))}" for e in r.get("exchangers", [])[:3])
    more = " …" if len(r.get("exchangers", [])) > 3 else ""
    print(f"{r['domain']:<18} {r['status']:<10} {r['config_class']:<16} {ex}{more} {' '.join(r.get('flags', []))}")
print("statuses:", dict(collections.Counter(r["status"] for r in recs)))
PY
exit "${rc:-0}"
