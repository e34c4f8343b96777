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

/// One provider of a label row.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderCell {
    pub id: String,
    pub company: Option<String>,
    pub weight: f64,
    pub credit: String,
    pub self_hosted: bool,
}

/// One row of the `labels` table.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRow {
    pub domain: String,
    pub rank: Option<u64>,
    pub input_line: u64,
    pub status: String,
    pub approach: String,
    pub dns_status: String,
    pub registered_domain: Option<String>,
    pub primary_preference: Option<i32>,
    pub exchangers: Vec<String>,
    pub sources: Vec<String>,
    pub self_hosted: bool,
    pub flagged: bool,
    pub top_provider: Option<String>,
    pub top_company: Option<String>,
    pub top_credit: Option<String>,
    pub top_weight: Option<f64>,
    pub providers: Vec<ProviderCell>,
}

fn kebab<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|x| x.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl LabelRow {
    /// The row of a label record: its chosen approach's result (a record without it is
    /// [`mxinfer_record::MissingApproach`]).
    pub fn from_label(l: &DomainLabel) -> Result<LabelRow, mxinfer_record::MissingApproach> {
        let res = l.result(l.approach)?;
        let top = l
            .providers
            .iter()
            .max_by(|a, b| a.weight.total_cmp(&b.weight).then_with(|| b.id.cmp(&a.id)));
        let mut sources: Vec<String> = res
            .exchangers
            .iter()
            .filter_map(|e| e.source.map(|s| s.as_str().to_string()))
            .collect();
        sources.sort();
        sources.dedup();
        Ok(LabelRow {
            domain: l.domain.clone(),
            rank: l.input.rank,
            input_line: l.input.line,
            status: l.status.as_str().to_string(),
            approach: l.approach.as_str().to_string(),
            dns_status: l.dns_status.as_str().to_string(),
            registered_domain: l.registered_domain.clone(),
            primary_preference: l.primary_preference.map(i32::from),
            exchangers: l.exchangers.iter().map(|e| e.name.clone()).collect(),
            sources,
            self_hosted: l.self_hosted,
            flagged: res.exchangers.iter().any(|e| !e.flags.is_empty()),
            top_provider: top.map(|p| p.id.clone()),
            top_company: top.and_then(|p| p.company.clone()),
            top_credit: top.map(|p| p.credit.clone()),
            top_weight: top.map(|p| p.weight),
            providers: l
                .providers
                .iter()
                .map(|p| ProviderCell {
                    id: p.id.clone(),
                    company: p.company.clone(),
                    weight: p.weight,
                    credit: p.credit.clone(),
                    self_hosted: p.self_hosted,
                })
                .collect(),
        })
    }
}

/// One exchanger of a dns row.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangerCell {
    pub name: String,
    pub preference: i32,
    pub addresses: Vec<String>,
}

/// One row of the `dns` table.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsRow {
    pub domain: String,
    pub rank: Option<u64>,
    pub input_line: u64,
    pub status: String,
    pub flags: Vec<String>,
    pub config_class: String,
    pub mx_count: i32,
    pub exchangers: Vec<ExchangerCell>,
    pub resolved_at: String,
    pub error: Option<String>,
}

impl DnsRow {
    pub fn from_dns(d: &DomainDns) -> DnsRow {
        DnsRow {
            domain: d.domain.clone(),
            rank: d.input.rank,
            input_line: d.input.line,
            status: d.status.as_str().to_string(),
            flags: d.flags.iter().map(kebab).collect(),
            config_class: kebab(&d.config_class),
            mx_count: d.mx.len() as i32,
            exchangers: d
                .exchangers
                .iter()
                .map(|e| ExchangerCell {
                    name: e.name.clone(),
                    preference: i32::from(e.preference),
                    addresses: e.addresses.iter().map(|a| a.ip.to_string()).collect(),
                })
                .collect(),
            resolved_at: d.resolved_at.clone(),
            error: d.error.clone(),
        }
    }
}

/// One row of the `probes` table.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRow {
    pub ip: String,
    pub port: i32,
    pub names: Vec<String>,
    pub status: String,
    pub banner: Option<String>,
    pub ehlo: Option<String>,
    pub starttls: bool,
    pub tls_version: Option<String>,
    pub cert_subject_cn: Option<String>,
    pub cert_san_dns: Vec<String>,
    pub cert_sha256: Option<String>,
    pub chain_trusted: Option<bool>,
    pub chain_reason: Option<String>,
    pub started_at: String,
}

