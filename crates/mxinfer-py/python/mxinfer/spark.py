"""The labeller as an Apache Spark job: the phases of `crates/mxinfer-label` over DataFrames.

    python -m mxinfer.spark label --dns PATH... --probes PATH... [--pfx2as FILE]
        [--approach A] --out DIR [--format parquet|jsonl] [--master URL]

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
`mxinfer export`. Rows that are not records are counted and reported (the job prints them,
`label()` returns them), never dropped silently.
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
    try:
        o = label(
            spark,
            _read(spark, a.dns),
            _read(spark, a.probes),
            pfx2as=a.pfx2as,
            approach=a.approach,
            threshold=a.threshold,
            psl=a.psl,
            psl_icann_only=a.psl_icann_only,
            companies=a.companies,
            compact=a.compact,
        )
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
