//! Certificate trust for ingested scans: the dataset's own verdict when it carries one
//! (zgrab2 and legacy Censys `validation.browser_trusted`), otherwise computed from the raw
//! chain by a [`ChainJudging`] the caller supplies (the probe stage's judge in `mxinfer
//! ingest`: the shipped Mozilla set unless `--roots`), with validity judged at the snapshot's
//! time (`--at`, else the record's own timestamp), never today's. Without a judge (the Python
//! package, which links no TLS stack), a chain without the dataset's verdict is not judged:
//! it is untrusted with reason `other` and a detail that says so, and counted as unknown.

use crate::IngestStats;
use crate::cert::name_matches;
use mxinfer_record::{Certificate, ChainVerdict, UntrustedReason};

/// Something that judges a presented chain as the probe stage does.
pub trait ChainJudging {
    /// The verdict on `chain` (DER, leaf first; `summaries` in the same order) for the
    /// exchanger `names`, with validity judged at `at_unix` (seconds); `checked_at` is that
    /// time as the record shows it.
    fn judge_chain(
        &self,
        chain: &[Vec<u8>],
        summaries: &[Certificate],
        names: &[String],
        at_unix: u64,
        checked_at: String,
    ) -> ChainVerdict;
    /// The root set, as the verdict's `roots` names it.
    fn roots_label(&self) -> &str;
}

/// How the trust of ingested chains is decided.
pub struct TrustSettings<'a> {
    /// `None`: only the dataset's verdicts (see the module docs).
    pub judge: Option<&'a (dyn ChainJudging + Sync)>,
    /// The snapshot's time; `None`: each record's own timestamp.
    pub at: Option<time::OffsetDateTime>,
    /// Ignore the dataset's verdicts and compute every one from the raw chain.
    pub recompute: bool,
}

/// A verdict the dataset carries.
#[derive(Debug, Clone)]
pub struct DatasetVerdict {
    pub trusted: bool,
    pub error: Option<String>,
    pub matches_domain: Option<bool>,
    /// Where it was read (`zgrab2 validation.browser_trusted`, …).
    pub source: &'static str,
}

/// Maps a Go x509 / zcrypto error text to a reason.
pub fn reason_from_text(err: Option<&str>, leaf: Option<&Certificate>) -> UntrustedReason {
    let e = err.unwrap_or_default().to_ascii_lowercase();
    if e.contains("expired") || e.contains("not yet valid") {
        // Go's text does not tell the two apart; the leaf's dates do not either without the
        // observation time, which the caller's detail keeps.
        if e.contains("not yet valid") && !e.contains("expired") {
            UntrustedReason::NotYetValid
        } else {
            UntrustedReason::Expired
        }
    } else if e.contains("self-signed") || e.contains("self signed") {
        UntrustedReason::SelfSigned
    } else if e.contains("unknown authority") || e.contains("unknown issuer") {
        if leaf.is_some_and(|l| l.self_signed) {
            UntrustedReason::SelfSigned
        } else {
            UntrustedReason::UnknownIssuer
        }
    } else if e.contains("signature") {
        UntrustedReason::BadSignature
    } else if leaf.is_some_and(|l| l.self_signed) {
        UntrustedReason::SelfSigned
    } else {
        UntrustedReason::Other
    }
}

/// The verdict on one presented chain (`ders` leaf first, possibly empty when the dataset
/// keeps only parsed fields; `summaries` in the same order).
pub fn verdict(
    ders: &[Vec<u8>],
    summaries: &[Certificate],
    names: &[String],
    dataset: Option<DatasetVerdict>,
    observed: Option<time::OffsetDateTime>,
    t: &TrustSettings<'_>,
    stats: &mut IngestStats,
) -> Option<ChainVerdict> {
    let leaf = summaries.first()?;
    let at = t.at.or(observed);
    let checked_at = at.map(crate::rfc3339).unwrap_or_default();
    let (name_match, matched_name) = match names.iter().find(|n| name_matches(leaf, n)) {
        Some(n) => (true, Some(n.clone())),
        None => (false, None),
    };
    if let Some(d) = dataset.filter(|_| !t.recompute || ders.is_empty()) {
        stats.trust_from_dataset += 1;
        return Some(ChainVerdict {
            trusted: d.trusted,
            reason: (!d.trusted).then(|| reason_from_text(d.error.as_deref(), Some(leaf))),
            detail: d.error,
            name_match: d.matches_domain.unwrap_or(name_match),
            matched_name,
            checked_at,
            roots: format!("dataset ({})", d.source),
        });
    }
    let judge = t.judge.filter(|_| !ders.is_empty());
    let (Some(at), Some(judge)) = (at, judge) else {
        stats.trust_unknown += 1;
        return Some(ChainVerdict {
            trusted: false,
            reason: Some(UntrustedReason::Other),
            detail: Some(if ders.is_empty() {
                "the dataset has neither a trust verdict nor the raw chain".to_string()
            } else if judge.is_none() {
                "the dataset has no trust verdict and this reader judges no chain \
                 (mxinfer ingest probes does)"
                    .to_string()
            } else {
                "no observation time: give --at".to_string()
            }),
            name_match,
            matched_name,
            checked_at,
            roots: t.judge.map_or("none", |j| j.roots_label()).to_string(),
        });
    };
    stats.trust_computed += 1;
    let secs = at.unix_timestamp().max(0) as u64;
    Some(judge.judge_chain(ders, summaries, names, secs, checked_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_error_texts() {
        use UntrustedReason::*;
        for (text, want) in [
            ("x509: certificate has expired or is not yet valid", Expired),
            (
                "x509: certificate is self-signed and not a trusted root",
                SelfSigned,
            ),
            (
                "x509: certificate signed by unknown authority",
                UnknownIssuer,
            ),
            ("something else", Other),
        ] {
            assert_eq!(reason_from_text(Some(text), None), want, "{text}");
        }
    }
}
