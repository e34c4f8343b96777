//! The resolve stage's records: [`DomainDns`] (one per accepted input domain) and its parts,
//! plus the borrowed read-side view ([`DomainDnsView`]) the label stage reads them with.

use crate::InputRef;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

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
    /// The shard of a sharded scan (`--shard I/N`) that resolved the domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::Shard>,
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
    #[serde(default)]
    pub shard: Option<crate::Shard>,
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
            shard: d.shard,
        }
    }
}
