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
//!   fields, so this module, the docs and the output cannot drift apart.
//!
//! JSON Lines is the primary format: one record per line, UTF-8.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

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

// ---------------------------------------------------------------------------------------------
// Resolve stage
// ---------------------------------------------------------------------------------------------

/// Outcome of resolving one domain's mail routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnsStatus {
    /// One or more MX records (other than a lone null MX) were found.
    Ok,
    /// RFC 7505 null MX: a single `0 .` record; the domain accepts no mail.
    NullMx,
    /// No MX records, but the domain has addresses: RFC 5321 5.1 implicit MX applied.
    NoMx,
    /// No MX records and no A/AAAA records: no mail can be delivered.
    NoMail,
    /// The domain does not exist.
    Nxdomain,
    /// The server answered SERVFAIL (after a second pass).
    Servfail,
    /// The server refused the query.
    Refused,
    /// No answer in time (after a second pass).
    Timeout,
    /// Any other failure (malformed answer, FORMERR, NOTIMP, I/O); see `error`.
    Error,
}

impl DnsStatus {
    /// All values, in a stable order (used for counts in the run metadata).
    pub const ALL: [DnsStatus; 9] = [
        DnsStatus::Ok,
        DnsStatus::NullMx,
        DnsStatus::NoMx,
        DnsStatus::NoMail,
        DnsStatus::Nxdomain,
        DnsStatus::Servfail,
        DnsStatus::Refused,
        DnsStatus::Timeout,
        DnsStatus::Error,
    ];

    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DnsStatus::Ok => "ok",
            DnsStatus::NullMx => "null-mx",
            DnsStatus::NoMx => "no-mx",
            DnsStatus::NoMail => "no-mail",
            DnsStatus::Nxdomain => "nxdomain",
            DnsStatus::Servfail => "servfail",
            DnsStatus::Refused => "refused",
            DnsStatus::Timeout => "timeout",
            DnsStatus::Error => "error",
        }
    }

    /// A failure that may go away when asked again (gets a second pass).
    pub fn is_transient(self) -> bool {
        matches!(self, DnsStatus::Servfail | DnsStatus::Timeout)
    }
}

/// Outcome of one record-set lookup (A, AAAA, TXT or PTR of one name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LookupStatus {
    /// Records of the asked type were found.
    Ok,
    /// The name exists but has no records of this type (NOERROR, empty answer).
    Nodata,
    /// The name does not exist.
    Nxdomain,
    Servfail,
    Refused,
    Timeout,
    /// Any other failure; see `error`.
    Error,
}

impl LookupStatus {
    /// A failure that may go away when asked again.
    pub fn is_transient(self) -> bool {
        matches!(self, LookupStatus::Servfail | LookupStatus::Timeout)
    }
}

/// One MX record as published, in preference order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxRecord {
    pub preference: u16,
    /// The exchange name, lower case, no trailing dot; `.` for a null MX.
    pub exchange: String,
    pub ttl: u32,
}

/// The result of one record-set lookup of one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RrsetLookup {
    pub status: LookupStatus,
    /// TTL of the answer records (the smallest, when they differ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    /// CNAME chain followed to reach the answer, in order (names, no trailing dot).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cname: Vec<String>,
    /// The answer data: addresses for A/AAAA, text for TXT, names for PTR.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Error text for `error` (and detail for other failures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What kind of address an exchanger resolved to (IANA special-purpose registries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddrClass {
    /// Globally routable unicast.
    Public,
    /// RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6 unique-local fc00::/7.
    Private,
    /// 127/8 and ::1.
    Loopback,
    /// 169.254/16 and fe80::/10.
    LinkLocal,
    /// RFC 6598 shared address space 100.64/10 (carrier-grade NAT).
    Shared,
    /// RFC 5737 / RFC 3849 / RFC 9637 documentation ranges.
    Documentation,
    /// Multicast (224/4, ff00::/8).
    Multicast,
    /// 0.0.0.0/8 and ::.
    Unspecified,
    /// Everything else that is not globally routable: 240/4, benchmarking 198.18/15, IETF
    /// protocol assignments, IPv4-mapped and other special IPv6 prefixes, broadcast.
    Reserved,
}