impl ProbeRow {
    pub fn from_probe(p: &HostProbe) -> ProbeRow {
        let leaf = p.tls.as_ref().and_then(|t| t.chain.first());
        let verdict = p.tls.as_ref().and_then(|t| t.verdict.as_ref());
        ProbeRow {
            ip: p.ip.to_string(),
            port: i32::from(p.port),
            names: p.names.clone(),
            status: kebab(&p.status),
            banner: p.banner.as_ref().map(|r| r.lines.join("\n")),
            ehlo: p.ehlo.as_ref().map(|r| r.lines.join("\n")),
            starttls: p.tls.is_some(),
            tls_version: p.tls.as_ref().and_then(|t| t.version.clone()),
            cert_subject_cn: leaf.and_then(|c| c.subject_cn.clone()),
            cert_san_dns: leaf.map(|c| c.san_dns.clone()).unwrap_or_default(),
            cert_sha256: leaf.map(|c| c.sha256.clone()).filter(|s| !s.is_empty()),
            chain_trusted: verdict.map(|v| v.trusted),
            chain_reason: verdict.and_then(|v| v.reason.as_ref().map(kebab)),
            started_at: p.started_at.clone(),
        }
    }
}

/// A CSV field: quoted when it holds a comma, quote, CR or LF (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// CSV header and rows. Lists are joined with `;`; providers as `id=weight` items.
pub trait CsvRow {
    const HEADER: &'static str;
    fn fields(&self) -> Vec<String>;
}

impl CsvRow for LabelRow {
    const HEADER: &'static str = "domain,rank,input_line,status,approach,dns_status,registered_domain,primary_preference,exchangers,sources,self_hosted,flagged,top_provider,top_company,top_credit,top_weight,providers";
    fn fields(&self) -> Vec<String> {
        vec![
            self.domain.clone(),
            opt(&self.rank),
            self.input_line.to_string(),
            self.status.clone(),
            self.approach.clone(),
            self.dns_status.clone(),
            opt(&self.registered_domain),
            opt(&self.primary_preference),
            self.exchangers.join(";"),
            self.sources.join(";"),
            self.self_hosted.to_string(),
            self.flagged.to_string(),
            opt(&self.top_provider),
            opt(&self.top_company),
            opt(&self.top_credit),
            opt(&self.top_weight),
            self.providers
                .iter()
                .map(|p| format!("{}={}", p.id, p.weight))
                .collect::<Vec<_>>()
                .join(";"),
        ]
    }
}

impl CsvRow for DnsRow {
    const HEADER: &'static str = "domain,rank,input_line,status,flags,config_class,mx_count,exchangers,addresses,resolved_at,error";
    fn fields(&self) -> Vec<String> {
        vec![
            self.domain.clone(),
            opt(&self.rank),
            self.input_line.to_string(),
            self.status.clone(),
            self.flags.join(";"),
            self.config_class.clone(),
            self.mx_count.to_string(),
            self.exchangers
                .iter()
                .map(|e| format!("{}={}", e.preference, e.name))
                .collect::<Vec<_>>()
                .join(";"),
            self.exchangers
                .iter()
                .flat_map(|e| e.addresses.iter().cloned())
                .collect::<Vec<_>>()
                .join(";"),
            self.resolved_at.clone(),
            opt(&self.error),
        ]
    }
}

impl CsvRow for ProbeRow {
    const HEADER: &'static str = "ip,port,names,status,banner,ehlo,starttls,tls_version,cert_subject_cn,cert_san_dns,cert_sha256,chain_trusted,chain_reason,started_at";
    fn fields(&self) -> Vec<String> {
        vec![
            self.ip.clone(),
            self.port.to_string(),
            self.names.join(";"),
            self.status.clone(),
            opt(&self.banner),
            opt(&self.ehlo),
            self.starttls.to_string(),
            opt(&self.tls_version),
            opt(&self.cert_subject_cn),
            self.cert_san_dns.join(";"),
            opt(&self.cert_sha256),
            opt(&self.chain_trusted),
            opt(&self.chain_reason),
            self.started_at.clone(),
        ]
    }
}

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
pub trait TableRow: CsvRow {
    #[cfg(feature = "parquet")]
    fn record_batch(rows: &[Self]) -> Result<arrow_array::RecordBatch, ExportError>
    where
        Self: Sized;
}

impl TableRow for LabelRow {
    #[cfg(feature = "parquet")]
    fn record_batch(rows: &[Self]) -> Result<arrow_array::RecordBatch, ExportError> {
        parquet_out::labels(rows)
    }
}

impl TableRow for DnsRow {
    #[cfg(feature = "parquet")]
    fn record_batch(rows: &[Self]) -> Result<arrow_array::RecordBatch, ExportError> {
        parquet_out::dns(rows)
    }
}

impl TableRow for ProbeRow {
    #[cfg(feature = "parquet")]
    fn record_batch(rows: &[Self]) -> Result<arrow_array::RecordBatch, ExportError> {
        parquet_out::probes(rows)
    }
}

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
