#!/usr/bin/env bash
# The crate boundaries of README "Layout", checked with Cargo's own view of the workspace
# (run by .ci/run): the labeller, the tables and ingest (with Arrow) and the Python package link
# no runtime, network, TLS or command-line crate; the
# simulated Internet does not link the labeller or the engine; the schema links none of ours;
# no library crate uses clap.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
tree() { cargo tree --locked -e normal -p "$@" --prefix none --format '{p}' | awk '{print $1}' | sort -u; }
for pure in "mxinfer-label" "mxinfer-tables --features arrow" "mxinfer-ingest --features arrow" "mxinfer-py"; do
  # shellcheck disable=SC2086 # the crate and its features, split on purpose
  deps=$(tree $pure)
  for dep in tokio hickory-proto hickory-resolver rustls openssl clap indicatif anyhow mxinfer-core; do
    if grep -qx "$dep" <<<"$deps"; then echo "layout: $pure depends on $dep" >&2; fail=1; fi
  done
done
sim=$(tree mxinfer-sim)
for dep in mxinfer-label mxinfer-core; do
  if grep -qx "$dep" <<<"$sim"; then echo "layout: mxinfer-sim depends on $dep" >&2; fail=1; fi
done
record=$(tree mxinfer-record)
if grep -v '^mxinfer-record$' <<<"$record" | grep -q '^mxinfer'; then
  echo "layout: mxinfer-record depends on another crate of ours" >&2; fail=1
fi
if grep -rlw 'clap' crates/*/src crates/*/Cargo.toml; then
  echo "layout: the files above (under crates/) use clap" >&2; fail=1
fi
[ "$fail" = 0 ] && echo "layout: crate boundaries hold"
exit "$fail"
