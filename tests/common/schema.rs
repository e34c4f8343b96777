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

// ---- Label stage ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangerResult {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// `SOURCE:OUTCOME` strings.
    pub trail: Vec<String>,
    #[serde(default)]
    pub score: Option<u64>,
    #[serde(default)]
    pub checked: bool,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub suggestion: Option<String>,
    #[serde(default)]
    pub suggested_company: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    pub weight: f64,
    #[serde(default)]
    pub self_hosted: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderShare {
    pub id: String,
    #[serde(default)]
    pub company: Option<String>,
    pub weight: f64,
    pub credit: String,
    #[serde(default)]
    pub self_hosted: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproachResult {
    pub status: String,
    #[serde(default)]
    pub exchangers: Vec<ExchangerResult>,
    #[serde(default)]
    pub providers: Vec<ProviderShare>,
    #[serde(default)]
    pub renormalised: bool,
    #[serde(default)]
    pub self_hosted: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approaches {
    pub priority: ApproachResult,
    pub mx_only: ApproachResult,
    pub certificate: ApproachResult,
    pub banner: ApproachResult,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrimaryExchanger {
    pub name: String,
    pub preference: u16,
    #[serde(default)]
    pub live: Vec<String>,
    #[serde(default)]
    pub implicit: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainLabel {
    pub domain: String,
    pub input: InputRef,
    pub status: String,
    pub approach: String,
    pub dns_status: String,
    #[serde(default)]
    pub registered_domain: Option<String>,
    #[serde(default)]
    pub primary_preference: Option<u16>,
    #[serde(default)]
    pub dead_preferences: Vec<u16>,
    #[serde(default)]
    pub exchangers: Vec<PrimaryExchanger>,
    #[serde(default)]
    pub providers: Vec<ProviderShare>,
    #[serde(default)]
    pub self_hosted: bool,
    pub approaches: Approaches,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub ip: String,
    pub claimed_in: String,
    pub claimed_name: String,
    pub claimed_id: String,
    pub claimed_company: String,
    pub reasons: Vec<String>,
    #[serde(default)]
    pub asns: Vec<u32>,
    #[serde(default)]
    pub chain_trusted: Option<bool>,
    #[serde(default)]
    pub chain_reason: Option<String>,
    #[serde(default)]
    pub certificate_ids: Vec<String>,
    #[serde(default)]
    pub domains: Vec<String>,
    pub domain_count: u64,
}

// ---------------------------------------------------------------------------------------------
// Probe stage (README "mxinfer probe": output fields)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct SmtpReply {
    pub code: u16,
    pub lines: Vec<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub der: String,
    pub sha256: String,
    pub version: u8,
    pub subject: String,
    #[serde(default)]
    pub subject_cn: Option<String>,
    #[serde(default)]
    pub san_dns: Vec<String>,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub key_type: String,
    #[serde(default)]
    pub key_bits: Option<u32>,
    pub self_signed: bool,
    pub is_ca: bool,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ChainVerdict {
    pub trusted: bool,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    pub name_match: bool,
    #[serde(default)]
    pub matched_name: Option<String>,
    pub checked_at: String,
    pub roots: String,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct TlsInfo {
    pub stack: String,
    pub established: bool,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub cipher: Option<String>,
    #[serde(default)]
    pub sni: Option<String>,
    #[serde(default)]
    pub chain: Vec<Certificate>,
    #[serde(default)]
    pub verdict: Option<ChainVerdict>,
    #[serde(default)]
    pub ehlo: Option<SmtpReply>,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct HostProbe {
    pub ip: String,
    pub port: u16,
    #[serde(default)]
    pub names: Vec<String>,
    pub status: String,
    #[serde(default)]
    pub step: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub banner: Option<SmtpReply>,
    #[serde(default)]
    pub ehlo: Option<SmtpReply>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub starttls: Option<SmtpReply>,
    #[serde(default)]
    pub tls: Option<TlsInfo>,
    #[serde(default)]
    pub quit: Option<SmtpReply>,
    pub started_at: String,
    pub duration_ms: u64,
}
