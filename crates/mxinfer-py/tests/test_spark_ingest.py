"""The Spark job's readers of other tools' datasets against `mxinfer ingest` + `mxinfer label`:
OpenINTEL forward-DNS Parquet (the offline fixture, and an OpenINTEL-shaped snapshot of a
simulated world with every hard case, over several files, row groups and partitions) and
zgrab2 smtp JSON Lines (real zgrab2 output captured from a served world, tests/fixtures/ingest/
sim200, cut into files that split into many blocks, with repeated addresses and malformed
lines). The records, the counts and the reported rows are those of `mxinfer ingest`, and the
labels those of `mxinfer label` on its output. Needs Java and MXINFER_BIN as test_spark.py.
"""

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_label import cli, cli_labels, world  # noqa: F401  (the world fixture)
from test_spark import records, spark  # noqa: F401  (the spark fixture)

pytest.importorskip("pyspark")

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "ingest"


def canon(lines):
    """Records as canonical JSON, sorted: the readers write them in no particular order."""
    return sorted(json.dumps(json.loads(l), sort_keys=True) for l in lines if l.strip())


def ingest(kind, *args):
    p = cli("ingest", kind, "--progress", "off", *args, check=False)
    assert p.returncode in (0, 3), p.stderr
    problems = [l[len("mxinfer: ") :] for l in p.stderr.splitlines() if l.startswith("mxinfer: ")]
    summary = [l for l in p.stderr.splitlines() if l.startswith(f"ingest {kind}:")][0]
    return p.stdout.splitlines(), problems, summary


def openintel_rows(dns_jsonl, rng):
    """An OpenINTEL-shaped snapshot of resolve records: per domain its MX rows (or a
    pseudo-record with the query's status), CNAME rows, and the A/AAAA rows of its exchangers
    and, for implicit MX, of itself; shuffled so a domain's rows are spread out."""
    rows = []
    ts = 1_764_547_200_000

    def row(**kw):
        r = dict(
            query_type=None, query_name=None, response_type=None, response_name=None,
            response_ttl=None, status_code=0, timestamp=ts + rng.randrange(1000),
            mx_address=None, mx_preference=None, ip4_address=None, ip6_address=None,
            cname_name=None,
        )
        r.update(kw)
        rows.append(r)

    status_code = {"nxdomain": 3, "servfail": 2, "refused": 5, "timeout": 65535}
    for line in open(dns_jsonl):
        d = json.loads(line)
        q = d["domain"] + "."
        if d["status"] in status_code:
            row(query_type="MX", query_name=q, status_code=status_code[d["status"]])
            continue
        for c in d.get("cname", []):
            row(query_type="MX", query_name=q, response_type="CNAME", response_name=q,
                cname_name=c + ".")
        if not d.get("mx"):
            row(query_type="MX", query_name=q)  # answered, no MX: the pseudo-record only
        for m in d.get("mx", []):
            row(query_type="MX", query_name=q, response_type="MX", response_name=q,
                response_ttl=m["ttl"], mx_address=m["exchange"].rstrip(".") + ".",
                mx_preference=m["preference"])
        for e in d.get("exchangers", []):
            for a in e.get("addresses", []):
                v6 = ":" in a["ip"]
                t = "AAAA" if v6 else "A"
                row(query_type=t, query_name=e["name"] + ".", response_type=t,
                    response_name=e["name"] + ".", response_ttl=300,
                    **({"ip6_address": a["ip"]} if v6 else {"ip4_address": a["ip"]}))
    rng.shuffle(rows)
    # Malformed rows, reported with their file and row.
    rows.insert(7, dict(rows[0], query_type="MX", query_name="bad.example.", response_type="MX",
                        response_name="bad.example.", mx_address="mx.bad.example.",
                        mx_preference=None))
    rows.insert(40, dict(rows[0], query_type="A", query_name="x.example.", response_type="A",
                         response_name="x.example.", ip4_address="2001:db8::1"))
    return rows


