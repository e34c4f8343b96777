//! `mxinfer export`: stage records (JSON Lines) as tables for pandas, DuckDB, Polars or
//! Spark: CSV always, Parquet with the `parquet` feature; Hive-style partitions by snapshot
//! (`DIR/snapshot=YYYY-MM-DD/part-0.parquet`), so a directory of snapshots reads as one
//! table with a `snapshot` column.
//!
//! Tables (columns documented in docs/ingest.md, "Tables"):
//! - `labels`: one row per domain (`DomainLabel`), the chosen approach's providers as a list
//!   of structs plus the top provider in flat columns;
//! - `dns`: one row per domain (`DomainDns`), exchangers as a list of structs;
//! - `probes`: one row per address (`HostProbe`), the leaf certificate's names flat.

use crate::error::{FileContext, FileError};
use mxinfer_record::{DomainDns, DomainLabel, HostProbe};

use std::path::{Path, PathBuf};

/// Rows per written batch (Parquet row group granularity).
pub const BATCH_ROWS: usize = 65_536;

pub use mxinfer_tables::rows::*;

/// Writes rows as CSV with a header.
pub fn write_csv<R: CsvRow>(path: &Path, rows: &[R]) -> Result<(), FileError> {
    use std::io::Write;
    let f = std::fs::File::create(path).file("creating", path)?;
    let mut w = std::io::BufWriter::new(f);
    writeln!(w, "{}", R::HEADER).file("writing", path)?;
    for r in rows {
        let line: Vec<String> = r.fields().iter().map(|f| csv_field(f)).collect();
        writeln!(w, "{}", line.join(",")).file("writing", path)?;
    }
    w.flush().file("writing", path)?;
    Ok(())
}

/// An export that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Jsonl(#[from] crate::jsonl::JsonlError),
    /// A snapshot date that is not `YYYY-MM-DD`.
    #[error("snapshot date {0:?}: expected YYYY-MM-DD")]
    Date(String),
    /// No snapshot date given, and the records carry none (labels never do).
    #[error("no snapshot date: the records carry no time; give the snapshot's date")]
    NoSnapshot,
    /// A label record without the result of its own chosen approach.
    #[error(transparent)]
    Approach(mxinfer_record::MissingApproach),
    /// Parquet asked of a build without the `parquet` feature.
    #[error(
        "Parquet output needs the `parquet` feature (cargo build --release --features parquet); \
         CSV works without it"
    )]
    NoParquet,
    #[cfg(feature = "parquet")]
    #[error("building an Arrow record batch")]
    Arrow(#[source] arrow_schema::ArrowError),
    #[cfg(feature = "parquet")]
    #[error("writing {}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
}

#[cfg(feature = "parquet")]
pub mod parquet_out;

#[cfg(feature = "parquet")]
pub mod parquet_in;

/// The Arrow and Parquet crates this module writes with (feature `parquet`), for readers of
/// its files that want the same versions (the tests read the Parquet back with them).
#[cfg(feature = "parquet")]
pub use {arrow_array, parquet};

/// Which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Labels,
    Dns,
    Probes,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Apache Parquet (needs the `parquet` feature).
    Parquet,
    Csv,
}

/// What to export: one stage output file into a snapshot partition.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    /// Which stage's records the file holds.
    pub table: Table,
    /// The stage's JSON Lines output.
    pub file: PathBuf,
    /// Root of the partitioned dataset; the file goes to `DIR/snapshot=DATE/part-0.EXT`.
    pub out_dir: PathBuf,
    pub format: TableFormat,
    /// The snapshot's date (YYYY-MM-DD, checked by [`check_date`]). Default for dns and
    /// probes: the date of the earliest `resolved_at` / `started_at`; labels carry no time,
    /// so they need it.
    pub snapshot: Option<String>,
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct ExportOutcome {
    /// Lines of the input that were not records of the table (skipped).
    pub bad: u64,
    /// Rows written.
    pub rows: usize,
    /// The file written.
    pub path: PathBuf,
}

