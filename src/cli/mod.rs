//! Command-line definitions (clap) only: every flag of every subcommand. Validation into the
//! engine's settings is in `crate::settings`; the library crates never see these types.

mod ingest;
mod tables;

pub use ingest::*;
pub use tables::*;

use crate::progress::ProgressMode;
use crate::settings as config;
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
    /// Probe every exchanger address on port 25: banner, EHLO, STARTTLS, certificate chain.
    Probe(ProbeArgs),
    /// Resolve, probe and label in one streaming pipeline (probing starts while resolution
    /// goes on), then the report: every output in one directory.
    Run(RunArgs),
    /// Market-share tables from label output, weighted by the split (no network).
    Report(ReportArgs),
    /// Accuracy of the four approaches against ground truth (no network).
    Eval(EvalArgs),
    /// The simulated Internet (SMTP farm) used by tests and benchmarks.
    #[command(hide = true)]
    Sim(SimArgs),
    /// Generate a world, serve it on loopback, run resolve, probe and label against it, and
    /// print the share table and the accuracy against its ground truth.
    Demo(DemoArgs),
    /// Convert existing datasets (zdns, OpenINTEL, zgrab2, Censys, CAIDA) into stage records.
    Ingest(IngestArgs),
    /// Provider changes between two label snapshots: from-to matrix, appeared, migrations.
    Diff(DiffArgs),
    /// Stage records as tables (Parquet with the `parquet` feature, CSV) by snapshot.
    Export(ExportArgs),
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Domains of the generated world.
    #[arg(long, default_value_t = 2000)]
    pub domains: u64,
    /// Seed of the world (the same seed gives the same world).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory for the world, the stage outputs and the reports (kept); default: a
    /// temporary directory, removed at the end unless --keep.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep the temporary directory.
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Domain list (as `resolve` reads it); `-` for standard input.
    pub file: String,
    /// Output directory: dns.jsonl, probes.jsonl, labels.jsonl, claims.jsonl (each with its
    /// .meta.json), report.md/json/html, run.json (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Continue the run in --out after it was stopped or killed: domains already in
    /// dns.jsonl and addresses already in probes.jsonl are kept, not redone.
    #[arg(long)]
    pub resume: bool,
    /// Domains resolved at once.
    #[arg(long, default_value_t = config::DEFAULT_RESOLVE_CONCURRENCY)]
    pub resolve_concurrency: usize,
    /// Addresses probed at once.
    #[arg(long, default_value_t = config::DEFAULT_PROBE_CONCURRENCY)]
    pub probe_concurrency: usize,
    #[command(flatten)]
    pub resolve: ResolveOpts,
    #[command(flatten)]
    pub probe: ProbeOpts,
    #[command(flatten)]
    pub label: LabelOpts,
    /// Ground truth (JSON Lines of `record::Truth`): also write eval.md and eval.json.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Do shard I of N of a scan split across machines (I from 0 to N-1): resolve the
    /// domains whose name hashes to I, probe every address they lead to, and stop (label
    /// every shard's output together with `mxinfer label`).
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<mxinfer_record::Shard>,
}

#[derive(Debug, Args, Clone)]
pub struct ResolveArgs {
    /// Domain list: one domain per line, or CSV (Tranco `rank,domain`, or a header with a
    /// `domain` column); `-` for standard input.
    #[arg(default_value = "-")]
    pub file: String,
    /// Domains resolved at once.
    #[arg(long, default_value_t = config::DEFAULT_RESOLVE_CONCURRENCY)]
    pub concurrency: usize,
    /// Do shard I of N of a scan split across machines (I from 0 to N-1): only the domains
    /// whose name hashes to I. Every record and the metadata carry the shard.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<mxinfer_record::Shard>,
    #[command(flatten)]
    pub opts: ResolveOpts,
    /// Output file (JSON Lines); `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
    /// Run-metadata file (default: OUT with `.meta.json`; none when OUT is standard output).
    #[arg(long)]
    pub meta: Option<PathBuf>,
}

