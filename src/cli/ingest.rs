//! `mxinfer ingest` arguments.

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct IngestArgs {
    #[command(subcommand)]
    pub what: IngestWhat,
}

#[derive(Debug, Subcommand, Clone)]
pub enum IngestWhat {
    /// DNS datasets (zdns MXLOOKUP, OpenINTEL) -> resolve records (`label --dns`).
    Dns(IngestDnsArgs),
    /// Scan datasets (zgrab2 smtp, Censys) -> probe records (`label --probes`).
    Probes(IngestProbeArgs),
    /// CAIDA AS-to-organisation -> one JSON line per AS; optional audit of the companies table.
    As2org(IngestAsOrgArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DnsFormat {
    /// `.parquet` -> openintel-parquet, `.avro` -> openintel-avro, otherwise zdns.
    Auto,
    /// zdns MXLOOKUP JSON Lines (v1 or v2 shape; gzip accepted).
    Zdns,
    /// OpenINTEL forward DNS, Parquet (feature `parquet`).
    OpenintelParquet,
    /// OpenINTEL forward DNS, Avro (feature `avro`).
    OpenintelAvro,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProbeFormat {
    /// From the first record: `data.smtp` -> zgrab2, `services` or `p25` -> censys.
    Auto,
    /// zgrab2 smtp module JSON Lines (gzip accepted).
    Zgrab2,
    /// Censys host export JSON Lines, legacy `p25.smtp.starttls` or current `services[]`.
    Censys,
}

#[derive(Debug, Args, Clone)]
pub struct IngestDnsArgs {
    /// Input files (read in order; a domain seen in an earlier file wins).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: DnsFormat,
    /// zdns ALOOKUP output (`--ipv4-lookup --ipv6-lookup`) of domains' own names, so
    /// implicit MX applies to zdns domains without MX (repeatable).
    #[arg(long, value_name = "FILE")]
    pub apex: Vec<PathBuf>,
    /// Output (resolve records, JSON Lines); `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
    /// Run-metadata file (default: OUT with `.meta.json`; none when OUT is standard output).
    #[arg(long)]
    pub meta: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct IngestProbeArgs {
    /// Input files (read in order; an address seen in an earlier file wins).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: ProbeFormat,
    /// Output (probe records, JSON Lines); `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
    /// Run-metadata file (default: OUT with `.meta.json`; none when OUT is standard output).
    #[arg(long)]
    pub meta: Option<PathBuf>,
    /// The snapshot's time (RFC 3339 or YYYY-MM-DD): certificate validity is judged then
    /// (default: each record's own timestamp).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Trusted roots (PEM) for chains judged here (default: the shipped Mozilla set); give
    /// the root set of the snapshot's time for old data.
    #[arg(long, value_name = "PEM")]
    pub roots: Option<PathBuf>,
    /// Intermediate certificates (PEM) usable to complete chains.
    #[arg(long, value_name = "PEM")]
    pub intermediates: Option<PathBuf>,
    /// Judge every chain from its raw certificates, ignoring the dataset's verdict.
    #[arg(long)]
    pub recompute_trust: bool,
    /// Port written into the records when the dataset does not say.
    #[arg(long, default_value_t = 25)]
    pub port: u16,
}

#[derive(Debug, Args, Clone)]
pub struct IngestAsOrgArgs {
    /// The AS-to-organisation file (text or JSON Lines layout; gzip accepted).
    pub file: PathBuf,
    /// Output (one JSON line per AS); `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
    /// Write the audit of the companies table against it here (JSON).
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Companies table to audit (default: the embedded one).
    #[arg(long, value_name = "FILE")]
    pub companies: Option<PathBuf>,
}
