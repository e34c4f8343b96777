//! `mxinfer export` and `mxinfer diff` arguments.

use super::{ApproachArg, GroupByArg};
use std::path::PathBuf;

/// Which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableArg {
    Labels,
    Dns,
    Probes,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormatArg {
    /// Apache Parquet (needs the `parquet` feature).
    Parquet,
    Csv,
}

/// `mxinfer export` arguments.
#[derive(Debug, clap::Args, Clone)]
pub struct ExportArgs {
    /// Which stage's records the file holds.
    #[arg(value_enum)]
    pub table: TableArg,
    /// The stage's JSON Lines output.
    pub file: PathBuf,
    /// Root of the partitioned dataset; the file goes to `DIR/snapshot=DATE/part-0.EXT`.
    #[arg(long)]
    pub out_dir: PathBuf,
    #[arg(long = "to", value_enum, default_value = "parquet")]
    pub format: TableFormatArg,
    /// The snapshot's date (YYYY-MM-DD). Default for dns and probes: the date of the earliest
    /// `resolved_at` / `started_at`; labels carry no time, so they need it.
    #[arg(long, value_name = "DATE")]
    pub snapshot: Option<String>,
}

/// Output formats of `mxinfer diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Md,
    Json,
}

/// `mxinfer diff` arguments.
#[derive(Debug, clap::Args, Clone)]
pub struct DiffArgs {
    /// The earlier snapshot's labels (`mxinfer label` output, JSON Lines).
    pub old: std::path::PathBuf,
    /// The later snapshot's labels.
    pub new: std::path::PathBuf,
    /// Keys: company (the ID itself when it has none) or provider ID.
    #[arg(long, value_enum, default_value = "company")]
    pub by: GroupByArg,
    /// Compare this approach's results (default: the one each record was labelled with).
    #[arg(long, value_enum)]
    pub approach: Option<ApproachArg>,
    /// Credit domains without SMTP evidence from their MX names (default: a status key).
    #[arg(long)]
    pub credit_no_smtp: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Keys shown in the matrix (the rest summed into `other`); 0 shows all.
    #[arg(long, default_value_t = 12)]
    pub top: usize,
    /// Migrations listed at most in text and Markdown (JSON lists all).
    #[arg(long, default_value_t = 100)]
    pub max_list: usize,
    /// Output file; `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
}
