"""The labelling phases over Arrow record batches, for a distributed runner of your own
(`mxinfer.spark` is one). Each takes a batch of the export schema (`mxinfer export dns` /
`probes`) or JSON Lines in a string column `value`; the plain data between the phases is
JSON: the evidence of one address (`AddressEvidence`) and the batch counts (`BatchCounts`).
The recipe, with why any split and order gives the labels of one machine, is in
`crates/mxinfer-label/src/lib.rs`:

1. ``evidence_batch(probes, pfx2as)``: a batch with per record ``ip``, the content key
   (``live``, ``started_at``, ``digest_key``: of two records of an address the greater
   ``(live, started_at, digest_key)`` is kept) and ``evidence`` (JSON), or ``problem``;
2. ``count_batch(dns, evidence)``: ``(counts_json, bad_rows, first_problems)`` of a part of
   the resolve records, with ``evidence`` the kept JSON of every address;
   ``merge_counts([counts_json, ...])``: the whole batch's counts; or, for a runner that
   aggregates itself, ``count_rows(dns, evidence)`` (rows ``kind, key, n`` to sum by kind and
   key) and ``counts_from_rows([(kind, key, n), ...])`` (``mx`` rows summing to 1 may be
   left out);
3. ``label_batch(dns, evidence, merged_counts, approach_name=..., ...)``: the labels of the
   part, a pyarrow Table (the `export labels` columns and ``record``).
"""

from ._mxinfer import (
    count_batch,
    count_rows,
    counts_from_rows,
    evidence_batch,
    label_batch,
    merge_counts,
)

__all__ = [
    "evidence_batch",
    "count_batch",
    "merge_counts",
    "count_rows",
    "counts_from_rows",
    "label_batch",
]
