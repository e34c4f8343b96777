//! Run metadata, written next to every stage's output: [`RunMeta`], [`InputCounts`], and
//! the typed `stage` object of each stage ([`ResolveStage`], [`ProbeStage`], [`LabelStage`];
//! `ingest` has its own in `mxinfer_core::ingest`). Fields of the stage objects are declared
//! in alphabetical order, the order the files have always had.

use crate::is_false;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counts of the input reader.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputCounts {
    /// Every line of the file.
    pub lines: u64,
    /// Blank lines, `#` comments and a CSV header: not input.
    pub blank: u64,
    pub comments: u64,
    pub header: u64,
    /// Lines that gave a domain that had not been seen before.
    pub accepted: u64,
    /// Lines whose domain had been seen before (dropped).
    pub duplicates: u64,
    /// Lines that are not a valid domain (reported on stderr, no record).
    pub rejected: u64,
    /// Of the accepted, those that belong to other shards of a sharded scan (`--shard`):
    /// their records are in the other shards' outputs.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub other_shards: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The run-metadata file written next to a stage's output; `S` is the stage's own object
/// (a [`serde_json::Value`] reads any stage's file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "S: Serialize",
    deserialize = "S: Deserialize<'de> + Default"
))]
pub struct RunMeta<S = serde_json::Value> {
    pub tool: String,
    pub version: String,
    pub command: String,
    /// The command line as given.
    pub args: Vec<String>,
    pub started_at: String,
    pub finished_at: String,
    pub duration_s: f64,
    /// Input file (`-` for standard input) and its counts.
    pub input: String,
    pub input_counts: InputCounts,
    /// The shard of a sharded scan this run was (`--shard I/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::Shard>,
    /// Output records per status.
    pub status_counts: BTreeMap<String, u64>,
    /// Stage-specific settings and counters (resolver, cache, queries…).
    #[serde(default)]
    pub stage: S,
    /// True when the run ended early (interrupted); outputs are then partial.
    #[serde(default, skip_serializing_if = "is_false")]
    pub interrupted: bool,
}

/// The resolve stage's settings as recorded (the caller's, before the run).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolveSettings {
    pub attempts: usize,
    pub cache_size: usize,
    pub concurrency: usize,
    pub edns0: bool,
    pub nameservers: Vec<String>,
    pub ptr: bool,
    /// The resolver library and how it is used.
    pub resolver: String,
    /// Which failures get a second pass.
    pub second_pass: String,
    pub timeout_s: f64,
    pub txt: bool,
}

/// Counters of the shared exchanger lookups of a resolve run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    pub capacity: usize,
    pub entries: usize,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

/// `stage` of a resolve run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolveStage {
    #[serde(flatten)]
    pub settings: ResolveSettings,
    pub domains_per_second: f64,
    pub exchanger_cache: CacheStats,
    pub queries_sent: u64,
}

/// The probe stage's settings as recorded (the caller's, before the run).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeSettings {
    /// `--allow-private` as given (`null`: not given; empty: every non-public address).
    pub allow_private: Option<Vec<String>>,
    pub blocklist_files: Vec<String>,
    pub blocklist_prefixes: usize,
    pub concurrency: usize,
    pub connect_timeout_s: f64,
    pub ehlo_name: String,
    pub intermediates: Option<String>,
    pub ipv6: bool,
    pub legacy_tls: bool,
    pub max_reply_bytes: usize,
    pub max_reply_line: usize,
    pub max_reply_lines: usize,
    pub open_files_limit: u64,
    pub port: u16,
    pub rate_per_ip: f64,
    /// `mozilla`, or the roots file.
    pub roots: String,
    pub session_timeout_s: f64,
    pub step_timeout_s: f64,
    /// The TLS library and how chains are judged.
    pub tls: String,
}

/// `stage` of a probe run (`mxinfer probe`, or the probe stage of `mxinfer run`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeStage {
    #[serde(flatten)]
    pub settings: ProbeSettings,
    /// `mxinfer probe`: the format of the targets (`dns` or `list`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes_per_second: Option<f64>,
    /// `mxinfer run`: where the targets came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streamed_from: Option<String>,
    /// `mxinfer probe --shard`: distinct addresses read that belong to other shards (not
    /// probed here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_shards: Option<u64>,
    /// `mxinfer probe`: distinct target addresses read (of this shard, when sharded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<u64>,
    /// `mxinfer run`: addresses handed from the resolve stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets_sent: Option<u64>,
}

/// Counters of a label run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelCounts {
    pub probe_records: u64,
    pub addresses: u64,
    pub live_addresses: u64,
    pub trusted_addresses: u64,
    pub domains: u64,
    pub certificate_groups: u64,
    pub dead_primary_fallbacks: u64,
}

/// A certificate group of more than one registered domain (`Labeller::joined_groups`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertGroup {
    /// The group's name: the provider ID its members get.
    pub id: String,
    /// Each member registered domain with its numCert (domains whose trusted certificates
    /// carry it), sorted by name.
    pub members: Vec<(String, u32)>,
}

/// Counts of a prefix-to-AS load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadStats {
    pub lines: u64,
    pub prefixes: u64,
    pub ranges: u64,
    pub skipped: u64,
}

/// `stage` of a label run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelStage {
    pub approach: crate::Approach,
    pub batch_size: u64,
    /// Certificate groups of two or more registered domains.
    pub certificate_groups_joined: Vec<CertGroup>,
    pub claim_count: u64,
    /// The claims file, when written.
    pub claims: Option<String>,
    /// Compact records (`--compact`): the chosen approach and MX-only only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub compact: bool,
    pub companies: String,
    pub company_count: usize,
    pub counts: LabelCounts,
    pub domains_per_second: f64,
    pub pfx2as: String,
    pub pfx2as_load: Option<LoadStats>,
    pub pfx2as_prefixes: usize,
    pub probe_input_counts: InputCounts,
    pub probes: String,
    pub psl: String,
    pub psl_icann_only: bool,
    pub psl_version: Option<String>,
    pub seconds_reading_dns: f64,
    pub seconds_reading_probes: f64,
    /// The shards of a sharded scan found in the inputs (absent when unsharded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<ShardsSeen>,
    pub threshold: u64,
}

/// The shards a label run found in its inputs: every shard of the scan must be there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardsSeen {
    /// The resolve output's shards (absent when it was not sharded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<ShardSet>,
    /// The probe output's shards (absent when it was not sharded). Resolve and probe may be
    /// split over different numbers of machines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<ShardSet>,
}

/// The shards of one stage's output given to a label run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSet {
    /// N of the `--shard I/N` the output was made with.
    pub count: u32,
    /// Shards found (in records or in the metadata beside the files), sorted.
    pub seen: Vec<u32>,
    /// Shards of 0..N not found (labelled anyway only with `--allow-missing-shards`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<u32>,
}