impl AddrClass {
    /// Whether a probe may go to this address without `--allow-private`.
    pub fn is_public(self) -> bool {
        self == AddrClass::Public
    }
}

/// One address of an exchanger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub ip: IpAddr,
    pub class: AddrClass,
    /// PTR lookup of the address (only with `--ptr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptr: Option<RrsetLookup>,
}

/// Something odd about an exchanger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExchangerFlag {
    /// The exchange name is an alias (CNAME), which RFC 2181 10.3 forbids.
    Cname,
    /// Neither A nor AAAA gave an address (nolisting, a typo, or a broken name).
    NoAddress,
    /// The exchange name is an IP address written as a name (`MX 10 192.0.2.1.`).
    IpLiteral,
    /// Some address is not a public unicast address.
    NonPublicAddress,
    /// Implicit MX (RFC 5321 5.1): the domain itself at preference 0; no MX record exists.
    Implicit,
}

/// One mail exchanger of a domain with its addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchanger {
    /// Lower case, no trailing dot.
    pub name: String,
    pub preference: u16,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<ExchangerFlag>,
    pub a: RrsetLookup,
    pub aaaa: RrsetLookup,
    /// The distinct addresses of A and AAAA, IPv4 first, each classified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
}

/// Something odd about a domain's MX set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DomainFlag {
    /// A null MX (`0 .`) published next to other MX records (RFC 7505 3 says it must be alone).
    NullMxMixed,
    /// The domain name is an alias (CNAME at the apex); the chain is in `cname`.
    ApexCname,
    /// Some exchanger has no address at all.
    ExchangerWithoutAddress,
    /// Every exchanger lacks an address: mail cannot be delivered.
    NoReachableExchanger,
    /// More than one SPF record was published (RFC 7208 4.5: a permanent error).
    MultipleSpf,
}

/// Load-balancing and fail-over configuration, as defined in seed 000 (Table I), counting
/// distinct addresses over all exchangers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigClass {
    /// One MX, one IPv4 address, no IPv6.
    PlainIpv4Only,
    /// One MX, no IPv4, one IPv6 address.
    PlainIpv6Only,
    /// One MX, one IPv4 and one IPv6 address.
    PlainDualStack,
    /// One MX with several IPv4 or several IPv6 addresses.
    RoundRobin,
    /// Several MX and as many distinct IPv4 (or IPv6) addresses as MX records.
    MxBalancing,
    /// Several MX, not MX-balancing.
    Hybrid,
    /// Everything else: null MX, implicit MX, no address, failures.
    NonIdentified,
}

/// The SPF policy found in TXT (only with `--txt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spf {
    /// The TXT lookup itself (status, TTL; values are all TXT strings of the name).
    pub txt: RrsetLookup,
    /// Whether a `v=spf1` record was found.
    pub present: bool,
    /// The SPF records, raw (character-strings of one record joined without separator).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<String>,
}

/// The resolve stage's record: one per accepted input domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainDns {
    /// The domain as queried: ASCII (IDNA), lower case, no trailing dot.
    pub domain: String,
    pub input: InputRef,
    pub status: DnsStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<DomainFlag>,
    /// CNAME chain at the apex, in order, when the domain is an alias.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cname: Vec<String>,
    /// The MX records as published, sorted by preference then name (equal preferences are
    /// a set; the name order is only for stable output).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mx: Vec<MxRecord>,
    /// TTL of the MX answer or, for negative answers, the negative-caching TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mx_ttl: Option<u32>,
    /// One entry per MX record (null MX excluded), in the order of `mx`; for `no-mx`, the
    /// implicit exchanger.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchangers: Vec<Exchanger>,
    pub config_class: ConfigClass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spf: Option<Spf>,
    /// How many passes the domain took (2 when the first ended in a transient failure).
    pub passes: u8,
    /// When the domain's resolution finished (RFC 3339, UTC).
    pub resolved_at: String,
    /// Detail for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Run metadata (every stage)
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Probe stage
// ---------------------------------------------------------------------------------------------

