#!/usr/bin/env bash
# The Python package's tests (crates/mxinfer-py/tests, pytest): builds the wheel
# (scripts/build-wheel.sh), installs it with the pinned test requirements into a venv of its
# own (TEST_VENV, default target/venv-test), builds the `mxinfer` binary with the `parquet`
# feature for the command-line side of the comparisons, and runs pytest. Traffic: only the
# loopback farm of `mxinfer demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${TEST_VENV:-target/venv-test}
bash scripts/build-wheel.sh
if [ ! -x "$venv/bin/pytest" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r crates/mxinfer-py/requirements-test.txt
fi
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps target/wheels/mxinfer-*.whl
cargo build --locked --features parquet --bin mxinfer
MXINFER_BIN=${MXINFER_BIN:-target/debug/mxinfer} "$venv/bin/pytest" -q crates/mxinfer-py/tests "$@"
