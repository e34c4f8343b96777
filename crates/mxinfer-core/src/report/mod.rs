//! Reports over label records: market shares weighted by the split (METHOD.md 8), the domains
//! of one company, and the accuracy of the four approaches against ground truth ([`eval`]).
//!
//! The computations here are pure (records in, report values out); [`render`] turns a report
//! into Markdown, JSON, HTML or a text table, and [`files`] is the only part that does IO
//! (reading JSON Lines, writing the report files).
//!
//! Share rules:
//! - Each domain contributes the weights of the chosen approach's primary exchangers with an
//!   ID (summing to 1), so a domain split 2/3-1/3 counts 2/3 to one row and 1/3 to the other.
//! - An exchanger with a suggestion (AS check) is credited to the suggested ID's company (by
//!   provider: to the suggested ID); one flagged `unexpected-as` / `customer-host` without a
//!   suggestion goes to the single `flagged` row. These rules match `ProviderShare::credit`.
//! - Domains without providers get one row per label status (`no-id`, `null-mx`, `no-mail`,
//!   `dns-failed`); `no-smtp-evidence` domains (MX names only) also get their own status row
//!   unless `credit_no_smtp` is set, in which case their MX-name IDs are credited.
//! - `share` is over all domains (every row together sums to 1); `share_identified` is over
//!   the credited domains only (credit, other and flagged rows sum to 1), the measure of the
//!   paper's released figures (METHOD.md 12).

pub mod eval;
pub mod files;
pub mod render;

use mxinfer_record::{Approach, DomainLabel, ExchangerResult, LabelSource, LabelStatus};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// What the credit rows are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupBy {
    /// The company of the ID (the ID itself when it has none).
    Company,
    /// The provider ID.
    Provider,
}

/// How to build a report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub by: GroupBy,
    /// Credit rows kept (the rest are summed into one `other` row); 0 keeps all.
    pub top: usize,
    /// List the domains of this company (or provider ID), case-insensitively.
    pub company: Option<String>,
    /// Credit `no-smtp-evidence` domains from their MX names instead of a status row.
    pub credit_no_smtp: bool,
    /// Use this approach's result of every record instead of the record's chosen one.
    pub approach: Option<Approach>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            by: GroupBy::Company,
            top: 20,
            company: None,
            credit_no_smtp: false,
            approach: None,
        }
    }
}

/// The kind of a share row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowKind {
    /// A company or provider ID.
    Credit,
    /// The credit rows beyond `--top`, summed.
    Other,
    /// Shares whose label is flagged (METHOD.md 8), not credited to the company they claim.
    Flagged,
    /// Domains without providers, one row per label status.
    Status,
}

/// Weights per evidence source (the signal that gave the exchanger's ID).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceWeights {
    pub certificate: f64,
    pub banner: f64,
    pub mx: f64,
}

impl SourceWeights {
    fn add(&mut self, source: Option<LabelSource>, w: f64) {
        match source {
            Some(LabelSource::Certificate) => self.certificate += w,
            Some(LabelSource::Banner) => self.banner += w,
            Some(LabelSource::Mx) | None => self.mx += w,
        }
    }
    fn merge(&mut self, o: &SourceWeights) {
        self.certificate += o.certificate;
        self.banner += o.banner;
        self.mx += o.mx;
    }
}

/// One row of the share table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareRow {
    /// Company, provider ID, `other`, `flagged` or the label status.
    pub name: String,
    pub kind: RowKind,
    /// Domains contributing some weight to the row.
    pub domains: u64,
    /// Sum of the domains' weights (a status row: its domain count).
    pub weight: f64,
    /// `weight` over all domains.
    pub share: f64,
    /// `weight` over the credited domains (absent for status rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_identified: Option<f64>,
    /// The row's weight by evidence source (absent for status rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<SourceWeights>,
}

/// One domain of the `--company` listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyDomain {
    pub domain: String,
    /// Weight credited to the company.
    pub weight: f64,
    /// Weight whose ID belongs to the company but which went to the flagged row.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub flagged_weight: f64,
    /// The provider IDs of the matching exchangers.
    pub ids: Vec<String>,
    /// The evidence sources of the matching exchangers (`certificate`, `banner`, `mx`).
    pub sources: Vec<LabelSource>,
    /// The domain's label status.
    pub status: LabelStatus,
}