/// Outcome of probing one address on port 25. Whatever was learned before a failure is kept
/// in the record (a timeout during STARTTLS keeps the banner and the EHLO reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeStatus {
    /// Banner, EHLO, STARTTLS and the TLS handshake all completed (or the full dialogue of a
    /// server that offers no STARTTLS: see `starttls-not-offered`).
    Ok,
    /// The connection was refused (RST to the SYN).
    Refused,
    /// No answer to the SYN within the connect timeout.
    ConnectTimeout,
    /// Network or host unreachable (ICMP), or no route.
    Unreachable,
    /// The peer reset the connection after it was established.
    Reset,
    /// Connected, but no complete greeting within the step timeout.
    BannerTimeout,
    /// A later step timed out; `step` says which (ehlo, starttls, tls, quit).
    StepTimeout,
    /// The greeting was 4xx/5xx (text kept in `banner`).
    BannerRejected,
    /// Neither EHLO nor HELO was accepted.
    EhloFailed,
    /// The dialogue completed without TLS: STARTTLS was not advertised.
    StarttlsNotOffered,
    /// STARTTLS was advertised but the command was refused (e.g. 454).
    StarttlsRefused,
    /// The TLS handshake failed (alert or error kind in `error`); any certificates seen are kept.
    TlsFailed,
    /// The whole session exceeded its deadline.
    SessionTimeout,
    /// A reply exceeded the byte or line bound.
    ReplyTooLarge,
    /// The peer broke the SMTP syntax (no reply code, closed mid-reply, …).
    ProtocolError,
    /// Not probed: not a public address (see `--allow-private`).
    SkippedPrivate,
    /// Not probed: in the blocklist.
    SkippedBlocklist,
    /// Not probed: IPv6 probing is off (see `--ipv6`).
    SkippedIpv6,
}

/// The step of the dialogue a failure happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeStep {
    Connect,
    Banner,
    Ehlo,
    Starttls,
    Tls,
    TlsEhlo,
    Quit,
}

/// One SMTP reply: the code and every line as received (code and separator included, line end
/// removed, invalid UTF-8 replaced), bounded in number and length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpReply {
    pub code: u16,
    pub lines: Vec<String>,
}

/// One certificate of a chain, as presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// The DER encoding, base64 (standard alphabet, padded).
    pub der: String,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
    /// X.509 version (1, 2 or 3).
    pub version: u8,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_cn: Option<String>,
    /// subjectAltName dNSName entries, as written (wildcards kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub san_dns: Vec<String>,
    pub issuer: String,
    /// Serial number, lower-case hex.
    pub serial: String,
    /// Validity, RFC 3339 UTC.
    pub not_before: String,
    pub not_after: String,
    /// `rsa`, `ecdsa`, `ed25519`, `dsa` or `unknown`.
    pub key_type: String,
    /// Key size in bits (RSA modulus, EC curve size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_bits: Option<u32>,
    /// Subject equals issuer and the signature verifies with its own key.
    pub self_signed: bool,
    /// basicConstraints CA:TRUE.
    pub is_ca: bool,
}

/// Why a chain is not browser-trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UntrustedReason {
    Expired,
    NotYetValid,
    /// No path to a trusted root with the certificates sent and the intermediate pool
    /// (an incomplete chain ends here too).
    UnknownIssuer,
    SelfSigned,
    /// The leaf is a CA certificate.
    CaAsLeaf,
    /// X.509 v1/v2 leaf, or another unsupported encoding.
    UnsupportedVersion,
    BadSignature,
    /// The leaf may not be used for TLS server authentication (extended key usage).
    WrongUsage,
    /// Anything else the verifier rejects (see `detail`).
    Other,
    /// No certificate was presented.
    NoCertificate,
}

/// The verdict on a presented chain, made at probe time (or at a snapshot's time offline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainVerdict {
    /// Chains to the root set (Mozilla's by default) for serverAuth, validity checked at
    /// `checked_at`. The name is NOT part of this (see `name_match`).
    pub trusted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<UntrustedReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Whether the leaf is valid for one of the exchanger names of the address.
    pub name_match: bool,
    /// The exchanger name that matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_name: Option<String>,
    /// The time the validity dates were judged at (RFC 3339).
    pub checked_at: String,
    /// The root set used: `mozilla` (webpki-roots) or the file given with `--roots`.
    pub roots: String,
}

