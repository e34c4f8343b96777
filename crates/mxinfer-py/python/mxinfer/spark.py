"""The labeller as an Apache Spark job: the phases of `crates/mxinfer-label` over DataFrames.

    python -m mxinfer.spark label --dns PATH... --probes PATH... [--pfx2as FILE]
        [--approach A] --out DIR [--format parquet|jsonl] [--master URL]
        [--dns-format mxinfer|openintel] [--probes-format mxinfer|zgrab2]

or `spark-submit` with this module. Spark is the engine; the method is the Rust labeller's,
called on Arrow batches (`mapInArrow`), so the labels are those of `mxinfer label`:

1. evidence: per probe record, its address's evidence (`AddressEvidence`) and the key that
   decides between two records of an address; reduced by address (`max_by` of the key);
   the winners (one per address: they grow with addresses, not domains) are broadcast;
2. counts: per partition of resolve records, its batch counts (`BatchCounts`) as rows, summed
   by Spark (sums: any partitioning gives the same); the driver collects the shared ones
   (numIP, numCert, the numMX of names used twice or more: they grow with providers and
   addresses, not with domains) and broadcasts them;
3. labels: per partition, a labeller with the evidence and the merged counts labels its
   domains: one row per domain with the columns of `mxinfer export labels` and `record`, the
   label record as JSON (what `mxinfer label` writes).

Inputs: mxinfer's JSON Lines (read as text; gzip as Spark reads it) or the Parquet tables of
`mxinfer export`; or, through the readers, OpenINTEL forward-DNS Parquet (`--dns-format
openintel`, `read_openintel`) and zgrab2 smtp JSON Lines (`--probes-format zgrab2`,
`read_zgrab2`), converted by the rules of `mxinfer ingest` (crate `mxinfer-ingest`) into the
records it writes. Rows that are not records are counted and reported (the job prints them,
`label()` and the readers return them), never dropped silently.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from . import _mxinfer
from . import _files

EVIDENCE_SCHEMA = (
    "ip string, live boolean, started_at string, digest_key string, evidence string, "
    "problem string"
)
COUNT_ROWS_SCHEMA = "kind string, key string, n bigint"


@dataclass
class Outcome:
    """What `label` did: the labels, the rows that were not records, where the time went."""

    labels: object  # pyspark.sql.DataFrame
    bad_rows: int = 0
    problems: List[str] = field(default_factory=list)
    seconds: Dict[str, float] = field(default_factory=dict)


def _local_files(paths: List[str]) -> List[str]:
    """Local directories as their files, as `mxinfer label` reads them (not hidden files, not
    the `*.meta.json` run metadata beside each output); other paths (files, URLs such as
    hdfs:// or s3a://, globs) as given."""
    import os

    out: List[str] = []
    for p in paths:
        if "://" in p or not os.path.isdir(p) or _is_parquet_dir(p):
            out.append(p)
        else:
            out.extend(_files([p]))  # the package's own rule for a directory
    return out


def _read(spark, paths: List[str]):
    """A DataFrame of the inputs: the export Parquet tables, or JSON Lines as text."""
    paths = _local_files(paths)
    with_parquet = [p for p in paths if p.endswith(".parquet") or _is_parquet_dir(p)]
    if with_parquet and len(with_parquet) != len(paths):
        raise ValueError(f"{paths}: Parquet and JSON Lines mixed; give one kind")
    if with_parquet:
        return spark.read.parquet(*paths)
    return spark.read.text(paths)


def _is_parquet_dir(p: str) -> bool:
    import os

    if not os.path.isdir(p):
        return False
    for root, _, files in os.walk(p):
        if any(f.endswith(".parquet") for f in files):
            return True
    return False


@dataclass
class Read:
    """What a reader of another tool's dataset made: `df` holds the records (JSON, column
    `value`, as `mxinfer ingest` writes them) and the counts `mxinfer ingest` reports."""

    df: object  # pyspark.sql.DataFrame
    rows: int = 0
    records: int = 0
    malformed: int = 0
    duplicates: int = 0
    skipped: int = 0
    trust: Dict[str, int] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)

    def summary(self, what: str) -> str:
        trust = "".join(f", trust {k} {v}" for k, v in sorted(self.trust.items()))
        return (
            f"{what}: {self.rows} rows, {self.records} records, {self.malformed} malformed, "
            f"{self.duplicates} duplicates, {self.skipped} skipped{trust}"
        )


