"""`mxinfer.spark` on a real local Spark (`local[2]`, bound to loopback) against the
command-line labeller on a simulated world: the same record for every domain, from JSON
Lines and from the Parquet tables of `mxinfer export`, with the inputs split over many
partitions; `python -m mxinfer.spark label` as a user runs it; bad rows counted and
reported. Needs Java (17) and MXINFER_BIN as test_label.py.
"""

import glob
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from test_label import cli, cli_labels, export, world  # noqa: F401  (the world fixture)

pyspark = pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only
    s = (
        SparkSession.builder.master("local[2]")
        .appName("mxinfer tests")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    yield s
    s.stop()


def records(df):
    return sorted(r.record for r in df.select("record").collect())


def spark_label(spark, w, dns, probes, **kw):
    import mxinfer.spark as ms

    return ms.label(
        spark, dns, probes, pfx2as=str(w / "pfx2as.txt"), psl=str(w / "psl.dat"), **kw
    )


def test_json_lines_over_many_partitions_give_the_cli_records(spark, world, tmp_path):
    want = sorted(cli_labels(world, tmp_path / "cli.jsonl"))
    dns = spark.read.text(str(world / "dns.jsonl")).repartition(7)
    probes = spark.read.text(str(world / "probes.jsonl")).repartition(5)
    assert dns.rdd.getNumPartitions() == 7
    o = spark_label(spark, world, dns, probes)
    assert o.bad_rows == 0 and o.problems == []
    assert records(o.labels) == want
    # The export columns beside the record.
    row = o.labels.filter("top_provider is not null").first()
    assert row.domain in row.record and row.top_provider in row.record


def test_export_parquet_tables_give_the_cli_records(spark, world, tmp_path):
    want = sorted(cli_labels(world, tmp_path / "cli.jsonl", "--compact"))
    dns_pq = export(world, "dns", world / "dns.jsonl", tmp_path)
    probes_pq = export(world, "probes", world / "probes.jsonl", tmp_path)
    dns = spark.read.parquet(str(dns_pq)).repartition(3)
    probes = spark.read.parquet(str(probes_pq))
    o = spark_label(spark, world, dns, probes, compact=True)
    assert records(o.labels) == want


def test_bad_rows_are_counted_and_reported(spark, world, tmp_path):
    lines = (world / "dns.jsonl").read_text().splitlines()
    bad = tmp_path / "dns.jsonl"
    bad.write_text("\n".join(lines[:30] + ["{not json"] + lines[30:60]) + "\n")
    bad_probes = tmp_path / "probes.jsonl"
    bad_probes.write_text((world / "probes.jsonl").read_text() + '{"ip": "nowhere"}\n')
    o = spark_label(spark, world, spark.read.text(str(bad)), spark.read.text(str(bad_probes)))
    assert o.bad_rows == 2
    assert any("dns line" in p and "not a record" in p for p in o.problems)
    assert any("probes line" in p and "not a record" in p for p in o.problems)
    assert o.labels.count() == 60


def test_the_command_labels_the_world_as_the_cli(world, tmp_path):
    want = sorted(cli_labels(world, tmp_path / "cli.jsonl"))
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1")
    # A run directory as input: its `*.meta.json` files are not records.
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    lines = (world / "dns.jsonl").read_text().splitlines(keepends=True)
    (run_dir / "dns-0.jsonl").write_text("".join(lines[:200]))
    (run_dir / "dns-1.jsonl").write_text("".join(lines[200:]))
    (run_dir / "dns-0.jsonl.meta.json").write_text('{"tool": "mxinfer"}')
    for fmt in ["jsonl", "parquet"]:
        out = tmp_path / f"spark-{fmt}"
        p = subprocess.run(
            [
                sys.executable, "-m", "mxinfer.spark", "label",
                "--dns", str(run_dir), "--probes", str(world / "probes.jsonl"),
                "--pfx2as", str(world / "pfx2as.txt"), "--psl", str(world / "psl.dat"),
                "--out", str(out), "--format", fmt, "--master", "local[2]",
            ],
            capture_output=True, text=True, env=env,
        )
        assert p.returncode == 0, p.stderr[-3000:]
        assert "0 rows not records" in p.stderr
        if fmt == "jsonl":
            got = sorted(
                l for f in glob.glob(str(out / "part-*")) for l in open(f).read().splitlines()
            )
        else:
            got = sorted(pq.read_table(str(out)).column("record").to_pylist())
        assert got == want, fmt