/// The resolve stage's settings (shared by `resolve` and `run`).
#[derive(Debug, Args, Clone)]
pub struct ResolveOpts {
    /// Name server to ask, as IP or IP:PORT (repeatable; default: those of /etc/resolv.conf).
    #[arg(long = "nameserver", value_name = "IP[:PORT]")]
    pub nameservers: Vec<String>,
    /// Seconds to wait for one answer.
    #[arg(long, default_value_t = config::DEFAULT_DNS_TIMEOUT_S)]
    pub timeout: f64,
    /// Retries per query after its first try (up to N + 1 sends) before it counts as failed
    /// in a pass.
    #[arg(long, default_value_t = config::DEFAULT_DNS_ATTEMPTS)]
    pub attempts: usize,
    /// Also look up TXT and report SPF.
    #[arg(long)]
    pub txt: bool,
    /// Also look up the PTR of every exchanger address.
    #[arg(long)]
    pub ptr: bool,
    /// Shared exchanger lookups kept at most (oldest dropped first).
    #[arg(long, default_value_t = config::DEFAULT_LOOKUP_CACHE)]
    pub cache_size: usize,
    /// Send queries without EDNS0 (512-byte UDP answers; more fall back to TCP).
    #[arg(long)]
    pub no_edns: bool,
    /// Own DNS client: the most UDP queries in flight at once to one name server (the window
    /// starts at 128, grows with answers, halves when a query goes unanswered).
    #[arg(long, default_value_t = mxinfer_core::resolve::client::WINDOW)]
    pub dns_window: usize,
    /// The DNS client: mxinfer's own, or hickory-resolver (kept for comparison).
    #[arg(long, value_enum, default_value_t = DnsClientArg::Own)]
    pub dns_client: DnsClientArg,
}

/// Which DNS client asks the queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DnsClientArg {
    /// mxinfer's own: a fixed pool of UDP sockets, random IDs, answers checked against the
    /// question, TCP on truncation.
    Own,
    /// hickory-resolver 0.26 (a socket and a task per query).
    Hickory,
}

/// The format of a probe target file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormatArg {
    /// Decide from the content: a first record starting with `{` is resolve output.
    Auto,
    /// The resolve stage's JSON Lines.
    Dns,
    /// `address[,exchanger-name]` lines.
    List,
}

/// Rows of a report or keys of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupByArg {
    /// The company of the ID (the ID itself when it has none).
    Company,
    /// The provider ID.
    Provider,
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
    /// Resolve output (`mxinfer resolve`, JSON Lines, gzip accepted): files or directories
    /// (their files by name), repeatable; labels come out in this order (file, then line).
    #[arg(long, required = true, num_args = 1.., value_name = "FILE|DIR")]
    pub dns: Vec<PathBuf>,
    /// Probe output (`mxinfer probe`, JSON Lines, gzip accepted): files or directories,
    /// repeatable; their order does not matter.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE|DIR")]
    pub probes: Vec<PathBuf>,
    #[command(flatten)]
    pub opts: LabelOpts,
    /// Label a sharded scan even when some shard's resolve or probe output is missing (the
    /// missing shards are reported and recorded in the metadata); otherwise an error.
    #[arg(long)]
    pub allow_missing_shards: bool,
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

/// The label stage's settings (shared by `label` and `run`).
#[derive(Debug, Args, Clone)]
pub struct LabelOpts {
    /// Prefix-to-AS data: CAIDA RouteViews pfx2as, pyasn IPASN, or range CSV
    /// `start,end,asn[,org]` (default: the embedded ranges of the companies' ASes).
    #[arg(long, value_name = "FILE")]
    pub pfx2as: Option<PathBuf>,
    /// Companies table (TOML, the layout of data/companies.toml; default: embedded).
    #[arg(long, value_name = "FILE")]
    pub companies: Option<PathBuf>,
    /// Which approach gives the domain's label (all four are in the record, unless
    /// --compact).
    #[arg(long, value_enum, default_value = "priority")]
    pub approach: ApproachArg,
    /// Compact label records: keep the chosen approach and MX-only (what eval falls back to
    /// for a flagged claim), leave out the other two (about half the bytes; `report`,
    /// `export` and `diff` read the chosen approach, `eval` evaluates the two kept).
    #[arg(long)]
    pub compact: bool,
    /// Score below which the misidentification checks run.
    #[arg(long, default_value_t = mxinfer_label::DEFAULT_THRESHOLD)]
    pub threshold: u64,
    /// Public Suffix List file (default: the embedded copy).
    #[arg(long, value_name = "FILE")]
    pub psl: Option<PathBuf>,
    /// Use only the ICANN section of the Public Suffix List.
    #[arg(long)]
    pub psl_icann_only: bool,
    /// Threads labelling the domains (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub label_threads: Option<usize>,
}