/// What the TLS handshake after STARTTLS gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsInfo {
    /// `rustls`, or `openssl` for the legacy fallback (TLS 1.0/1.1, RSA key exchange, CBC).
    pub stack: String,
    /// Whether the handshake completed.
    pub established: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// The server name sent in SNI, if any (not for IP-literal exchangers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// The chain as presented, leaf first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<Certificate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<ChainVerdict>,
    /// The reply to EHLO sent inside TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ehlo: Option<SmtpReply>,
    /// Error of the handshake (alert description or error kind), when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Something noteworthy seen during a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeFlag {
    /// Plaintext was already buffered after the 220 to STARTTLS (command injection risk).
    StarttlsInjection,
    /// EHLO was refused and HELO was used.
    HeloFallback,
    /// The rustls handshake failed and the legacy (OpenSSL) stack got the chain.
    LegacyTls,
    /// The greeting does not mention ESMTP.
    NoEsmtpInBanner,
}

/// The probe stage's record: one per probed (or skipped) address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostProbe {
    pub ip: IpAddr,
    pub port: u16,
    /// Exchanger names that resolve to this address (from the resolve output or the target
    /// list), sorted; the first is used for SNI.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    pub status: ProbeStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<ProbeStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<ProbeFlag>,
    /// The greeting (220 or rejection), all lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<SmtpReply>,
    /// The reply to our plaintext EHLO (or HELO, see `helo` flag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ehlo: Option<SmtpReply>,
    /// EHLO keywords, upper case, with their parameters (`SIZE 35882577`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    /// The reply to STARTTLS, when it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls: Option<SmtpReply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quit: Option<SmtpReply>,
    /// When the probe started (RFC 3339) and how long it took.
    pub started_at: String,
    pub duration_ms: u64,
}

// ---------------------------------------------------------------------------------------------
// Label stage
// ---------------------------------------------------------------------------------------------

/// Outcome of labelling one domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelStatus {
    /// Some primary exchanger with SMTP evidence yielded a provider ID.
    Labelled,
    /// No exchanger address gave SMTP evidence; labelled from the MX names only.
    NoSmtpEvidence,
    /// RFC 7505 null MX: the domain accepts no mail.
    NullMx,
    /// No MX and no address: no mail can be delivered.
    NoMail,
    /// The DNS resolution failed (nxdomain, servfail, refused, timeout, error).
    DnsFailed,
    /// No primary exchanger yielded an ID (e.g. IP-literal or bare-label exchange names).
    NoId,
}

impl LabelStatus {
    pub const ALL: [LabelStatus; 6] = [
        LabelStatus::Labelled,
        LabelStatus::NoSmtpEvidence,
        LabelStatus::NullMx,
        LabelStatus::NoMail,
        LabelStatus::DnsFailed,
        LabelStatus::NoId,
    ];

    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelStatus::Labelled => "labelled",
            LabelStatus::NoSmtpEvidence => "no-smtp-evidence",
            LabelStatus::NullMx => "null-mx",
            LabelStatus::NoMail => "no-mail",
            LabelStatus::DnsFailed => "dns-failed",
            LabelStatus::NoId => "no-id",
        }
    }
}

/// The four approaches of METHOD.md 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Approach {
    /// Certificate, then banner/EHLO, then MX name (the paper's method).
    Priority,
    /// The MX name only.
    MxOnly,
    /// Certificate, then MX name.
    Certificate,
    /// Banner/EHLO, then MX name.
    Banner,
}

/// A signal an exchanger's ID can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelSource {
    Certificate,
    Banner,
    Mx,
}

/// What one signal gave for one exchanger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalOutcome {
    /// The signal gave the ID.
    Ok,
    /// Certificate: no browser-trusted name on any live address.
    NoTrustedName,
    /// The usable names point at different IDs.
    IdsDisagree,
    /// Banner/EHLO: no usable host name on any live address.
    NoUsableName,
    /// MX name: the exchange name has no registered domain (IP literal, bare label).
    NoId,
}