PROBLEMS_KEPT = 1000
OPENINTEL_FACTS_SCHEMA = (
    "kind string, key string, pos bigint, fact string, exchange string, adds boolean, "
    "problem string"
)
ZGRAB2_SCHEMA = "ip string, pos bigint, value string, trust string, problem string"


def _file_table(spark, uris_counts, given: List[str]):
    """The files Spark read (`_metadata.file_path` URIs with their row or line counts) in the
    order `mxinfer ingest` reads them: as given on the command line, a directory's files by
    name; each with the name a problem is reported under (the path as given when it was
    given, else the path) and the count of rows of the files before it."""
    import os
    from urllib.parse import unquote, urlparse

    def local(uri: str) -> str:
        u = urlparse(uri)
        return unquote(u.path) if u.scheme in ("", "file") else uri

    given_abs = [(i, g, os.path.abspath(g) if "://" not in g else g) for i, g in enumerate(given)]

    def order(uri: str):
        path = local(uri)
        for i, g, a in given_abs:
            if path == a or uri == a:
                return (i, path, g)
            if path.startswith(a.rstrip("/") + "/"):
                return (i, path, path)
        return (len(given), path, path)

    rows = []
    offset = 0
    for uri, n in sorted(uris_counts.items(), key=lambda kv: order(kv[0])[:2]):
        rows.append((uri, order(uri)[2], offset))
        offset += n
    return spark.createDataFrame(rows, "_uri string, _file string, _off bigint")


