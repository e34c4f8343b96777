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
