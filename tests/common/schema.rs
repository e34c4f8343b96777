//! Mirror types of the documented output, rejecting unknown fields: a field added to the
//! output without being added here (and to the docs) fails the tests. Written independently
//! of `src/record.rs` on purpose.
#![allow(dead_code)]

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputRef {
    pub line: u64,
    #[serde(default)]
    pub original: Option<String>,
    #[serde(default)]
    pub rank: Option<u64>,
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rrset {
    pub status: String,
    #[serde(default)]
    pub ttl: Option<u32>,
    #[serde(default)]
    pub cname: Vec<String>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub ip: String,
    pub class: String,
    #[serde(default)]
    pub ptr: Option<Rrset>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchanger {
    pub name: String,
    pub preference: u16,
    #[serde(default)]
    pub flags: Vec<String>,
    pub a: Rrset,
    pub aaaa: Rrset,
    #[serde(default)]
    pub addresses: Vec<Address>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mx {
    pub preference: u16,
    pub exchange: String,
    pub ttl: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spf {
    pub txt: Rrset,
    pub present: bool,
    #[serde(default)]
    pub records: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainDns {
    pub domain: String,
    pub input: InputRef,
    pub status: String,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub cname: Vec<String>,
    #[serde(default)]
    pub mx: Vec<Mx>,
    #[serde(default)]
    pub mx_ttl: Option<u32>,
    #[serde(default)]
    pub exchangers: Vec<Exchanger>,
    pub config_class: String,
    #[serde(default)]
    pub spf: Option<Spf>,
    pub passes: u8,
    pub resolved_at: String,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputCounts {
    pub lines: u64,
    pub blank: u64,
    pub comments: u64,
    pub header: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMeta {
    pub tool: String,
    pub version: String,
    pub command: String,
    pub args: Vec<String>,
    pub started_at: String,
    pub finished_at: String,
    pub duration_s: f64,
    pub input: String,
    pub input_counts: InputCounts,
    pub status_counts: BTreeMap<String, u64>,
    pub stage: serde_json::Value,
    #[serde(default)]
    pub interrupted: bool,
}