#[derive(Debug, Args, Clone)]
pub struct ProbeArgs {
    /// Targets: the resolve stage's JSON Lines, or `address[,exchanger-name]` lines; files or
    /// directories (their files by name), several allowed (an address in several is probed
    /// once, with all its names); `-` for standard input (alone).
    #[arg(default_value = "-", num_args = 1.., value_name = "FILE|DIR")]
    pub files: Vec<String>,
    /// Do shard I of N of a scan split across machines (I from 0 to N-1): only the addresses
    /// that hash to I. Give every shard's resolve output: each address is probed by exactly
    /// one machine. Every record and the metadata carry the shard.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<mxinfer_record::Shard>,
    /// Format of the targets (auto: resolve output when the first record starts with `{`).
    #[arg(long, value_enum, default_value = "auto")]
    pub input_format: InputFormatArg,
    /// Output file (JSON Lines); `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
    /// Run-metadata file (default: OUT with `.meta.json`; none when OUT is standard output).
    #[arg(long)]
    pub meta: Option<PathBuf>,
    /// Addresses probed at once.
    #[arg(long, default_value_t = config::DEFAULT_PROBE_CONCURRENCY)]
    pub concurrency: usize,
    #[command(flatten)]
    pub opts: ProbeOpts,
}

/// The probe stage's settings (shared by `probe` and `run`).
#[derive(Debug, Args, Clone)]
pub struct ProbeOpts {
    /// TCP port to probe.
    #[arg(long, default_value_t = 25)]
    pub port: u16,
    /// The name sent with EHLO/HELO. Set your own, one that leads to a page about your scan.
    #[arg(long, default_value = config::DEFAULT_EHLO_NAME)]
    pub ehlo_name: String,
    /// Seconds to wait for the TCP connection.
    #[arg(long, default_value_t = config::DEFAULT_CONNECT_TIMEOUT_S)]
    pub connect_timeout: f64,
    /// Seconds for one step (the greeting, one command and its reply, the TLS handshake).
    #[arg(long, default_value_t = config::DEFAULT_STEP_TIMEOUT_S)]
    pub step_timeout: f64,
    /// Seconds for the whole session with one address.
    #[arg(long, default_value_t = config::DEFAULT_SESSION_TIMEOUT_S)]
    pub session_timeout: f64,
    /// Most bytes read from one server over the session (replies, not TLS records).
    #[arg(long, default_value_t = mxinfer_core::probe::reply::DEFAULT_MAX_BYTES)]
    pub max_reply_bytes: usize,
    /// Connections per second to one address (the legacy-TLS retry waits for it).
    #[arg(long, default_value_t = config::DEFAULT_RATE_PER_IP)]
    pub rate_per_ip: f64,
    /// Also probe IPv6 addresses (otherwise they get `skipped-ipv6`).
    #[arg(long)]
    pub ipv6: bool,
    /// Probe non-public addresses too (private, loopback, …); with CIDRs, only those inside.
    #[arg(long, num_args = 0.., value_name = "CIDR")]
    pub allow_private: Option<Vec<String>>,
    /// More addresses never to probe: CIDR lines, `#` comments (repeatable; added to the
    /// default list data/probe-blocklist.txt).
    #[arg(long, value_name = "FILE")]
    pub blocklist: Vec<PathBuf>,
    /// Trusted roots (PEM) instead of Mozilla's (webpki-roots).
    #[arg(long, value_name = "PEM")]
    pub roots: Option<PathBuf>,
    /// Intermediate certificates (PEM) usable to complete chains servers send incomplete.
    #[arg(long, value_name = "PEM")]
    pub intermediates: Option<PathBuf>,
    /// Do not retry with OpenSSL (TLS 1.0/1.1, old suites) when rustls fails the handshake.
    #[arg(long)]
    pub no_legacy_tls: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SimArgs {
    #[command(subcommand)]
    pub command: SimCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum SimCommand {
    /// Run the SMTP farm on loopback addresses until interrupted.
    Farm(FarmArgs),
    /// Generate a reproducible simulated world (zone, personas, pfx2as, ground truth).
    World(WorldArgs),
    /// Serve a world: its zone by an in-process DNS server and its personas by the farm.
    Serve(ServeArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// A directory written by `sim world`.
    pub dir: PathBuf,
    /// UDP address of the DNS server (loopback).
    #[arg(long, default_value = "127.0.0.53:5353")]
    pub dns: std::net::SocketAddr,
    /// Serve DNS only (no SMTP farm).
    #[arg(long)]
    pub no_farm: bool,
    /// SMTP port of every persona; 0 picks a free one (the world's own is 2525).
    #[arg(long, default_value_t = mxinfer_sim::world::WORLD_PORT)]
    pub port: u16,
    /// Log every SMTP command the farm receives (address, tab, command) to this file.
    #[arg(long, value_name = "FILE")]
    pub command_log: Option<PathBuf>,
    /// Also serve the IPv6-only exchangers (fd00:6d78::/32): only where that prefix is local,
    /// e.g. a network namespace with the addresses on its `lo`.
    #[arg(long)]
    pub ipv6: bool,
    /// Serve the farm only (the zone elsewhere, e.g. loaded into NSD).
    #[arg(long, conflicts_with = "no_farm")]
    pub no_dns: bool,
    /// Serve only the personas whose position in personas.json is I modulo N (`I/N`): a
    /// large world's farm split over processes, each under the open-files limit.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<mxinfer_record::Shard>,
    /// Worker threads of the farm's runtime.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

#[derive(Debug, Args, Clone)]
pub struct WorldArgs {
    /// Number of domains.
    #[arg(long, default_value_t = 10_000)]
    pub domains: u64,
    /// Seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args, Clone)]
pub struct FarmArgs {
    /// First loopback address of the farm.
    #[arg(long, default_value = "127.16.0.1")]
    pub first: std::net::Ipv4Addr,
    /// Number of consecutive addresses.
    #[arg(long, default_value_t = 100)]
    pub count: u32,
    /// Port of every address.
    #[arg(long, default_value_t = 2525)]
    pub port: u16,
    /// Persona names, assigned round-robin to the addresses (comma-separated; default: normal).
    #[arg(long, default_value = "normal", value_delimiter = ',')]
    pub personas: Vec<String>,
    /// Extra latency: median milliseconds added before every reply (log-normal spread).
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of addresses (0 to 1) that are tarpits whatever their persona.
    #[arg(long, default_value_t = 0.0)]
    pub tarpit_share: f64,
    /// Write the test CA (PEM) here, for `mxinfer probe --roots`.
    #[arg(long)]
    pub ca_out: Option<PathBuf>,
    /// Write the target list (`address,name` lines) here.
    #[arg(long)]
    pub targets_out: Option<PathBuf>,
    /// Log every command received (address, command) to this file.
    #[arg(long)]
    pub command_log: Option<PathBuf>,
    /// Worker threads of the farm's runtime.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

/// Output formats of `mxinfer report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Table,
    Md,
    Json,
    Html,
}

#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// Label output (`mxinfer label`, JSON Lines).
    pub labels: PathBuf,
    /// Rows per company or per provider ID.
    #[arg(long, value_enum, default_value = "company")]
    pub by: GroupByArg,
    /// Rows kept (the rest summed into one `other` row); 0 keeps all.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Also list the domains this company (or provider ID) hosts.
    #[arg(long, value_name = "NAME")]
    pub company: Option<String>,
    /// Credit domains without SMTP evidence from their MX names (default: a status row).
    #[arg(long)]
    pub credit_no_smtp: bool,
    /// Count this approach's results (default: the one each record was labelled with).
    #[arg(long, value_enum)]
    pub approach: Option<ApproachArg>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Output file; `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
}

/// Output formats of `mxinfer eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalFormat {
    Md,
    Json,
}

#[derive(Debug, Args, Clone)]
pub struct EvalArgs {
    /// Label output (`mxinfer label`, JSON Lines).
    pub labels: PathBuf,
    /// Ground truth (JSON Lines of `record::Truth`).
    #[arg(long)]
    pub truth: PathBuf,
    #[arg(long, value_enum, default_value = "md")]
    pub format: EvalFormat,
    /// Misses listed per approach at most (all are counted).
    #[arg(long, default_value_t = 1000)]
    pub max_misses: usize,
    /// The label run's metadata, for its certificate groups (IDs joined on one certificate
    /// count as one provider); default: LABELS.meta.json when it exists.
    #[arg(long)]
    pub label_meta: Option<PathBuf>,
    /// Output file; `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
}

/// `--shard I/N`, checked (0 ≤ I < N).
fn parse_shard(text: &str) -> Result<mxinfer_record::Shard, String> {
    mxinfer_record::Shard::parse(text).map_err(|e| e.to_string())
}
