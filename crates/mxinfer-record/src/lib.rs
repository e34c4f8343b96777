//! The records every stage reads and writes: the schema of mxinfer's output.
//!
//! Conventions, set here for every stage:
//! - One Rust type per JSON object; field names are `snake_case`, enum values `kebab-case`.
//! - A failed item is still a record: its `status` says what happened and whatever was learned
//!   before the failure is kept.
//! - Optional facts are omitted when absent (`skip_serializing_if`), lists are omitted when
//!   empty, so a record only says what was observed.
//! - Records derive both `Serialize` and `Deserialize`: later stages read the earlier stages'
//!   output with these same types. Tests read output back into mirror types that reject unknown
//!   fields, so this crate, the docs and the output cannot drift apart.
//!
//! JSON Lines is the primary format: one record per line, UTF-8.
//!
//! The records are split by stage into private modules, all re-exported here (use them as
//! `mxinfer_record::X`):
//! - `dns`: the resolve stage's [`DomainDns`] and its parts, and the label stage's borrowed
//!   view of it ([`DomainDnsView`]).
//! - `probe`: the probe stage's [`HostProbe`] and its parts (SMTP replies, TLS, certificates).
//! - `label`: the label stage's [`DomainLabel`], its approaches and trails, and [`Claim`]s.
//! - `meta`: the run metadata ([`RunMeta`], [`InputCounts`]) written next to every output.
//! - `shard`: [`Shard`], which machine of a sharded scan a domain or an address belongs to.
//! - `truth`: the ground truth of `mxinfer eval --truth` ([`Truth`], [`TRUTH_CLASSES`]).
//!
//! [`InputRef`], carried through every stage, is defined here.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn is_false(b: &bool) -> bool {
    !*b
}

/// Where an accepted input domain came from, carried through to every stage's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InputRef {
    /// 1-based line number in the input file.
    pub line: u64,
    /// The domain exactly as written in the input, when normalisation changed it
    /// (IDNA, case, trailing dot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// Rank from a Tranco-style `rank,domain` list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u64>,
    /// Extra columns of the input line, passed through untouched. Keys are the CSV header
    /// names when the file had a header, otherwise `col3`, `col4`, … (1-based column numbers).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

mod dns;
mod label;
mod meta;
mod probe;
mod shard;
mod truth;

pub use dns::*;
pub use label::*;
pub use meta::*;
pub use probe::*;
pub use shard::*;
pub use truth::*;