/// One step of an exchanger's fall-through trail, written as one string `SOURCE:OUTCOME`
/// (`"certificate:ids-disagree"`, `"banner:ok"`): compact, since every record carries four
/// trails per exchanger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailStep {
    pub source: LabelSource,
    pub outcome: SignalOutcome,
}

impl Approach {
    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Approach::Priority => "priority",
            Approach::MxOnly => "mx-only",
            Approach::Certificate => "certificate",
            Approach::Banner => "banner",
        }
    }
}

impl LabelFlag {
    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelFlag::UnexpectedAs => "unexpected-as",
            LabelFlag::CustomerHost => "customer-host",
        }
    }
}

impl LabelSource {
    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelSource::Certificate => "certificate",
            LabelSource::Banner => "banner",
            LabelSource::Mx => "mx",
        }
    }
}

impl SignalOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SignalOutcome::Ok => "ok",
            SignalOutcome::NoTrustedName => "no-trusted-name",
            SignalOutcome::IdsDisagree => "ids-disagree",
            SignalOutcome::NoUsableName => "no-usable-name",
            SignalOutcome::NoId => "no-id",
        }
    }
}

impl Serialize for TrailStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Pre-joined for the common steps, so no formatting per record.
        let text: &'static str = match (self.source, self.outcome) {
            (LabelSource::Certificate, SignalOutcome::Ok) => "certificate:ok",
            (LabelSource::Certificate, SignalOutcome::NoTrustedName) => {
                "certificate:no-trusted-name"
            }
            (LabelSource::Certificate, SignalOutcome::IdsDisagree) => "certificate:ids-disagree",
            (LabelSource::Banner, SignalOutcome::Ok) => "banner:ok",
            (LabelSource::Banner, SignalOutcome::NoUsableName) => "banner:no-usable-name",
            (LabelSource::Banner, SignalOutcome::IdsDisagree) => "banner:ids-disagree",
            (LabelSource::Mx, SignalOutcome::Ok) => "mx:ok",
            (LabelSource::Mx, SignalOutcome::NoId) => "mx:no-id",
            (src, out) => {
                return s.collect_str(&format_args!("{}:{}", src.as_str(), out.as_str()));
            }
        };
        s.serialize_str(text)
    }
}

impl<'de> Deserialize<'de> for TrailStep {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        let (src, out) = text
            .split_once(':')
            .ok_or_else(|| D::Error::custom(format!("trail step {text:?}: no ':'")))?;
        let source = match src {
            "certificate" => LabelSource::Certificate,
            "banner" => LabelSource::Banner,
            "mx" => LabelSource::Mx,
            _ => return Err(D::Error::custom(format!("trail step {text:?}: bad source"))),
        };
        let outcome = match out {
            "ok" => SignalOutcome::Ok,
            "no-trusted-name" => SignalOutcome::NoTrustedName,
            "ids-disagree" => SignalOutcome::IdsDisagree,
            "no-usable-name" => SignalOutcome::NoUsableName,
            "no-id" => SignalOutcome::NoId,
            _ => {
                return Err(D::Error::custom(format!(
                    "trail step {text:?}: bad outcome"
                )));
            }
        };
        Ok(TrailStep { source, outcome })
    }
}

/// A flag raised by the misidentification checks (METHOD.md 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelFlag {
    /// The ID's company is known, but a live address originates outside its ASes.
    UnexpectedAs,
    /// The banner/EHLO or certificate names look like a customer server of the company.
    CustomerHost,
}

/// The result of one approach for one primary exchanger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangerResult {
    /// The provider ID (a registered domain, or a banner alias's ID); absent: no ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The signal that gave the ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<LabelSource>,
    /// Every signal tried, in order, with its outcome, as `SOURCE:OUTCOME` strings (the last
    /// is `…:ok` when there is an ID).
    pub trail: Vec<TrailStep>,
    /// Confidence score (METHOD.md 7); absent without an ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u64>,
    /// Whether the checks ran: the score was below the threshold and the ID is not
    /// MX-sourced (MX-sourced IDs get no checks).
    #[serde(default, skip_serializing_if = "is_false")]
    pub checked: bool,
    /// Flags of the checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<LabelFlag>,
    /// An ID suggested by the AS check (kept beside the ID, never replacing it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The company of the suggested ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_company: Option<String>,
    /// The company of the ID (companies table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Share of the domain (1/k over the k primary exchangers with an ID; 0 without an ID).
    pub weight: f64,
    /// The ID equals the domain's own registered domain.
    #[serde(default, skip_serializing_if = "is_false")]
    pub self_hosted: bool,
}

