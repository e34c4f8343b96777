#!/usr/bin/env bash
# The same label evidence through the three labellers: `mxinfer label` (the CLI, every core),
# `mxinfer.label` (the Python package, one process) and the Spark job on local[2]
# (`python -m mxinfer.spark label`), each writing JSON Lines records. Prints per run the wall
# clock, domains/s and the peak memory of the whole process tree (the JVM and the Python
# workers included: the RSS of every descendant summed, sampled every 0.1 s), the Spark job's
# own account of where its time went (JVM start, each phase), and checks that the three
# outputs hold the same records. Pure computation on loopback: no network.
#
# Usage: scripts/bench-spark.sh [DOMAINS] [ADDRS]   (default 1000000 50000)
#   BENCH_DIR (default /tmp/mxinfer-bench-label, shared with bench-label.sh) keeps the evidence.
#   TEST_VENV: the venv of scripts/test-python.sh (default target/venv-test), which this
#   script sets up when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
addrs=${2:-50000}
dir=${BENCH_DIR:-/tmp/mxinfer-bench-label}/$n
venv=${TEST_VENV:-target/venv-test}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import mxinfer, pyspark' 2>/dev/null; then
  bash scripts/test-python.sh -k version >/dev/null
fi
bash scripts/build-wheel.sh >/dev/null
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps target/wheels/mxinfer-*.whl
cargo build --release --locked --bin mxinfer
if [ ! -s "$dir/dns.jsonl" ] || [ ! -s "$dir/probes.jsonl" ]; then
  python3 scripts/gen-label-evidence.py "$dir" "$n" "$addrs" >/dev/null
fi
py=$venv/bin/python
out=$dir/bench-spark
rm -rf "$out" && mkdir -p "$out"

# tree NAME CMD...: runs CMD, samples the RSS of its process tree, prints one line.
tree() {
  local name=$1
  shift
  "$py" - "$name" "$n" "$@" <<'PY'
import os, subprocess, sys, time
name, n, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def rss_tree(root):
    kids, rss = {}, {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{p}/statm") as f:
                rss[int(p)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
        kids.setdefault(ppid, []).append(int(p))
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(kids.get(p, []))
    return total
t0 = time.monotonic()
proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
peak = 0
while proc.poll() is None:
    peak = max(peak, rss_tree(proc.pid))
    time.sleep(0.1)
wall = time.monotonic() - t0
err = proc.stderr.read()
if proc.returncode != 0:
    sys.exit(f"{name} failed ({proc.returncode}):\n{err[-3000:]}")
for l in err.splitlines():
    if l.startswith("mxinfer.spark: Spark start"):
        print("   ", l)
print(f"{name:>16}: {wall:7.2f} s  {n / wall:>9,.0f} domains/s  peak RSS of the process tree {peak / 2**20:7,.0f} MiB")
PY
}

tree "mxinfer label" target/release/mxinfer label --progress off --dns "$dir/dns.jsonl" \
  --probes "$dir/probes.jsonl" --out "$out/cli.jsonl"
tree "mxinfer.label" "$py" -c '
import sys, mxinfer
t = mxinfer.label(sys.argv[1], sys.argv[2])
with open(sys.argv[3], "w") as f:
    for r in t.column("record").to_pylist():
        f.write(r + "\n")
' "$dir/dns.jsonl" "$dir/probes.jsonl" "$out/py.jsonl"
SPARK_LOCAL_IP=127.0.0.1 tree "Spark local[2]" "$py" -m mxinfer.spark label --dns "$dir/dns.jsonl" \
  --probes "$dir/probes.jsonl" --out "$out/spark" --format jsonl --master 'local[2]'

cmp -s "$out/cli.jsonl" "$out/py.jsonl" && echo "mxinfer.label: the CLI's records, in the same order" \
  || { echo "mxinfer.label differs from the CLI" >&2; exit 1; }
if cmp -s <(sort "$out/cli.jsonl") <(cat "$out"/spark/part-* | sort); then
  echo "Spark: the CLI's records (in partition order)"
else
  echo "Spark differs from the CLI" >&2
  exit 1
fi
rm -rf "$out"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
