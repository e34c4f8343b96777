//! Run metadata, written next to every stage's output: [`RunMeta`] and [`InputCounts`].

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
}

/// The run-metadata file written next to a stage's output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunMeta {
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
    /// Output records per status.
    pub status_counts: BTreeMap<String, u64>,
    /// Stage-specific settings and counters (resolver, cache, queries…).
    #[serde(default)]
    pub stage: serde_json::Value,
    /// True when the run ended early (interrupted); outputs are then partial.
    #[serde(default, skip_serializing_if = "is_false")]
    pub interrupted: bool,
}
