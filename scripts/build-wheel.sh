#!/usr/bin/env bash
# Builds the wheel of the Python package `mxinfer` (crates/mxinfer-py: abi3, one wheel for
# CPython 3.9 and later) into target/wheels/, with maturin from a venv of its own
# (BUILD_VENV, default target/venv-build). Needs Rust (cargo) and python3 with venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${BUILD_VENV:-target/venv-build}
if [ ! -x "$venv/bin/maturin" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r crates/mxinfer-py/requirements-build.txt
fi
rm -f target/wheels/mxinfer-*.whl
"$venv/bin/maturin" build --release --locked -m crates/mxinfer-py/Cargo.toml -o target/wheels
ls target/wheels/mxinfer-*.whl
