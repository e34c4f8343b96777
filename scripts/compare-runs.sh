#!/usr/bin/env bash
# Behaviour check for a restructuring: two mxinfer binaries (before and after) each generate
# the same sim world, serve it on loopback and run `mxinfer run` over it with the same
# arguments; then every output of the two runs is compared after dropping what must differ
# (timestamps, durations, rates, the binary's path in the recorded command line). JSON Lines
# files are compared as sets of records, since resolve and probe records are written in
# completion order. Two fields of probe records differ between two runs of the same binary
# and are dropped too: the leaf certificates (the farm issues them when it starts: DER,
# serial, digest, validity) and the SNI name with the verdict's name match (an address
# shared by many exchangers is probed under the first name the streaming run hands it).
# `scripts/compare-runs.sh BIN BIN` shows the comparison is otherwise exact.
#
#   scripts/compare-runs.sh BEFORE_BIN AFTER_BIN [DOMAINS] [SEED]
#
# Exit 0 when the world files and every run output are identical after normalisation.
set -euo pipefail
before=$1 after=$2 n=${3:-3000} seed=${4:-7}
work=$(mktemp -d /tmp/mxinfer-compare.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
port_dns=25353
for side in before after; do
  bin=${!side}
  w=$work/$side/world out=$work/$side/run
  mkdir -p "$w"
  "$bin" sim world --domains "$n" --seed "$seed" --out "$w" 2>/dev/null
  python3 -c 'import json,sys; [print(json.loads(l)["domain"]) for l in open(sys.argv[1])]' \
    "$w/truth.jsonl" > "$work/$side/domains.txt"
  "$bin" sim serve "$w" --dns 127.0.0.1:$port_dns --port 2525 2>/dev/null &
  pid=$!
  sleep 2
  "$bin" run "$work/$side/domains.txt" --out "$out" --nameserver 127.0.0.1:$port_dns \
    --timeout 2 --port 2525 --roots "$w/ca.pem" --allow-private 127.0.0.0/8 \
    --step-timeout 2 --pfx2as "$w/pfx2as.txt" --psl "$w/psl.dat" --truth "$w/truth.jsonl" \
    --progress off > "$work/$side/stdout.txt" 2> "$work/$side/stderr.txt"
  kill $pid; wait $pid 2>/dev/null || true
done
python3 - "$work" <<'PY'
import json, os, re, sys
work = sys.argv[1]
VOLATILE = {"started_at", "finished_at", "resolved_at", "duration_ms", "duration_s",
            "seconds_reading_probes", "seconds_reading_dns", "domains_per_second",
            "probes_per_second", "date", "checked_at"}
RUN_TO_RUN = {"der", "serial", "sha256", "not_before", "not_after", "sni", "matched_name", "name_match",
              "detail"}
def norm(v, key=None, drop=VOLATILE):
    if isinstance(v, dict):
        return {k: norm(x, k, drop) for k, x in v.items() if k not in drop}
    if isinstance(v, list):
        if key == "args":
            v = v[1:]  # the binary's path
        return [norm(x, None, drop) for x in v]
    if isinstance(v, str):
        return v.replace(work, "WORK").replace("/before/", "/SIDE/").replace("/after/", "/SIDE/")
    return v
def load(path):
    if path.endswith(".jsonl"):
        drop = VOLATILE | RUN_TO_RUN if path.endswith("probes.jsonl") else VOLATILE
        return sorted(json.dumps(norm(json.loads(l), None, drop), sort_keys=True)
                      for l in open(path) if l.strip())
    if path.endswith(".json"):
        return norm(json.load(open(path)))
    text = open(path, "rb").read().decode("utf-8", "replace").replace(work, "WORK")
    # Timings printed in text outputs.
    return re.sub(r"\d+\.\d+ s\b", "T s", text.replace("/before/", "/SIDE/").replace("/after/", "/SIDE/"))
bad = 0
for sub in ["world", "run"]:
    b, a = os.path.join(work, "before", sub), os.path.join(work, "after", sub)
    names = sorted(set(os.listdir(b)) | set(os.listdir(a)))
    for f in names:
        pb, pa = os.path.join(b, f), os.path.join(a, f)
        if not (os.path.exists(pb) and os.path.exists(pa)):
            print(f"DIFFER {sub}/{f}: only on one side"); bad += 1; continue
        same = (open(pb, "rb").read() == open(pa, "rb").read()) if sub == "world" else load(pb) == load(pa)
        print(("same   " if same else "DIFFER ") + f"{sub}/{f}")
        bad += not same
for f in ["stdout.txt"]:
    same = load(os.path.join(work, "before", f)) == load(os.path.join(work, "after", f))
    print(("same   " if same else "DIFFER ") + f)
    bad += not same
print(f"{bad} files differ; outputs in {work}")
sys.exit(1 if bad else 0)
PY