/// The `--company` listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyListing {
    /// The name asked for.
    pub company: String,
    pub domains: u64,
    /// Sum of the credited weights.
    pub weight: f64,
    pub entries: Vec<CompanyDomain>,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// A market-share report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub by: GroupBy,
    /// Label records read.
    pub domains: u64,
    /// Domains credited to some row (their weights sum to 1 each).
    pub identified_domains: u64,
    /// Domains per label status (of the approach counted), every status listed.
    pub statuses: BTreeMap<String, u64>,
    /// Whether `no-smtp-evidence` domains were credited from their MX names.
    pub credit_no_smtp: bool,
    /// The approach whose results were counted (`--approach`); absent: each record's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approach: Option<Approach>,
    /// Credited weight per evidence source, over all credited domains.
    pub sources: SourceWeights,
    /// Credited weight of self-hosted IDs (the ID is the domain's own registered domain).
    pub self_hosted_weight: f64,
    /// Credit rows by weight (ties by name), then `other`, `flagged`, and the status rows.
    pub rows: Vec<ShareRow>,
    /// The `--company` listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<CompanyListing>,
}

/// Where the share of one exchanger goes (METHOD.md 8), keyed for `by`.
pub fn credit_of(e: &ExchangerResult, by: GroupBy) -> Option<(RowKind, String)> {
    let id = e.id.as_ref()?;
    if e.weight <= 0.0 {
        return None;
    }
    Some(if let Some(s) = &e.suggestion {
        let name = match by {
            GroupBy::Company => e.suggested_company.clone().unwrap_or_else(|| s.clone()),
            GroupBy::Provider => s.clone(),
        };
        (RowKind::Credit, name)
    } else if !e.flags.is_empty() {
        (RowKind::Flagged, "flagged".to_string())
    } else {
        let name = match by {
            GroupBy::Company => e.company.clone().unwrap_or_else(|| id.clone()),
            GroupBy::Provider => id.clone(),
        };
        (RowKind::Credit, name)
    })
}

#[derive(Default)]
struct Acc {
    weight: f64,
    domains: u64,
    sources: SourceWeights,
}

/// Accumulates label records one at a time (memory: one entry per distinct credit, plus
/// the listed company's domains).
pub struct ShareTally {
    opts: ReportOptions,
    domains: u64,
    identified: u64,
    statuses: BTreeMap<LabelStatus, u64>,
    uncredited: BTreeMap<LabelStatus, u64>,
    credits: HashMap<String, Acc>,
    flagged: Acc,
    sources: SourceWeights,
    self_hosted: f64,
    listing: Vec<CompanyDomain>,
    company_lc: Option<String>,
}

impl ShareTally {
    pub fn new(opts: ReportOptions) -> Self {
        let company_lc = opts.company.as_ref().map(|c| c.to_lowercase());
        ShareTally {
            opts,
            domains: 0,
            identified: 0,
            statuses: BTreeMap::new(),
            uncredited: BTreeMap::new(),
            credits: HashMap::new(),
            flagged: Acc::default(),
            sources: SourceWeights::default(),
            self_hosted: 0.0,
            listing: Vec::new(),
            company_lc,
        }
    }

    /// Adds one domain's label; a label without the approach reported (a compact record
    /// asked for another approach than its own) is an error and adds nothing.
    pub fn add(&mut self, label: &DomainLabel) -> Result<(), mxinfer_record::MissingApproach> {
        let res = label.result(self.opts.approach.unwrap_or(label.approach))?;
        self.domains += 1;
        *self.statuses.entry(res.status).or_default() += 1;
        let credited = !res.providers.is_empty()
            && (res.status != LabelStatus::NoSmtpEvidence || self.opts.credit_no_smtp);
        if !credited {
            *self.uncredited.entry(res.status).or_default() += 1;
            return Ok(());
        }
        self.identified += 1;
        // Per-row weights of this domain, so each row counts the domain once.
        let mut rows: Vec<(RowKind, String, f64, SourceWeights)> = Vec::new();
        let mut entry: Option<CompanyDomain> = None;
        for e in &res.exchangers {
            let Some((kind, name)) = credit_of(e, self.opts.by) else {
                continue;
            };
            let w = e.weight;
            self.sources.add(e.source, w);
            if e.self_hosted {
                self.self_hosted += w;
            }
            match rows.iter_mut().find(|r| r.0 == kind && r.1 == name) {
                Some(r) => {
                    r.2 += w;
                    r.3.add(e.source, w);
                }
                None => {
                    let mut s = SourceWeights::default();
                    s.add(e.source, w);
                    rows.push((kind, name.clone(), w, s));
                }
            }
            if let Some(want) = &self.company_lc {
                let id = e.id.as_deref().unwrap_or_default();
                // Matched by the company credit or the provider credit, whatever `by` is.
                let credited_here = kind == RowKind::Credit
                    && [GroupBy::Company, GroupBy::Provider]
                        .into_iter()
                        .filter_map(|b| credit_of(e, b))
                        .any(|(_, n)| n.to_lowercase() == *want);
                let claimed = kind == RowKind::Flagged
                    && (id.to_lowercase() == *want
                        || e.company
                            .as_ref()
                            .is_some_and(|c| c.to_lowercase() == *want));
                if credited_here || claimed {
                    let d = entry.get_or_insert_with(|| CompanyDomain {
                        domain: label.domain.clone(),
                        weight: 0.0,
                        flagged_weight: 0.0,
                        ids: Vec::new(),
                        sources: Vec::new(),
                        status: res.status,
                    });
                    if credited_here {
                        d.weight += w;
                    } else {
                        d.flagged_weight += w;
                    }
                    if !d.ids.iter().any(|i| i == id) {
                        d.ids.push(id.to_string());
                    }
                    let src = e.source.unwrap_or(LabelSource::Mx);
                    if !d.sources.contains(&src) {
                        d.sources.push(src);
                    }
                }
            }
        }
        for (kind, name, w, s) in rows {
            let acc = if kind == RowKind::Flagged {
                &mut self.flagged
            } else {
                self.credits.entry(name).or_default()
            };
            acc.weight += w;
            acc.domains += 1;
            acc.sources.merge(&s);
        }
        if let Some(d) = entry {
            self.listing.push(d);
        }
        Ok(())
    }