/// One provider of a domain under one approach: the sum of its exchangers' weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderShare {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    pub weight: f64,
    /// Where a market share credits this weight (METHOD.md 8): the suggested ID's company
    /// when there is a suggestion, `flagged` when the label is flagged, else the company,
    /// else the ID.
    pub credit: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub self_hosted: bool,
}

/// The outcome of one approach for a domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApproachResult {
    pub status: LabelStatus,
    /// One per primary exchanger, in the order of `DomainLabel::exchangers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchangers: Vec<ExchangerResult>,
    /// Providers with weights summing to 1 (empty when nothing was labelled).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderShare>,
    /// Some primary exchangers had no ID and were left out of the split.
    #[serde(default, skip_serializing_if = "is_false")]
    pub renormalised: bool,
    /// Every provider is the domain's own registered domain.
    #[serde(default, skip_serializing_if = "is_false")]
    pub self_hosted: bool,
}

/// The results of all four approaches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approaches {
    pub priority: ApproachResult,
    pub mx_only: ApproachResult,
    pub certificate: ApproachResult,
    pub banner: ApproachResult,
}

impl Approaches {
    pub fn get(&self, a: Approach) -> &ApproachResult {
        match a {
            Approach::Priority => &self.priority,
            Approach::MxOnly => &self.mx_only,
            Approach::Certificate => &self.certificate,
            Approach::Banner => &self.banner,
        }
    }
}

/// One primary exchanger of a domain (the evidence side; results are per approach).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryExchanger {
    pub name: String,
    pub preference: u16,
    /// The live addresses used (banner, EHLO or certificate seen); empty for
    /// `no-smtp-evidence`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub live: Vec<IpAddr>,
    /// Implicit MX (the domain itself, RFC 5321 5.1).
    #[serde(default, skip_serializing_if = "is_false")]
    pub implicit: bool,
}

/// The label stage's record: one per domain of the resolve output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainLabel {
    pub domain: String,
    pub input: InputRef,
    /// The status of the chosen approach.
    pub status: LabelStatus,
    /// The approach whose result is the domain's label (`--approach`).
    pub approach: Approach,
    /// The resolve status the label started from.
    pub dns_status: DnsStatus,
    /// The domain's own registered domain (for self-hosting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_domain: Option<String>,
    /// The preference of the primary set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_preference: Option<u16>,
    /// Better preferences passed over because none of their addresses was live
    /// (METHOD.md 2.3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dead_preferences: Vec<u16>,
    /// The primary exchangers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchangers: Vec<PrimaryExchanger>,
    /// The chosen approach's providers (weights sum to 1), repeated from `approaches`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderShare>,
    /// The chosen approach's self-hosted verdict.
    #[serde(default, skip_serializing_if = "is_false")]
    pub self_hosted: bool,
    /// All four approaches.
    pub approaches: Approaches,
}

/// Why an address's claim looks suspicious (METHOD.md 7, suspicious claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimReason {
    /// The address's origin AS is outside the claimed company's ASes.
    AsOutsideCompany,
    /// The banner/EHLO claims the company, but the certificate is not browser-trusted.
    CertificateUntrusted,
    /// The banner/EHLO claims the company, but the trusted certificate names someone else.
    CertificateNamesOther,
}

/// One suspicious claim: an address whose banner, EHLO or certificate names a known company
/// while other evidence disagrees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub ip: IpAddr,
    /// Where the claim was read: `banner`, `ehlo` or `certificate`.
    pub claimed_in: String,
    /// The host name claimed (banner/EHLO candidate, or certificate name).
    pub claimed_name: String,
    /// Its provider ID and company.
    pub claimed_id: String,
    pub claimed_company: String,
    pub reasons: Vec<ClaimReason>,
    /// Origin ASes found for the address (empty: unknown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asns: Vec<u32>,
    /// Whether the certificate chain is browser-trusted (absent: no certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_trusted: Option<bool>,
    /// Why not trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_reason: Option<UntrustedReason>,
    /// The certificate's provider IDs (after grouping), when trusted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificate_ids: Vec<String>,
    /// Domains whose primary set uses the address (at most 100 listed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    /// How many domains use the address.
    pub domain_count: u64,
}