def read_openintel(spark, paths: List[str]) -> Read:
    """OpenINTEL forward-DNS Parquet (FORMATS.md: one row per DNS record) -> resolve records,
    as `mxinfer ingest dns` makes them: rows read as facts in parallel, the MX-query facts
    grouped by domain and the A/AAAA facts by name (Spark), joined to the domains that name
    them, and each domain's record built by the same Rust code. Positions (a domain's
    `input.line`, the order of its rows, the reported row of a malformed one) are those of
    `mxinfer ingest dns` over the same files in the same order."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    paths = _local_files(paths)
    raw = spark.read.parquet(*paths).select(
        "*",
        F.col("_metadata.file_path").alias("_uri"),
        F.col("_metadata.row_index").alias("_ri"),
    )
    counts = {r._uri: r["count"] for r in raw.groupBy("_uri").count().collect()}
    files = _file_table(spark, counts, paths)
    positioned = (
        raw.join(F.broadcast(files), "_uri")
        .withColumn("_row", F.col("_ri") + 1)
        .withColumn("_pos", F.col("_off") + F.col("_ri") + 1)
    )

    def facts_of(batches):
        for b in batches:
            yield _mxinfer.openintel_facts(b)

    facts = positioned.mapInArrow(facts_of, OPENINTEL_FACTS_SCHEMA).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    kinds = {
        (r.kind, r.adds): r["count"] for r in facts.groupBy("kind", "adds").count().collect()
    }
    problems = [
        r.problem
        for r in facts.filter(F.col("kind") == "bad")
        .orderBy("pos")
        .select("problem")
        .limit(PROBLEMS_KEPT)
        .collect()
    ]
    mx = facts.filter(F.col("kind") == "mx")
    domains = mx.groupBy("key").agg(F.collect_list(F.struct("pos", "fact")).alias("facts"))
    names = (
        mx.filter(F.col("exchange").isNotNull())
        .select("key", F.col("exchange").alias("name"))
        .union(mx.select("key", F.col("key").alias("name")))
        .distinct()
    )
    addresses = (
        facts.filter(F.col("kind") == "address")
        .groupBy(F.col("key").alias("name"))
        .agg(F.collect_list(F.struct("pos", "fact")).alias("ips"))
    )
    by_domain = (
        names.join(addresses, "name")
        .groupBy("key")
        .agg(F.collect_list(F.struct("name", "ips")).alias("addrs"))
    )
    groups = domains.join(by_domain, "key", "left").select(
        F.to_json(F.struct(F.col("key").alias("domain"), "facts", "addrs")).alias("value")
    )

    def records_of(batches):
        for b in batches:
            yield _mxinfer.openintel_records(b)

    df = groups.mapInArrow(records_of, "value string")
    n = lambda k, a=None: sum(v for (kk, aa), v in kinds.items() if kk == k and (a is None or aa == a))  # noqa: E731
    return Read(
        df=df,
        rows=sum(kinds.values()),
        records=domains.count(),
        malformed=n("bad"),
        skipped=n("skip") + n("mx", False),
        problems=problems,
    )


def read_zgrab2(spark, paths: List[str], *, port: int = 25, at: Optional[str] = None) -> Read:
    """zgrab2 smtp JSON Lines (plain or gzip) -> probe records, as `mxinfer ingest probes`
    makes them: one record per address, the first in input order when an address appears
    again (later ones are counted as duplicates); trust is zgrab2's own verdict
    (`validation.browser_trusted`). A chain without one is recorded as not judged: this
    package links no TLS stack; `mxinfer ingest probes` judges such chains. `port` is the
    port of records that do not say; `at` the snapshot time (RFC 3339 or a date)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    paths = _local_files(paths)
    # Lines end at LF only, as `mxinfer ingest` reads them; a line's number comes from its
    # file block and its place in the partition that read the block (consecutive ids).
    raw = (
        spark.read.option("lineSep", "\n")
        .text(paths)
        .select(
            "value",
            F.col("_metadata.file_path").alias("_uri"),
            F.col("_metadata.file_block_start").alias("_blk"),
            F.monotonically_increasing_id().alias("_m"),
        )
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    blocks = raw.groupBy("_uri", "_blk").agg(F.count("*").alias("n"), F.min("_m").alias("m0")).collect()
    per_file: Dict[str, int] = {}
    for b in blocks:
        per_file[b._uri] = per_file.get(b._uri, 0) + b.n
    files = {r._uri: (r._file, r._off) for r in _file_table(spark, per_file, paths).collect()}
    block_rows = []
    for uri in per_file:
        before = 0
        for b in sorted((b for b in blocks if b._uri == uri), key=lambda b: b._blk):
            name, off = files[uri]
            block_rows.append((uri, b._blk, name, before, off, b.m0))
            before += b.n
    bt = spark.createDataFrame(
        block_rows, "_uri string, _blk bigint, _file string, _before bigint, _off bigint, m0 bigint"
    )
    lines = (
        raw.join(F.broadcast(bt), ["_uri", "_blk"])
        .withColumn("_line", F.col("_before") + F.col("_m") - F.col("m0") + 1)
        .withColumn("_pos", F.col("_off") + F.col("_line"))
        .select("value", "_file", "_line", "_pos")
    )

    def probes_of(batches):
        for b in batches:
            yield _mxinfer.zgrab2_probes(b, port=port, at=at)

    probes = lines.mapInArrow(probes_of, ZGRAB2_SCHEMA).persist(StorageLevel.MEMORY_AND_DISK)
    ok = probes.filter(F.col("problem").isNull())
    first = ok.groupBy("ip").agg(
        F.min_by("value", "pos").alias("value"), F.count("*").alias("n")
    )
    stats = ok.agg(
        F.count("*").alias("ok"),
        F.count("trust").alias("chains"),
        F.sum(F.when(F.col("trust") == "dataset", 1).otherwise(0)).alias("dataset"),
    ).first()
    distinct = first.count()
    malformed = probes.filter(F.col("problem").isNotNull())
    problems = [
        r.problem for r in malformed.orderBy("pos").select("problem").limit(PROBLEMS_KEPT).collect()
    ]
    n_bad = malformed.count()
    dataset = int(stats.dataset or 0)
    return Read(
        df=first.select("value"),
        rows=stats.ok + n_bad,
        records=distinct,
        malformed=n_bad,
        duplicates=stats.ok - distinct,
        trust={"from_dataset": dataset, "unknown": stats.chains - dataset},
        problems=problems,
    )


def _labels_schema():
    """The Spark schema of the labels: that of `mxinfer export labels` plus `record`."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(_spark_arrow_schema(_empty_labels().schema))


def _empty_labels():
    import pyarrow as pa

    return _mxinfer.label_batch(
        pa.RecordBatch.from_pydict({"value": pa.array([], pa.string())}), [], "{}"
    )


def _spark_arrow_schema(schema):
    """Spark has no unsigned integers: uint64 columns become int64."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field(f.name, pa.int64(), f.nullable) if f.type == pa.uint64() else f
            for f in schema
        ]
    )