    /// The report.
    pub fn finish(self) -> Report {
        let total = self.domains as f64;
        let ident: f64 = self.credits.values().map(|a| a.weight).sum::<f64>() + self.flagged.weight;
        let share = |w: f64| if total > 0.0 { w / total } else { 0.0 };
        let share_id = |w: f64| if ident > 0.0 { w / ident } else { 0.0 };
        let mut credits: Vec<(String, Acc)> = self.credits.into_iter().collect();
        credits.sort_by(|a, b| b.1.weight.total_cmp(&a.1.weight).then(a.0.cmp(&b.0)));
        let keep = if self.opts.top == 0 {
            credits.len()
        } else {
            self.opts.top.min(credits.len())
        };
        let mut rows = Vec::new();
        let row = |name: String, kind: RowKind, a: &Acc| ShareRow {
            name,
            kind,
            domains: a.domains,
            weight: a.weight,
            share: share(a.weight),
            share_identified: Some(share_id(a.weight)),
            sources: Some(a.sources),
        };
        let rest = credits.split_off(keep);
        for (name, a) in &credits {
            rows.push(row(name.clone(), RowKind::Credit, a));
        }
        if !rest.is_empty() {
            let mut other = Acc::default();
            for (_, a) in &rest {
                other.weight += a.weight;
                other.domains += a.domains;
                other.sources.merge(&a.sources);
            }
            rows.push(row(
                format!("other ({} more)", rest.len()),
                RowKind::Other,
                &other,
            ));
        }
        if self.flagged.domains > 0 {
            rows.push(row("flagged".to_string(), RowKind::Flagged, &self.flagged));
        }
        for st in LabelStatus::ALL {
            if st == LabelStatus::Labelled
                || (st == LabelStatus::NoSmtpEvidence && self.opts.credit_no_smtp)
            {
                continue;
            }
            let n = self.uncredited.get(&st).copied().unwrap_or(0);
            rows.push(ShareRow {
                name: st.as_str().to_string(),
                kind: RowKind::Status,
                domains: n,
                weight: n as f64,
                share: share(n as f64),
                share_identified: None,
                sources: None,
            });
        }
        let company = self.opts.company.map(|c| {
            let mut entries = self.listing;
            entries.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.domain.cmp(&b.domain)));
            CompanyListing {
                company: c,
                domains: entries.len() as u64,
                weight: entries.iter().map(|e| e.weight).sum(),
                entries,
            }
        });
        Report {
            by: self.opts.by,
            domains: self.domains,
            identified_domains: self.identified,
            statuses: LabelStatus::ALL
                .iter()
                .map(|s| {
                    (
                        s.as_str().to_string(),
                        self.statuses.get(s).copied().unwrap_or(0),
                    )
                })
                .collect(),
            credit_no_smtp: self.opts.credit_no_smtp,
            approach: self.opts.approach,
            sources: self.sources,
            self_hosted_weight: self.self_hosted,
            rows,
            company,
        }
    }
}

/// A report over `labels` (convenience over [`ShareTally`]).
pub fn shares<'a>(
    labels: impl IntoIterator<Item = &'a DomainLabel>,
    opts: ReportOptions,
) -> Result<Report, mxinfer_record::MissingApproach> {
    let mut t = ShareTally::new(opts);
    for l in labels {
        t.add(l)?;
    }
    Ok(t.finish())
}

#[cfg(test)]
mod tests;