/// Checks a snapshot date (YYYY-MM-DD).
pub fn check_date(s: &str) -> Result<String, ExportError> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map(|_| s.to_string())
        .map_err(|_| ExportError::Date(s.to_string()))
}

fn earliest_date<'a>(times: impl Iterator<Item = &'a str>) -> Option<String> {
    times
        .filter_map(crate::ingest::parse_time)
        .min()
        .map(|t| t.date().to_string())
}

/// The partition directory and file of a snapshot.
pub fn partition_path(root: &Path, snapshot: &str, ext: &str) -> PathBuf {
    root.join(format!("snapshot={snapshot}"))
        .join(format!("part-0.{ext}"))
}

/// Exports one stage output file into its snapshot partition.
pub fn export(a: &ExportSettings) -> Result<ExportOutcome, ExportError> {
    use crate::jsonl::read as read_records;
    let given = a.snapshot.as_deref().map(check_date).transpose()?;
    let ext = match a.format {
        TableFormat::Parquet => "parquet",
        TableFormat::Csv => "csv",
    };
    #[cfg(not(feature = "parquet"))]
    if a.format == TableFormat::Parquet {
        return Err(ExportError::NoParquet);
    }
    let need = |d: Option<String>| -> Result<String, ExportError> {
        given.clone().or(d).ok_or(ExportError::NoSnapshot)
    };
    let (bad, n, path) = match a.table {
        Table::Labels => {
            let mut rows = Vec::new();
            let mut missing = None;
            let bad = read_records::<DomainLabel>(&a.file, |l| match LabelRow::from_label(&l) {
                Ok(r) => rows.push(r),
                Err(e) => {
                    missing.get_or_insert(e);
                }
            })?;
            if let Some(e) = missing {
                return Err(ExportError::Approach(e));
            }
            let snap = need(None)?;
            let path = partition_path(&a.out_dir, &snap, ext);
            write_rows(&path, &rows, a.format)?;
            (bad, rows.len(), path)
        }
        Table::Dns => {
            let mut rows = Vec::new();
            let bad = read_records::<DomainDns>(&a.file, |d| rows.push(DnsRow::from_dns(&d)))?;
            let snap = need(earliest_date(rows.iter().map(|r| r.resolved_at.as_str())))?;
            let path = partition_path(&a.out_dir, &snap, ext);
            write_rows(&path, &rows, a.format)?;
            (bad, rows.len(), path)
        }
        Table::Probes => {
            let mut rows = Vec::new();
            let bad = read_records::<HostProbe>(&a.file, |p| rows.push(ProbeRow::from_probe(&p)))?;
            let snap = need(earliest_date(rows.iter().map(|r| r.started_at.as_str())))?;
            let path = partition_path(&a.out_dir, &snap, ext);
            write_rows(&path, &rows, a.format)?;
            (bad, rows.len(), path)
        }
    };
    Ok(ExportOutcome { bad, rows: n, path })
}

/// Rows that can be written as a table.
fn write_rows<R: TableRow>(
    path: &Path,
    rows: &[R],
    format: TableFormat,
) -> Result<(), ExportError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).file("creating", dir)?;
    }
    match format {
        TableFormat::Csv => Ok(write_csv(path, rows)?),
        #[cfg(feature = "parquet")]
        TableFormat::Parquet => parquet_out::write_parquet(path, rows),
        #[cfg(not(feature = "parquet"))]
        TableFormat::Parquet => unreachable!("refused in `command`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\"\n"), "\"say \"\"hi\"\"\n\"");
    }

    #[test]
    fn partitions_are_hive_style() {
        assert_eq!(
            partition_path(Path::new("/d"), "2021-06-01", "parquet"),
            Path::new("/d/snapshot=2021-06-01/part-0.parquet")
        );
        assert!(check_date("2021-13-01").is_err());
        assert_eq!(
            earliest_date(["2021-06-02T01:00:00Z", "2021-06-01T23:59:59.5Z"].into_iter()),
            Some("2021-06-01".to_string())
        );
    }
}
