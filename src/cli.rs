//! Command-line definitions (clap) only; validation into configuration is in `config`.

use crate::progress::ProgressMode;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "mxinfer",
    version,
    about = "Who runs this domain's mail? MX resolution, SMTP probing and provider inference."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Progress on stderr: a bar on a terminal, periodic lines otherwise.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub progress: ProgressMode,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resolve each domain's MX set, exchanger addresses and more, as JSON Lines.
    Resolve(ResolveArgs),
    /// Label each domain with its mail provider from resolve and probe output (no network).
    Label(LabelArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ResolveArgs {
    /// Domain list: one domain per line, or CSV (Tranco `rank,domain`, or a header with a
    /// `domain` column); `-` for standard input.
    #[arg(default_value = "-")]
    pub file: String,
    /// Name server to ask, as IP or IP:PORT (repeatable; default: those of /etc/resolv.conf).
    #[arg(long = "nameserver", value_name = "IP[:PORT]")]
    pub nameservers: Vec<String>,
    /// Domains resolved at once.
    #[arg(long, default_value_t = crate::config::DEFAULT_RESOLVE_CONCURRENCY)]
    pub concurrency: usize,
    /// Seconds to wait for one answer.
    #[arg(long, default_value_t = crate::config::DEFAULT_DNS_TIMEOUT_S)]
    pub timeout: f64,
    /// Tries per query before it counts as failed in a pass.
    #[arg(long, default_value_t = crate::config::DEFAULT_DNS_ATTEMPTS)]
    pub attempts: usize,
    /// Also look up TXT and report SPF.
    #[arg(long)]
    pub txt: bool,
    /// Also look up the PTR of every exchanger address.
    #[arg(long)]
    pub ptr: bool,
    /// Output file (JSON Lines); `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
    /// Run-metadata file (default: OUT with `.meta.json`; none when OUT is standard output).
    #[arg(long)]
    pub meta: Option<PathBuf>,
    /// Shared exchanger lookups kept at most (oldest dropped first).
    #[arg(long, default_value_t = crate::config::DEFAULT_LOOKUP_CACHE)]
    pub cache_size: usize,
    /// Send queries without EDNS0 (512-byte UDP answers; more fall back to TCP).
    #[arg(long)]
    pub no_edns: bool,
}

/// The four approaches of METHOD.md 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApproachArg {
    /// Certificate, then banner/EHLO, then MX name.
    Priority,
    /// MX name only.
    MxOnly,
    /// Certificate, then MX name.
    Certificate,
    /// Banner/EHLO, then MX name.
    Banner,
}

#[derive(Debug, Args, Clone)]
pub struct LabelArgs {
    /// Resolve output (`mxinfer resolve`, JSON Lines).
    #[arg(long)]
    pub dns: PathBuf,
    /// Probe output (`mxinfer probe`, JSON Lines).
    #[arg(long)]
    pub probes: PathBuf,
    /// Prefix-to-AS data: CAIDA RouteViews pfx2as, pyasn IPASN, or range CSV
    /// `start,end,asn[,org]` (default: the embedded ranges of the companies' ASes).
    #[arg(long, value_name = "FILE")]
    pub pfx2as: Option<PathBuf>,
    /// Companies table (TOML, the layout of data/companies.toml; default: embedded).
    #[arg(long, value_name = "FILE")]
    pub companies: Option<PathBuf>,
    /// Which approach gives the domain's label (all four are always in the record).
    #[arg(long, value_enum, default_value = "priority")]
    pub approach: ApproachArg,
    /// Score below which the misidentification checks run.
    #[arg(long, default_value_t = crate::label::DEFAULT_THRESHOLD)]
    pub threshold: u64,
    /// Public Suffix List file (default: the embedded copy).
    #[arg(long, value_name = "FILE")]
    pub psl: Option<PathBuf>,
    /// Use only the ICANN section of the Public Suffix List.
    #[arg(long)]
    pub psl_icann_only: bool,
    /// Write the suspicious claims here (JSON Lines).
    #[arg(long, value_name = "FILE")]
    pub claims: Option<PathBuf>,
    /// Output file (JSON Lines); `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
    /// Run-metadata file (default: OUT with `.meta.json`; none when OUT is standard output).
    #[arg(long)]
    pub meta: Option<PathBuf>,
}