def label(
    spark,
    dns,
    probes,
    *,
    pfx2as: Optional[str] = None,
    approach: str = "priority",
    threshold: int = 5,
    psl: Optional[str] = None,
    psl_icann_only: bool = False,
    companies: Optional[str] = None,
    compact: bool = False,
) -> Outcome:
    """Labels the resolve records of the DataFrame `dns` from the probe records of `probes`
    (each the Parquet table of `mxinfer export`, or JSON Lines read as text: a `value`
    column). Data files (`pfx2as`, `psl`, `companies`) must be readable at the same path on
    every executor."""
    from pyspark.sql import functions as F

    seconds: Dict[str, float] = {}
    t = time.monotonic()
    # 1. Evidence per address.
    def evidence(batches):
        for b in batches:
            yield _mxinfer.evidence_batch(b, pfx2as)

    ev = probes.mapInArrow(evidence, EVIDENCE_SCHEMA).cache()
    bad_probes = ev.filter(F.col("problem").isNotNull()).select("problem").collect()
    winners = (
        ev.filter(F.col("problem").isNull())
        .groupBy("ip")
        .agg(F.max_by("evidence", F.struct("live", "started_at", "digest_key")).alias("e"))
        .select("e")
        .collect()
    )
    evidence_json = [r.e for r in winners]
    ev.unpersist()
    seconds["evidence"] = time.monotonic() - t
    t = time.monotonic()
    sc = spark.sparkContext
    bev = sc.broadcast(evidence_json)
    opts = dict(psl=psl, psl_icann_only=psl_icann_only, companies=companies)

    # 2. Counts per partition, as rows summed by Spark; the driver gets the shared ones only
    # (numIP per address, numCert per certificate domain, numMX of the names used by two
    # domains or more: a name used once is counted by the task that labels its domain).
    def count(batches):
        for b in batches:
            yield _mxinfer.count_rows(b, bev.value, **opts)

    sums = (
        dns.mapInArrow(count, COUNT_ROWS_SCHEMA)
        .groupBy("kind", "key")
        .agg(F.sum("n").alias("n"))
        .filter((F.col("kind") != "mx") | (F.col("n") >= 2))
        .collect()
    )
    merged = _mxinfer.counts_from_rows([(r.kind, r.key, r.n) for r in sums if r.kind != "bad"])
    bad_dns = [r for r in sums if r.kind == "bad"]
    seconds["counts"] = time.monotonic() - t
    t = time.monotonic()
    bmerged = sc.broadcast(merged)
    target = _spark_arrow_schema(_empty_labels().schema)

    # 3. Labels per partition.
    def labels(batches):
        for b in batches:
            table = _mxinfer.label_batch(
                b,
                bev.value,
                bmerged.value,
                approach_name=approach,
                threshold=threshold,
                compact=compact,
                **opts,
            )
            for out in table.to_batches():
                yield out.cast(target)

    out = dns.mapInArrow(labels, _labels_schema())
    problems = [r.problem for r in bad_probes] + [r.key for r in bad_dns]
    seconds["plan"] = time.monotonic() - t
    return Outcome(
        labels=out,
        bad_rows=len(bad_probes) + sum(r.n for r in bad_dns),
        problems=problems,
        seconds=seconds,
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mxinfer.spark")
    sub = ap.add_subparsers(dest="command", required=True)
    lp = sub.add_parser("label", help="label resolve records from probe records")
    lp.add_argument("--dns", nargs="+", required=True, help="resolve records: JSON Lines or export Parquet")
    lp.add_argument("--probes", nargs="+", required=True, help="probe records: JSON Lines or export Parquet")
    lp.add_argument("--pfx2as", help="prefix-to-AS data (default: the embedded ranges)")
    lp.add_argument("--approach", default="priority", choices=["priority", "mx-only", "certificate", "banner"])
    lp.add_argument("--threshold", type=int, default=5)
    lp.add_argument("--psl", help="Public Suffix List file (default: the embedded copy)")
    lp.add_argument("--psl-icann-only", action="store_true")
    lp.add_argument("--companies", help="companies table (default: the embedded one)")
    lp.add_argument("--compact", action="store_true")
    lp.add_argument("--out", required=True, help="output directory")
    lp.add_argument("--format", default="parquet", choices=["parquet", "jsonl"])
    lp.add_argument("--master", default="local[*]")
    lp.add_argument(
        "--dns-format",
        default="mxinfer",
        choices=["mxinfer", "openintel"],
        help="mxinfer: resolve records (JSON Lines or export Parquet); openintel: OpenINTEL forward-DNS Parquet",
    )
    lp.add_argument(
        "--probes-format",
        default="mxinfer",
        choices=["mxinfer", "zgrab2"],
        help="mxinfer: probe records (JSON Lines or export Parquet); zgrab2: zgrab2 smtp JSON Lines",
    )
    lp.add_argument("--port", type=int, default=25, help="zgrab2: the port of records that do not say")
    lp.add_argument("--at", help="zgrab2: the snapshot's time (RFC 3339 or YYYY-MM-DD)")
    a = ap.parse_args(argv)

    import os

    from pyspark.sql import SparkSession

    # Local workers run this interpreter (the one that has mxinfer), unless told otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    t0 = time.monotonic()
    builder = SparkSession.builder.master(a.master).appName("mxinfer label")
    if a.master.startswith("local"):
        # A local Spark talks to itself only: on loopback, whatever the host name resolves to.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    spark = builder.getOrCreate()
    started = time.monotonic() - t0
    reads: List[Read] = []
    try:
        t = time.monotonic()
        if a.dns_format == "openintel":
            reads.append(read_openintel(spark, a.dns))
            print(f"mxinfer.spark: {reads[-1].summary('OpenINTEL')}", file=sys.stderr)
            dns = reads[-1].df
        else:
            dns = _read(spark, a.dns)
        if a.probes_format == "zgrab2":
            reads.append(read_zgrab2(spark, a.probes, port=a.port, at=a.at))
            print(f"mxinfer.spark: {reads[-1].summary('zgrab2')}", file=sys.stderr)
            probes = reads[-1].df
        else:
            probes = _read(spark, a.probes)
        read_seconds = time.monotonic() - t
        o = label(
            spark,
            dns,
            probes,
            pfx2as=a.pfx2as,
            approach=a.approach,
            threshold=a.threshold,
            psl=a.psl,
            psl_icann_only=a.psl_icann_only,
            companies=a.companies,
            compact=a.compact,
        )
        if reads:
            o.seconds = {"read": read_seconds, **o.seconds}
            o.problems = [p for r in reads for p in r.problems] + o.problems
            o.bad_rows += sum(r.malformed for r in reads)
        t = time.monotonic()
        if a.format == "jsonl":
            o.labels.select("record").write.mode("overwrite").text(a.out)
        else:
            o.labels.write.mode("overwrite").parquet(a.out)
        o.seconds["labels"] = time.monotonic() - t
    finally:
        spark.stop()
    for p in o.problems[:100]:
        print(f"mxinfer.spark: {p}", file=sys.stderr)
    if o.bad_rows > 100:
        print(f"mxinfer.spark: ... and {o.bad_rows - 100} more", file=sys.stderr)
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in o.seconds.items())
    print(f"mxinfer.spark: Spark start {started:.1f} s, {timing}; {o.bad_rows} rows not records", file=sys.stderr)
    return 3 if o.bad_rows else 0


if __name__ == "__main__":
    sys.exit(main())