SCHEMA = pa.schema(
    [
        ("query_type", pa.string()), ("query_name", pa.string()),
        ("response_type", pa.string()), ("response_name", pa.string()),
        ("response_ttl", pa.int64()), ("status_code", pa.int32()), ("timestamp", pa.int64()),
        ("mx_address", pa.string()), ("mx_preference", pa.int32()),
        ("ip4_address", pa.string()), ("ip6_address", pa.string()), ("cname_name", pa.string()),
    ]
)


def test_openintel_fixture_gives_the_records_of_mxinfer_ingest(spark, tmp_path):
    import mxinfer.spark as ms

    f = str(FIXTURES / "openintel.parquet")
    want, problems, summary = ingest("dns", f)
    r = ms.read_openintel(spark, [f])
    assert canon(x.value for x in r.df.collect()) == canon(want)
    assert r.problems == problems and len(problems) == r.malformed == 2
    assert r.summary("ingest dns") == summary


def test_an_openintel_snapshot_in_many_files_labels_as_the_cli(spark, world, tmp_path):
    import mxinfer.spark as ms

    rows = openintel_rows(world / "dns.jsonl", random.Random(5))
    files = []
    third = len(rows) // 3
    for i, part in enumerate([rows[:third], rows[third : 2 * third], rows[2 * third :]]):
        p = tmp_path / f"part-{i}.parquet"
        pq.write_table(pa.Table.from_pylist(part, SCHEMA), p, row_group_size=97)
        files.append(str(p))
    want, problems, summary = ingest("dns", *files)
    assert len(want) > 400 and len(problems) == 2
    spark.conf.set("spark.sql.files.maxPartitionBytes", "4096")  # row groups read apart
    try:
        assert spark.read.parquet(*files).rdd.getNumPartitions() > 3
        r = ms.read_openintel(spark, files)
        assert canon(x.value for x in r.df.collect()) == canon(want)
        assert r.problems == problems
        assert r.summary("ingest dns") == summary
        # Labelled by the Spark job straight from the reader, as the CLI labels ingest's output.
        dns = tmp_path / "dns.jsonl"
        dns.write_text("\n".join(want) + "\n")
        expect = sorted(cli_labels(world, tmp_path / "cli.jsonl", dns=dns))
        o = ms.label(
            spark, r.df, spark.read.text(str(world / "probes.jsonl")).repartition(3),
            pfx2as=str(world / "pfx2as.txt"), psl=str(world / "psl.dat"),
        )
        assert records(o.labels) == expect
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")


@pytest.fixture(scope="module")
def sim200(tmp_path_factory):
    """The world the sim200 captures come from (regenerated: the generator is reproducible)
    and its resolve records ingested from the captured zdns output."""
    w = tmp_path_factory.mktemp("sim200")
    cli("sim", "world", "--domains", "200", "--seed", "1", "--out", w)
    dns, _, _ = ingest(
        "dns", "--apex", FIXTURES / "sim200" / "zdns-alookup-nomx.jsonl",
        FIXTURES / "sim200" / "zdns-mxlookup.jsonl",
    )
    (w / "dns.jsonl").write_text("\n".join(dns) + "\n")
    return w


def zgrab2_files(tmp_path):
    """The captured zgrab2 output in three plain files: blank lines, malformed lines, and
    addresses repeated in a later file (the first one must win)."""
    lines = gzip.open(FIXTURES / "sim200" / "zgrab2-smtp.jsonl.gz", "rt").read().splitlines()
    again = []
    for l in lines[:5]:
        o = json.loads(l)
        o["data"]["smtp"]["timestamp"] = "2026-12-01T00:00:00Z"  # a later, different record
        o["data"]["smtp"]["status"] = "connection-timeout"
        o["data"]["smtp"].pop("result", None)
        again.append(json.dumps(o))
    parts = [
        lines[:60] + ["", "{not json"],
        lines[60:120] + ['{"ip": "127.0.0.300", "data": {"smtp": {"status": "success"}}}'],
        again + ["   "] + lines[120:] + ['["not", "an object"]'],
    ]
    files = []
    for i, p in enumerate(parts):
        f = tmp_path / f"zgrab2-{i}.jsonl"
        f.write_text("\n".join(p) + "\n")
        files.append(str(f))
    return files


