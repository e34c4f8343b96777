//! The probe stage's records: [`HostProbe`] (one per probed or skipped address) and its parts
//! (SMTP replies, TLS and certificate summaries, the chain verdict).

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

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
    /// Why the legacy stack (OpenSSL) was tried after rustls: the rustls failure
    /// (`alert:protocol-version`, `peer-incompatible:...`, or `eof-after-client-hello` /
    /// `reset-after-client-hello` for a server that hung up without an alert) and what the
    /// retry offered (`; offered TLS 1.0-1.3`, or `; offered TLS 1.0 only` after a hang-up,
    /// as version-intolerant servers need). `stack` says which one got the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_retry: Option<String>,
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
    /// The shard of a sharded scan (`--shard I/N`) that probed the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::Shard>,
}