/// What the label stage reads of a [`DomainDns`] record: the same JSON, every other field
/// skipped without being stored (a read-side view for speed; [`DomainDns`] stays the schema).
#[derive(Debug, Clone, Deserialize)]
pub struct DomainDnsView<'a> {
    #[serde(borrow)]
    pub domain: std::borrow::Cow<'a, str>,
    pub input: InputRef,
    pub status: DnsStatus,
    #[serde(default, borrow)]
    pub exchangers: Vec<ExchangerView<'a>>,
}

/// The label stage's view of an [`Exchanger`].
#[derive(Debug, Clone, Deserialize)]
pub struct ExchangerView<'a> {
    #[serde(borrow)]
    pub name: std::borrow::Cow<'a, str>,
    pub preference: u16,
    #[serde(default)]
    pub flags: Vec<ExchangerFlag>,
    #[serde(default)]
    pub addresses: Vec<AddressView>,
}

/// The label stage's view of an [`Address`].
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct AddressView {
    pub ip: IpAddr,
}

impl<'a> From<&'a DomainDns> for DomainDnsView<'a> {
    fn from(d: &'a DomainDns) -> Self {
        DomainDnsView {
            domain: std::borrow::Cow::Borrowed(&d.domain),
            input: d.input.clone(),
            status: d.status,
            exchangers: d
                .exchangers
                .iter()
                .map(|e| ExchangerView {
                    name: std::borrow::Cow::Borrowed(&e.name),
                    preference: e.preference,
                    flags: e.flags.clone(),
                    addresses: e
                        .addresses
                        .iter()
                        .map(|a| AddressView { ip: a.ip })
                        .collect(),
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ground truth (`mxinfer eval --truth`)
// ---------------------------------------------------------------------------------------------

/// The hard-case classes a [`Truth`] record may carry (the simulated world's vocabulary;
/// `mxinfer eval` accepts any other name too and reports it as its own class).
pub const TRUTH_CLASSES: [&str; 15] = [
    "vanity-mx",
    "hosting-default-mx",
    "vps-customer",
    "fake-banner",
    "self-signed",
    "expired-cert",
    "wrong-name-cert",
    "no-starttls",
    "split",
    "gateway",
    "null-mx",
    "implicit-mx",
    "nolisting",
    "dead-primary",
    "ipv6-only",
];

/// Ground truth of one domain: who really operates the servers that receive its mail. One
/// JSON line per domain in `truth.jsonl`, written by the simulated-world generator from what it
/// built (never from the labeller). Example:
/// `{"domain":"shop.example","providers":[{"id":"google.com","company":"Google","weight":1.0}],"classes":["vanity-mx"]}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Truth {
    /// The domain, as in the domain list (compared with `DomainLabel::domain`, ignoring
    /// case and a trailing dot).
    pub domain: String,
    /// The true providers with their share of the domain's primary exchangers (weights sum
    /// to 1); empty (or omitted) when the domain receives no mail (null MX, no MX and no
    /// address). A domain is correct when the label's provider IDs are these IDs with
    /// weights within 0.01.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<TruthProvider>,
    /// The hard-case classes the domain belongs to (names of [`TRUTH_CLASSES`]); omitted
    /// for an ordinary domain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Free text for humans (e.g. how the generator built the domain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One true provider of a domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TruthProvider {
    /// The provider ID as the method defines it (METHOD.md 3): the registered domain of the
    /// operator's host names (`google.com`, `pphosted.com`), or the domain's own registered
    /// domain when it is self-hosted.
    pub id: String,
    /// The company operating it (METHOD.md 9 names, e.g. `Google`); omitted for a provider
    /// with no company (self-hosted, small hosts). Used by the confusion table only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Its share of the domain (e.g. 0.5 each for an equal-preference split over two
    /// providers).
    pub weight: f64,
}
