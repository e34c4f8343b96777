//! Ground truth (`mxinfer eval --truth`): [`Truth`], one per domain, and its parts.

use serde::{Deserialize, Serialize};

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
