//! The label stage's records: [`DomainLabel`] (one per domain of the resolve output) with the
//! results of every approach, and the suspicious [`Claim`]s.

use crate::dns::DnsStatus;
use crate::probe::UntrustedReason;
use crate::{InputRef, is_false};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

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
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Approach {
    /// Certificate, then banner/EHLO, then MX name (the paper's method; the default).
    #[default]
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

/// The results of the four approaches: all four in a full record; in a compact one
/// (`mxinfer label --compact`), the chosen approach and MX-only (what eval falls back to
/// for a flagged claim), the others left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approaches {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<ApproachResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mx_only: Option<ApproachResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<ApproachResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<ApproachResult>,
}

impl Approaches {
    /// The result of approach `a`, when the record carries it.
    pub fn get(&self, a: Approach) -> Option<&ApproachResult> {
        match a {
            Approach::Priority => self.priority.as_ref(),
            Approach::MxOnly => self.mx_only.as_ref(),
            Approach::Certificate => self.certificate.as_ref(),
            Approach::Banner => self.banner.as_ref(),
        }
    }

    fn slot(&mut self, a: Approach) -> &mut Option<ApproachResult> {
        match a {
            Approach::Priority => &mut self.priority,
            Approach::MxOnly => &mut self.mx_only,
            Approach::Certificate => &mut self.certificate,
            Approach::Banner => &mut self.banner,
        }
    }

    /// Whether every approach is there (a full record).
    pub fn is_full(&self) -> bool {
        self.priority.is_some()
            && self.mx_only.is_some()
            && self.certificate.is_some()
            && self.banner.is_some()
    }
}

/// The approaches a compact record keeps besides its chosen one.
pub const COMPACT_KEEPS: Approach = Approach::MxOnly;

/// A label record asked for an approach it does not carry (a compact record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingApproach {
    pub domain: String,
    pub approach: Approach,
    /// The record's chosen approach (always carried).
    pub chosen: Approach,
}

impl std::fmt::Display for MissingApproach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the label of {} does not carry the {} approach (a compact record keeps its chosen approach, {}, and mx-only): use that approach, or label without --compact",
            self.domain,
            self.approach.as_str(),
            self.chosen.as_str()
        )
    }
}

impl std::error::Error for MissingApproach {}

impl DomainLabel {
    /// The result of approach `a`.
    pub fn result(&self, a: Approach) -> Result<&ApproachResult, MissingApproach> {
        self.approaches.get(a).ok_or_else(|| MissingApproach {
            domain: self.domain.clone(),
            approach: a,
            chosen: self.approach,
        })
    }

    /// The compact form: the chosen approach and MX-only kept, the other two dropped.
    pub fn compact(&mut self) {
        for a in [
            Approach::Priority,
            Approach::MxOnly,
            Approach::Certificate,
            Approach::Banner,
        ] {
            if a != self.approach && a != COMPACT_KEEPS {
                *self.approaches.slot(a) = None;
            }
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