def test_zgrab2_lines_give_the_records_of_mxinfer_ingest(spark, tmp_path):
    import mxinfer.spark as ms

    files = zgrab2_files(tmp_path)
    want, problems, summary = ingest("probes", *files)
    assert len(problems) == 3 and "duplicates" in summary
    spark.conf.set("spark.sql.files.maxPartitionBytes", "16384")  # files split into blocks
    try:
        r = ms.read_zgrab2(spark, files)
        raw = spark.read.option("lineSep", "\n").text(files)
        assert raw.rdd.getNumPartitions() > 3
        assert canon(x.value for x in r.df.collect()) == canon(want)
        assert r.problems == problems
        assert r.duplicates == 5 and r.malformed == 3 and r.records == len(want)
        assert r.summary("x").startswith(f"x: {summary.split(': ', 1)[1].split(';')[0]}")
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    # The fixture as captured (gzip, one file): the same records as ingest's.
    gz = str(FIXTURES / "sim200" / "zgrab2-smtp.jsonl.gz")
    want, problems, _ = ingest("probes", gz)
    r = ms.read_zgrab2(spark, [gz])
    assert canon(x.value for x in r.df.collect()) == canon(want) and problems == []
    assert r.trust["from_dataset"] > 100 and r.trust["unknown"] == 0


def test_the_command_labels_zgrab2_and_openintel_input_as_the_cli(sim200, tmp_path):
    gz = FIXTURES / "sim200" / "zgrab2-smtp.jsonl.gz"
    probes, _, _ = ingest("probes", gz)
    (tmp_path / "probes.jsonl").write_text("\n".join(probes) + "\n")
    want = sorted(cli_labels(sim200, tmp_path / "cli.jsonl", probes=tmp_path / "probes.jsonl"))
    # The captured world labels as mxinfer's own run of the same minute did (README there).
    own = {json.loads(l)["domain"] for l in open(FIXTURES / "sim200" / "mxinfer-labels.jsonl")}
    assert {json.loads(l)["domain"] for l in want} == own
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1")

    def spark_job(out, *args):
        return subprocess.run(
            [
                sys.executable, "-m", "mxinfer.spark", "label", *map(str, args),
                "--pfx2as", str(sim200 / "pfx2as.txt"), "--psl", str(sim200 / "psl.dat"),
                "--out", str(out), "--format", "parquet", "--master", "local[2]",
            ],
            capture_output=True, text=True, env=env,
        )

    out = tmp_path / "spark-zgrab2"
    p = spark_job(out, "--dns", sim200 / "dns.jsonl", "--probes", gz, "--probes-format", "zgrab2")
    assert p.returncode == 0, p.stderr[-3000:]
    assert "zgrab2: 154 rows, 154 records, 0 malformed" in p.stderr
    assert sorted(pq.read_table(str(out)).column("record").to_pylist()) == want

    # OpenINTEL: the fixture's malformed rows are reported and make the exit status 3.
    f = FIXTURES / "openintel.parquet"
    dns, problems, _ = ingest("dns", f)
    (tmp_path / "oi.jsonl").write_text("\n".join(dns) + "\n")
    (tmp_path / "none.jsonl").write_text("")
    want = sorted(
        cli_labels(sim200, tmp_path / "oi-cli.jsonl", dns=tmp_path / "oi.jsonl",
                   probes=tmp_path / "none.jsonl")
    )
    out = tmp_path / "spark-oi"
    p = spark_job(out, "--dns", f, "--dns-format", "openintel", "--probes", tmp_path / "none.jsonl")
    assert p.returncode == 3, p.stderr[-3000:]
    for problem in problems:
        assert problem in p.stderr
    assert "2 rows not records" in p.stderr
    assert sorted(pq.read_table(str(out)).column("record").to_pylist()) == want
