//! Mirror types of the documented output, rejecting unknown fields: a field added to the
//! output without being added here (and to the docs) fails the tests. Written independently
//! of `mxinfer-record` (crates/mxinfer-record) on purpose.
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
    #[serde(default)]
    pub shard: Option<Shard>,
}

/// `--shard I/N` as records and metadata carry it.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
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
    #[serde(default)]
    pub other_shards: u64,
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
    #[serde(default)]
    pub shard: Option<Shard>,
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
    #[serde(default)]
    pub legacy_retry: Option<String>,
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
    #[serde(default)]
    pub shard: Option<Shard>,
}

// `mxinfer report --format json`

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSources {
    pub certificate: f64,
    pub banner: f64,
    pub mx: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRow {
    pub name: String,
    pub kind: String,
    pub domains: u64,
    pub weight: f64,
    pub share: f64,
    #[serde(default)]
    pub share_identified: Option<f64>,
    #[serde(default)]
    pub sources: Option<ReportSources>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportCompanyDomain {
    pub domain: String,
    pub weight: f64,
    #[serde(default)]
    pub flagged_weight: f64,
    pub ids: Vec<String>,
    pub sources: Vec<String>,
    pub status: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportCompany {
    pub company: String,
    pub domains: u64,
    pub weight: f64,
    pub entries: Vec<ReportCompanyDomain>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub by: String,
    pub domains: u64,
    pub identified_domains: u64,
    pub statuses: BTreeMap<String, u64>,
    pub credit_no_smtp: bool,
    #[serde(default)]
    pub approach: Option<String>,
    pub sources: ReportSources,
    pub self_hosted_weight: f64,
    pub rows: Vec<ReportRow>,
    #[serde(default)]
    pub company: Option<ReportCompany>,
}

// `mxinfer eval --format json`

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalAccuracy {
    pub approach: String,
    pub compared: u64,
    pub correct: u64,
    pub accuracy: f64,
    pub company_correct: u64,
    pub company_accuracy: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalClass {
    pub class: String,
    pub domains: u64,
    pub approaches: Vec<EvalAccuracy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalConfusion {
    pub approach: String,
    pub truth: String,
    pub inferred: String,
    pub weight: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalWeightedId {
    pub id: String,
    #[serde(default)]
    pub company: Option<String>,
    pub weight: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalMissExchanger {
    pub name: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    pub trail: Vec<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub suggestion: Option<String>,
    #[serde(default)]
    pub live: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalMiss {
    pub approach: String,
    pub domain: String,
    #[serde(default)]
    pub classes: Vec<String>,
    pub truth: Vec<EvalWeightedId>,
    pub inferred: Vec<EvalWeightedId>,
    pub status: String,
    #[serde(default)]
    pub exchangers: Vec<EvalMissExchanger>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    pub labels: u64,
    pub truth: u64,
    pub compared: u64,
    pub only_in_labels: Vec<String>,
    pub only_in_truth: Vec<String>,
    pub duplicate_labels: Vec<String>,
    pub duplicate_truth: Vec<String>,
    pub approaches: Vec<EvalAccuracy>,
    #[serde(default)]
    pub approaches_not_in_labels: Vec<String>,
    pub classes: Vec<EvalClass>,
    pub confusion: Vec<EvalConfusion>,
    pub misses_total: BTreeMap<String, u64>,
    pub misses: Vec<EvalMiss>,
}
