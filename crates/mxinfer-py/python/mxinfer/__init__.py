"""mxinfer: who runs this domain's mail?

The labeller of the `mxinfer` command-line tool (the method of the IMC 2021 paper "Who's Got
Your Mail?"), for data that lives in Python: pyarrow tables (and so pandas, Polars, DuckDB),
Parquet files written by `mxinfer export`, and mxinfer's own JSON Lines files. The labels are
those `mxinfer label` gives, record for record.

    >>> import mxinfer
    >>> labels = mxinfer.label("dns.jsonl", "probes.jsonl")          # or pyarrow tables
    >>> labels.column("top_company")

The phases over record batches, for distributed runners, are in :mod:`mxinfer.phases`; the
Spark job is :mod:`mxinfer.spark` (``python -m mxinfer.spark label ...``).

Attributes: ``__version__`` (the package's, the same as the command-line tool it comes
with), ``psl_version`` (the date of the embedded Public Suffix List) and ``company_count``
(companies in the embedded table).
"""

from __future__ import annotations

import os
import warnings
from typing import Iterable, List, Optional, Tuple, Union

from . import _mxinfer

__version__: str = _mxinfer.__version__
psl_version, company_count = _mxinfer.data_versions()

__all__ = ["label", "BadRowsWarning", "__version__", "psl_version", "company_count"]

PathLike = Union[str, "os.PathLike[str]"]


class BadRowsWarning(UserWarning):
    """Some input rows or lines were not records: they were counted and left out."""


def _is_parquet(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PAR1"


def _files(paths: Iterable[PathLike]) -> List[str]:
    """Files as given; a directory as its files (not hidden ones, not `*.meta.json`), by name."""
    out: List[str] = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            names = sorted(
                n
                for n in os.listdir(p)
                if not n.startswith(".")
                and not n.endswith(".meta.json")
                and os.path.isfile(os.path.join(p, n))
            )
            if not names:
                raise ValueError(f"{p}: no input file in the directory")
            out.extend(os.path.join(p, n) for n in names)
        else:
            out.append(p)
    return out


def _source(x, what: str) -> Tuple[Optional[object], List[str]]:
    """(a pyarrow table, []) or (None, JSON Lines paths)."""
    import pyarrow as pa

    if isinstance(x, pa.RecordBatch):
        x = pa.Table.from_batches([x])
    if isinstance(x, pa.Table):
        return x, []
    if isinstance(x, (str, os.PathLike)):
        x = [x]
    paths = _files(x)
    if not paths:
        raise ValueError(f"{what}: no input")
    parquet = [p for p in paths if _is_parquet(p)]
    if not parquet:
        return None, paths
    if len(parquet) != len(paths):
        raise ValueError(
            f"{what}: Parquet and JSON Lines files mixed; give one kind "
            "(or read the Parquet files into a table first)"
        )
    import pyarrow.parquet as pq

    tables = [pq.read_table(p) for p in paths]
    return pa.concat_tables(tables), []


def label(
    dns,
    probes,
    *,
    pfx2as: Optional[PathLike] = None,
    approach: str = "priority",
    threshold: int = 5,
    companies: Optional[PathLike] = None,
    psl: Optional[PathLike] = None,
    psl_icann_only: bool = False,
    compact: bool = False,
    strict: bool = False,
):
    """Labels every domain of ``dns`` with its mail provider from the evidence of ``probes``.

    ``dns`` and ``probes`` are each a pyarrow ``Table`` (or ``RecordBatch``) with the columns of
    ``mxinfer export dns`` / ``mxinfer export probes``, or the path (or a list of paths, or a
    directory) of such Parquet files, or of mxinfer's JSON Lines (plain or gzip). The other
    arguments are those of ``mxinfer label``: ``pfx2as`` (CAIDA pfx2as, pyasn or range CSV;
    default the embedded ranges), ``approach`` (``priority``, ``mx-only``, ``certificate``,
    ``banner``), ``threshold``, ``companies`` (a companies TOML), ``psl`` (a Public Suffix List
    file), ``psl_icann_only``, ``compact``.

    Returns a pyarrow ``Table``: one row per domain, in input order, with the columns of
    ``mxinfer export labels`` and ``record``, the label record as JSON (byte for byte what
    ``mxinfer label`` writes for the same input). Input rows that are not records are left
    out, counted in the schema metadata (``mxinfer.bad_rows``) and reported with a
    :class:`BadRowsWarning` naming the first of them; with ``strict=True`` they raise
    ``ValueError`` instead.
    """
    dns_table, dns_paths = _source(dns, "dns")
    probes_table, probe_paths = _source(probes, "probes")
    opt = lambda p: None if p is None else os.fspath(p)  # noqa: E731
    table, bad, problems = _mxinfer.label(
        dns_table,
        dns_paths,
        probes_table,
        probe_paths,
        pfx2as=opt(pfx2as),
        approach_name=approach,
        threshold=threshold,
        companies=opt(companies),
        psl=opt(psl),
        psl_icann_only=psl_icann_only,
        compact=compact,
    )
    if bad:
        shown = "; ".join(problems[:3])
        msg = f"{bad} input rows or lines are not records and were left out (first: {shown})"
        if strict:
            raise ValueError(msg)
        warnings.warn(msg, BadRowsWarning, stacklevel=2)
    meta = {
        b"mxinfer.version": __version__.encode(),
        b"mxinfer.bad_rows": str(bad).encode(),
        b"mxinfer.approach": approach.encode(),
    }
    if problems:
        meta[b"mxinfer.bad_rows_first"] = "\n".join(problems).encode()
    return table.replace_schema_metadata(meta)
