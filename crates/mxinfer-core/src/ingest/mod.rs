//! Ingest: existing datasets converted into mxinfer's own stage records, so `mxinfer label`
//! runs on them unchanged (the "offline" arrows of the pipeline picture).
//!
//! - DNS ([`zdns`], [`openintel`]) -> [`DomainDns`] JSON Lines (the resolve stage's record);
//! - scan evidence ([`zgrab2`], [`censys`]) -> [`HostProbe`] JSON Lines (the probe stage's);
//! - routing: CAIDA RouteViews pfx2as is read by `label --pfx2as` as it is; CAIDA
//!   AS-to-organisation ([`caida`]) is normalised to JSON Lines and joined with the companies
//!   table to audit each company's AS list.
//!
//! Every reader goes on after a malformed row: the row is reported as `FILE:LINE: REASON`
//! (row index for Parquet and Avro), counted, and gets no record. Every accepted domain (or
//! address) appears exactly once in the output: a later row for the same name is merged
//! (OpenINTEL: one row per DNS record) or dropped and counted as a duplicate (zdns, zgrab2,
//! Censys: one object per name or host).
//!
//! Field names and their sources: docs/ingest.md and ../shared/FORMATS.md.

pub mod caida;
pub mod censys;
pub mod openintel;
pub mod zdns;
pub mod zgrab2;

pub use mxinfer_ingest::{
    DomainFacts, IngestStats, MAX_PROBLEMS_KEPT, NameAddrs, build_dns, epoch_ms_rfc3339, norm_name,
    parse_time, path, path_str, rfc3339, smtp_reply, trust,
};

/// `stage` of the run metadata of `mxinfer ingest dns`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IngestDnsStage {
    /// The format of each input file, in order.
    pub formats: Vec<String>,
    pub ingest: IngestStats,
}

/// `stage` of the run metadata of `mxinfer ingest probes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IngestProbesStage {
    /// The time certificate validity was judged at (none: each record's own time).
    pub at: Option<String>,
    /// The format of each input file, in order.
    pub formats: Vec<String>,
    pub ingest: IngestStats,
    pub recompute_trust: bool,
    /// `mozilla`, or the roots file.
    pub roots: String,
}

/// A dataset that could not be read, or records that could not be written. Malformed rows
/// are not errors: they are counted and reported in [`IngestStats`].
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Jsonl(#[from] crate::jsonl::JsonlError),
    #[error(transparent)]
    File(#[from] crate::FileError),
    /// Writing the records (the caller's output) failed.
    #[error("writing output")]
    Output(#[source] std::io::Error),
    #[cfg(feature = "parquet")]
    #[error("{}: not a Parquet file", path.display())]
    NotParquet {
        path: std::path::PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[cfg(feature = "parquet")]
    #[error("reading {}", path.display())]
    Arrow {
        path: std::path::PathBuf,
        #[source]
        source: arrow_schema::ArrowError,
    },
    #[cfg(feature = "avro")]
    #[error("{}: not an Avro container file", path.display())]
    NotAvro {
        path: std::path::PathBuf,
        #[source]
        source: Box<apache_avro::Error>,
    },
}

/// Calls `f` with every JSON object of a JSON Lines file (gzip accepted) and its line
/// number; a line that is not a JSON object is a malformed row.
pub fn json_lines(
    path: &std::path::Path,
    stats: &mut IngestStats,
    mut f: impl FnMut(u64, serde_json::Value, &mut IngestStats),
) -> Result<(), IngestError> {
    let name = path.display().to_string();
    let mut counts = mxinfer_record::InputCounts::default();
    crate::jsonl::for_each_line(path, &mut counts, |n, line| {
        stats.rows += 1;
        match serde_json::from_slice::<serde_json::Value>(line) {
            Ok(v @ serde_json::Value::Object(_)) => f(n, v, stats),
            Ok(_) => stats.malformed(&name, n, "not a JSON object"),
            Err(e) => stats.malformed(&name, n, format_args!("not JSON: {e}")),
        }
    })?;
    Ok(())
}
