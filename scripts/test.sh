#!/usr/bin/env bash
# The test command: installs the real servers the integration tests drive (NSD, Unbound),
# then runs the whole test suite. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
exec cargo test --workspace --locked "$@"
