#!/usr/bin/env bash
# The Python package's tests (crates/mxinfer-py/tests, pytest): builds the wheel
# (scripts/build-wheel.sh), installs it as the README says, with PySpark, into a venv of its
# own (TEST_VENV, default target/venv-test; every other package held to the exact pins of
# crates/mxinfer-py/requirements-test.txt), builds the `mxinfer` binary with the `parquet`
# feature for the command-line side of the comparisons, and runs pytest (the Spark tests on
# local[2], bound to loopback; they need Java 17). Traffic: only loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${TEST_VENV:-target/venv-test}
pins=crates/mxinfer-py/requirements-test.txt
bash scripts/build-wheel.sh
if ! command -v java >/dev/null; then
  echo "java is missing: PySpark needs a JDK (17 was measured): apt-get install -y openjdk-17-jre-headless" >&2
  exit 1
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip=("$venv/bin/pip" install -q --disable-pip-version-check)
# The README's install command, with the pins as constraints, then the wheel built just now.
"${pip[@]}" -c "$pins" target/wheels/mxinfer-*.whl 'pyspark[sql]==4.3.0' 'pandas==2.3.3' pytest
"${pip[@]}" --force-reinstall --no-deps target/wheels/mxinfer-*.whl
cargo build --locked --features parquet --bin mxinfer
MXINFER_BIN=${MXINFER_BIN:-target/debug/mxinfer} "$venv/bin/pytest" -q crates/mxinfer-py/tests "$@"
