"""`mxinfer.label` against the command-line labeller on a simulated world (`mxinfer demo`:
every hard case of the generator, served on loopback and probed for real): the same record
for every domain from JSON Lines, from the Parquet tables of `mxinfer export`, and from
pyarrow tables cut into many record batches; bad rows counted and reported.

Needs MXINFER_BIN: an `mxinfer` binary built with the `parquet` feature (scripts/test-python.sh
builds one).
"""

import json
import os
import subprocess
import sys
import warnings

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mxinfer

BIN = os.environ.get("MXINFER_BIN", "target/debug/mxinfer")


def cli(*args, check=True):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"mxinfer {args}: exit {p.returncode}\n{p.stderr}")
    return p


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    w = tmp_path_factory.mktemp("world")
    cli("demo", "--domains", "500", "--seed", "21", "--out", w)
    return w


def cli_labels(w, out, *extra, dns=None, probes=None):
    cli(
        "label",
        "--dns",
        dns or w / "dns.jsonl",
        "--probes",
        probes or w / "probes.jsonl",
        "--pfx2as",
        w / "pfx2as.txt",
        "--psl",
        w / "psl.dat",
        "--out",
        out,
        "--progress",
        "off",
        *extra,
    )
    return out.read_text().splitlines()


def py_labels(w, dns, probes, **kw):
    return mxinfer.label(dns, probes, pfx2as=w / "pfx2as.txt", psl=w / "psl.dat", **kw)


def export(w, table, src, tmp):
    out = tmp / f"pq-{table}"
    cli("export", table, src, "--out-dir", out, "--snapshot", "2026-12-01", "--progress", "off")
    return out / "snapshot=2026-12-01" / "part-0.parquet"


def test_version_and_data_without_java(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_HOME")}
    env["PATH"] = os.path.dirname(sys.executable)  # no java on the path
    code = "import mxinfer; print(mxinfer.__version__, mxinfer.psl_version, mxinfer.company_count)"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    version, psl, companies = p.stdout.split()
    cargo = cli("--version").stdout.split()[-1]
    assert version == cargo
    assert psl[:4].isdigit() and psl[4] == "-"  # the embedded list's version: its date
    assert int(companies) > 20


def test_the_package_requires_no_network_stack():
    p = subprocess.run(
        [sys.executable, "-m", "pip", "show", "mxinfer"], capture_output=True, text=True
    )
    requires = [l for l in p.stdout.splitlines() if l.startswith("Requires:")]
    assert requires == ["Requires: pyarrow"], p.stdout


def test_labels_from_json_lines_are_the_cli_records(world, tmp_path):
    want = cli_labels(world, tmp_path / "cli.jsonl")
    got = py_labels(world, world / "dns.jsonl", world / "probes.jsonl")
    assert got.num_rows == len(want) == 500
    assert got.column("record").to_pylist() == want
    assert got.column("domain").to_pylist() == [json.loads(l)["domain"] for l in want]
    assert got.schema.metadata[b"mxinfer.bad_rows"] == b"0"


def test_labels_from_parquet_tables_in_many_batches_are_the_cli_records(world, tmp_path):
    want = cli_labels(world, tmp_path / "cli.jsonl")
    dns_pq = export(world, "dns", world / "dns.jsonl", tmp_path)
    probes_pq = export(world, "probes", world / "probes.jsonl", tmp_path)
    # The Parquet paths, as a user gives them.
    got = py_labels(world, dns_pq, probes_pq)
    assert got.column("record").to_pylist() == want
    # pyarrow tables cut into many small record batches (as partitions would be).
    dns_t = pq.read_table(dns_pq)
    probes_t = pq.read_table(probes_pq)
    dns_t = pa.Table.from_batches(dns_t.to_batches(max_chunksize=17), schema=dns_t.schema)
    probes_t = pa.Table.from_batches(probes_t.to_batches(max_chunksize=5), schema=probes_t.schema)
    assert dns_t.to_batches()[0].num_rows == 17
    got = py_labels(world, dns_t, probes_t)
    assert got.column("record").to_pylist() == want


def test_the_columns_are_those_of_mxinfer_export_labels(world, tmp_path):
    labels = tmp_path / "cli.jsonl"
    cli_labels(world, labels)
    exported = pq.read_table(export(world, "labels", labels, tmp_path))
    got = py_labels(world, world / "dns.jsonl", world / "probes.jsonl")
    assert got.schema.names == exported.schema.names + ["record"]
    assert got.drop_columns(["record"]).equals(exported.replace_schema_metadata(None).cast(
        got.drop_columns(["record"]).schema
    ))


def test_compact_and_other_approaches_as_the_cli(world, tmp_path):
    for extra, kw in [
        (["--compact"], {"compact": True}),
        (["--approach", "banner"], {"approach": "banner"}),
        (["--approach", "mx-only", "--threshold", "2"], {"approach": "mx_only", "threshold": 2}),
    ]:
        want = cli_labels(world, tmp_path / "cli.jsonl", *extra)
        got = py_labels(world, world / "dns.jsonl", world / "probes.jsonl", **kw)
        assert got.column("record").to_pylist() == want, extra


def test_bad_rows_are_counted_and_reported_not_dropped_silently(world, tmp_path):
    lines = (world / "dns.jsonl").read_text().splitlines()
    bad = tmp_path / "dns-bad.jsonl"
    bad.write_text("\n".join(lines[:10] + ["{not json", '{"domain": 3}'] + lines[10:20]) + "\n")
    with pytest.warns(mxinfer.BadRowsWarning, match=r"2 input rows or lines are not records"):
        got = py_labels(world, bad, world / "probes.jsonl")
    assert got.num_rows == 20
    assert got.schema.metadata[b"mxinfer.bad_rows"] == b"2"
    first = got.schema.metadata[b"mxinfer.bad_rows_first"].decode().splitlines()
    assert first[0].startswith(f"{bad}:11: not a record")
    assert first[1].startswith(f"{bad}:12: not a record")
    with pytest.raises(ValueError, match="2 input rows"):
        py_labels(world, bad, world / "probes.jsonl", strict=True)
    # A table row that is not a record (an address that is none).
    dns_t = pq.read_table(export(world, "dns", world / "dns.jsonl", tmp_path))
    # Five records, the first with an exchanger (the run writes them as they complete, so
    # where such a record stands differs from run to run).
    rows = dns_t.to_pylist()
    first = next(i for i, r in enumerate(rows) if r["exchangers"])
    rows = rows[first : first + 5]
    assert len(rows) == 5
    rows[0]["exchangers"][0]["addresses"] = ["192.0.2.999"]
    broken = pa.Table.from_pylist(rows, schema=dns_t.schema)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = py_labels(world, broken, world / "probes.jsonl")
    assert got.num_rows == 4
    assert any("dns row" in str(c.message) and "192.0.2.999" in str(c.message) for c in caught)


def test_a_table_of_the_wrong_kind_is_an_error_naming_the_column(world, tmp_path):
    probes_pq = export(world, "probes", world / "probes.jsonl", tmp_path)
    with pytest.raises(ValueError, match="not an `mxinfer export dns` table: column `domain`"):
        mxinfer.label(probes_pq, probes_pq)
    with pytest.raises(ValueError, match='approach "best": expected priority'):
        mxinfer.label(world / "dns.jsonl", world / "probes.jsonl", approach="best")
