//! Accuracy of the four approaches against ground truth (issue 5, item 6).
//!
//! A domain is correct under an approach when the approach's provider IDs (weights of
//! repeated IDs summed, IDs compared case-insensitively) are exactly the truth's IDs, each
//! weight within [`WEIGHT_TOLERANCE`]. A truth without providers (no mail) is matched by an
//! approach without providers. Domains in only one of the two inputs are counted and listed,
//! never compared.
//!
//! Three readings make the comparison about who operates the servers rather than about
//! spelling, each the same as the report's crediting:
//! - an exchanger with a suggestion (Cisco, Proofpoint) counts as the suggested ID;
//! - an exchanger whose claim a check refuted (`unexpected-as`, `customer-host`) counts as
//!   its MX-name ID (the report puts that weight in its `flagged` row);
//! - IDs joined on one certificate (the label metadata's `certificate_groups_joined`, e.g.
//!   `outlook.com` with `mx.microsoft`) are one provider, in labels and truth alike.

use mxinfer_record::{
    Approach, ApproachResult, DomainLabel, ExchangerResult, LabelFlag, LabelSource, LabelStatus,
};
use mxinfer_record::{TrailStep, Truth};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Largest difference between a label weight and the truth's that still counts as equal.
pub const WEIGHT_TOLERANCE: f64 = 0.01;

/// The approaches in the order of the paper's comparison.
pub const APPROACHES: [Approach; 4] = [
    Approach::MxOnly,
    Approach::Certificate,
    Approach::Banner,
    Approach::Priority,
];

/// The row name used for "no provider" in the confusion table.
pub const NONE: &str = "(none)";

/// Accuracy of one approach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApproachAccuracy {
    pub approach: Approach,
    pub compared: u64,
    pub correct: u64,
    /// `correct / compared` (0 when nothing was compared).
    pub accuracy: f64,
    /// Domains whose companies (the ID when it has none) match the truth's, weights within
    /// the tolerance: forgives a different ID of the same company (`outlook.com` for
    /// `mx.microsoft`).
    pub company_correct: u64,
    pub company_accuracy: f64,
}

/// Accuracy of every approach on the domains of one hard-case class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassAccuracy {
    pub class: String,
    /// Compared domains of the class.
    pub domains: u64,
    /// In the order of [`APPROACHES`].
    pub approaches: Vec<ApproachAccuracy>,
}

/// One cell of the confusion table: the true company against the inferred one, weighted by
/// the product of the two weights (so each domain adds 1 in total).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    pub approach: Approach,
    /// True company (the ID when it has none; `(none)` for no provider).
    pub truth: String,
    /// Inferred company (the ID when it has none; `(none)` for no provider).
    pub inferred: String,
    pub weight: f64,
}

/// A weighted provider ID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedId {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    pub weight: f64,
}

/// The evidence of one primary exchanger behind a miss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissExchanger {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<LabelSource>,
    pub trail: Vec<TrailStep>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<LabelFlag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// Live addresses of the exchanger.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub live: Vec<std::net::IpAddr>,
}

/// One domain an approach got wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Miss {
    pub approach: Approach,
    pub domain: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    pub truth: Vec<WeightedId>,
    pub inferred: Vec<WeightedId>,
    pub status: LabelStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchangers: Vec<MissExchanger>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Label records read (duplicates included).
    pub labels: u64,
    /// Truth records read (duplicates included).
    pub truth: u64,
    /// Domains in both (the denominator of every accuracy).
    pub compared: u64,
    /// Domains with a label and no truth, sorted.
    pub only_in_labels: Vec<String>,
    /// Domains with truth and no label, sorted.
    pub only_in_truth: Vec<String>,
    /// Domains repeated in the labels (the first record is used).
    pub duplicate_labels: Vec<String>,
    /// Domains repeated in the truth (the first record is used).
    pub duplicate_truth: Vec<String>,
    /// Overall accuracy, in the order of [`APPROACHES`], of the approaches every compared
    /// label carries.
    pub approaches: Vec<ApproachAccuracy>,
    /// Approaches left out of every figure: some compared labels do not carry them (compact
    /// records keep their chosen approach and MX-only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approaches_not_in_labels: Vec<Approach>,
    /// Per hard-case class, by class name.
    pub classes: Vec<ClassAccuracy>,
    /// Confusion by company, every non-zero cell, by approach then weight.
    pub confusion: Vec<Confusion>,
    /// Misses per approach (all of them counted in `approaches`).
    pub misses_total: BTreeMap<String, u64>,
    /// The misses listed (at most `max_misses` per approach), by approach then domain.
    pub misses: Vec<Miss>,
}

fn key(domain: &str) -> String {
    domain.trim_end_matches('.').to_ascii_lowercase()
}

/// The weighted provider IDs an approach gives a domain, as eval scores them: per primary
/// exchanger, the suggested ID when the AS check made one (the report credits it the same
/// way); the exchanger's MX-name ID when a check flagged the claim (`unexpected-as`,
/// `customer-host`: the claimed provider is ruled out, and the MX name is what the method is
/// left with; the report lists such weight in its `flagged` row); otherwise the ID. IDs are
/// then named by their certificate group (`alias`), so `outlook.com` and `mx.microsoft`,
/// joined on one certificate, count as one provider.
fn inferred(
    l: &DomainLabel,
    res: &ApproachResult,
    alias: &HashMap<String, String>,
) -> Vec<WeightedId> {
    let mx: &[ExchangerResult] = l
        .approaches
        .mx_only
        .as_ref()
        .map_or(&[], |r| r.exchangers.as_slice());
    let mut out: Vec<WeightedId> = Vec::new();
    let mut push = |id: &str, company: Option<&String>, weight: f64| {
        let id = canonical(id, alias);
        match out.iter_mut().find(|w| w.id == id) {
            Some(w) => w.weight += weight,
            None => out.push(WeightedId {
                id,
                company: company.cloned(),
                weight,
            }),
        }
    };
    if res.exchangers.is_empty() {
        // Records without per-exchanger results (hand-written or older files).
        for p in &res.providers {
            push(&p.id, p.company.as_ref(), p.weight);
        }
        return out;
    }
    for (i, r) in res.exchangers.iter().enumerate() {
        let Some(id) = &r.id else { continue };
        if r.weight <= 0.0 {
            continue;
        }
        let refuted = r
            .flags
            .iter()
            .any(|f| matches!(f, LabelFlag::UnexpectedAs | LabelFlag::CustomerHost));
        if let Some(s) = &r.suggestion {
            push(s, r.suggested_company.as_ref(), r.weight);
        } else if refuted {
            match mx.get(i).and_then(|m| m.id.as_ref().map(|id| (id, m))) {
                Some((mid, m)) => push(mid, m.company.as_ref(), r.weight),
                None => push(id, r.company.as_ref(), r.weight),
            }
        } else {
            push(id, r.company.as_ref(), r.weight);
        }
    }
    out
}

/// The ID lower-cased and named by its certificate group.
fn canonical(id: &str, alias: &HashMap<String, String>) -> String {
    let id = id.to_ascii_lowercase();
    match alias.get(&id) {
        Some(g) => g.clone(),
        None => id,
    }
}

fn truth_ids(t: &Truth, alias: &HashMap<String, String>) -> Vec<WeightedId> {
    let mut out: Vec<WeightedId> = Vec::new();
    for p in &t.providers {
        let id = canonical(&p.id, alias);
        match out.iter_mut().find(|w| w.id == id) {
            Some(w) => w.weight += p.weight,
            None => out.push(WeightedId {
                id,
                company: p.company.clone(),
                weight: p.weight,
            }),
        }
    }
    out
}

/// Whether two weighted ID sets are equal: same IDs, weights within [`WEIGHT_TOLERANCE`].
pub fn same_providers(a: &[WeightedId], b: &[WeightedId]) -> bool {
    a.len() == b.len()
        && a.iter().all(|x| {
            b.iter()
                .any(|y| y.id == x.id && (y.weight - x.weight).abs() <= WEIGHT_TOLERANCE + 1e-9)
        })
}

/// The weights summed per company (lower-cased; the ID when there is none).
fn by_company(v: &[WeightedId]) -> Vec<WeightedId> {
    let mut out: Vec<WeightedId> = Vec::new();
    for w in v {
        let id = company_name(w).to_lowercase();
        match out.iter_mut().find(|x| x.id == id) {
            Some(x) => x.weight += w.weight,
            None => out.push(WeightedId {
                id,
                company: None,
                weight: w.weight,
            }),
        }
    }
    out
}

fn company_name(w: &WeightedId) -> String {
    w.company.clone().unwrap_or_else(|| w.id.clone())
}

fn ratio(c: u64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { c as f64 / n as f64 }
}

/// Streams label records against the truth (held in memory; labels are not kept).
pub struct Evaluator {
    tmap: HashMap<String, Truth>,
    truth_n: u64,
    duplicate_truth: Vec<String>,
    max_misses: usize,
    labels_n: u64,
    seen: HashSet<String>,
    duplicate_labels: Vec<String>,
    only_in_labels: Vec<String>,
    compared: u64,
    correct: [u64; 4],
    company_correct: [u64; 4],
    classes: BTreeMap<String, (u64, [u64; 4], [u64; 4])>,
    confusion: BTreeMap<(usize, String, String), f64>,
    misses_total: [u64; 4],
    /// Compared labels without the approach (compact records).
    absent: [u64; 4],
    misses: Vec<Miss>,
    /// Member registered domain -> its certificate group's ID (groups of two or more).
    alias: HashMap<String, String>,
}

impl Evaluator {
    /// Takes the truth; at most `max_misses` misses per approach are listed.
    pub fn new(truth: impl IntoIterator<Item = Truth>, max_misses: usize) -> Self {
        let mut tmap: HashMap<String, Truth> = HashMap::new();
        let mut duplicate_truth = Vec::new();
        let mut truth_n = 0;
        for t in truth {
            truth_n += 1;
            let k = key(&t.domain);
            match tmap.entry(k) {
                std::collections::hash_map::Entry::Occupied(_) => {
                    duplicate_truth.push(t.domain.clone())
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(t);
                }
            }
        }
        Evaluator {
            tmap,
            truth_n,
            duplicate_truth,
            max_misses,
            labels_n: 0,
            seen: HashSet::new(),
            duplicate_labels: Vec::new(),
            only_in_labels: Vec::new(),
            compared: 0,
            correct: [0; 4],
            company_correct: [0; 4],
            classes: BTreeMap::new(),
            confusion: BTreeMap::new(),
            misses_total: [0; 4],
            absent: [0; 4],
            misses: Vec::new(),
            alias: HashMap::new(),
        }
    }

    /// Names IDs by the label batch's certificate groups (the `certificate_groups_joined`
    /// list of the label metadata): a member counts as its group's ID, in labels and truth.
    pub fn with_groups(mut self, groups: &[mxinfer_label::CertGroup]) -> Self {
        for g in groups {
            for (m, _) in &g.members {
                self.alias
                    .insert(m.to_ascii_lowercase(), g.id.to_ascii_lowercase());
            }
        }
        self
    }

    /// Compares one label record with its truth.
    pub fn add(&mut self, l: &DomainLabel) {
        self.labels_n += 1;
        let k = key(&l.domain);
        if !self.seen.insert(k.clone()) {
            self.duplicate_labels.push(l.domain.clone());
            return;
        }
        let Some(t) = self.tmap.get(&k) else {
            self.only_in_labels.push(l.domain.clone());
            return;
        };
        self.compared += 1;
        let want = truth_ids(t, &self.alias);
        let want_co = by_company(&want);
        for c in &t.classes {
            self.classes.entry(c.clone()).or_default().0 += 1;
        }
        for (ai, a) in APPROACHES.iter().enumerate() {
            let Some(res) = l.approaches.get(*a) else {
                self.absent[ai] += 1;
                continue;
            };
            let got = inferred(l, res, &self.alias);
            if same_providers(&by_company(&got), &want_co) {
                self.company_correct[ai] += 1;
                for c in &t.classes {
                    self.classes.entry(c.clone()).or_default().2[ai] += 1;
                }
            }
            if same_providers(&got, &want) {
                self.correct[ai] += 1;
                for c in &t.classes {
                    self.classes.entry(c.clone()).or_default().1[ai] += 1;
                }
            } else {
                self.misses_total[ai] += 1;
                if (self.misses_total[ai] as usize) <= self.max_misses {
                    self.misses.push(Miss {
                        approach: *a,
                        domain: l.domain.clone(),
                        classes: t.classes.clone(),
                        truth: want.clone(),
                        inferred: got.clone(),
                        status: res.status,
                        exchangers: l
                            .exchangers
                            .iter()
                            .zip(res.exchangers.iter())
                            .map(|(px, r)| MissExchanger {
                                name: px.name.clone(),
                                id: r.id.clone(),
                                source: r.source,
                                trail: r.trail.clone(),
                                flags: r.flags.clone(),
                                suggestion: r.suggestion.clone(),
                                live: px.live.clone(),
                            })
                            .collect(),
                        note: t.note.clone(),
                    });
                }
            }
            let none = [WeightedId {
                id: NONE.to_string(),
                company: None,
                weight: 1.0,
            }];
            let tw: &[WeightedId] = if want.is_empty() { &none } else { &want };
            let gw: &[WeightedId] = if got.is_empty() { &none } else { &got };
            for x in tw {
                for y in gw {
                    *self
                        .confusion
                        .entry((ai, company_name(x), company_name(y)))
                        .or_default() += x.weight * y.weight;
                }
            }
        }
    }

    /// The evaluation.
    pub fn finish(self) -> Evaluation {
        let seen = self.seen;
        let mut only_in_truth: Vec<String> = self
            .tmap
            .iter()
            .filter(|(k, _)| !seen.contains(*k))
            .map(|(_, t)| t.domain.clone())
            .collect();
        only_in_truth.sort();
        let mut only_in_labels = self.only_in_labels;
        only_in_labels.sort();
        let absent = self.absent;
        let kept = |i: usize| absent[i] == 0;
        let acc = |c: &[u64; 4], cc: &[u64; 4], n: u64| -> Vec<ApproachAccuracy> {
            APPROACHES
                .iter()
                .enumerate()
                .filter(|(i, _)| kept(*i))
                .map(|(i, a)| ApproachAccuracy {
                    approach: *a,
                    compared: n,
                    correct: c[i],
                    accuracy: ratio(c[i], n),
                    company_correct: cc[i],
                    company_accuracy: ratio(cc[i], n),
                })
                .collect()
        };
        let pos = |x: Approach| APPROACHES.iter().position(|y| *y == x);
        let mut conf: Vec<Confusion> = self
            .confusion
            .into_iter()
            .filter(|((ai, _, _), w)| *w > 0.0 && kept(*ai))
            .map(|((ai, t, g), w)| Confusion {
                approach: APPROACHES[ai],
                truth: t,
                inferred: g,
                weight: w,
            })
            .collect();
        conf.sort_by(|a, b| {
            pos(a.approach)
                .cmp(&pos(b.approach))
                .then(b.weight.total_cmp(&a.weight))
                .then(a.truth.cmp(&b.truth))
                .then(a.inferred.cmp(&b.inferred))
        });
        let mut misses = self.misses;
        misses.sort_by(|a, b| {
            pos(a.approach)
                .cmp(&pos(b.approach))
                .then(a.domain.cmp(&b.domain))
        });
        Evaluation {
            labels: self.labels_n,
            truth: self.truth_n,
            compared: self.compared,
            only_in_labels,
            only_in_truth,
            duplicate_labels: self.duplicate_labels,
            duplicate_truth: self.duplicate_truth,
            approaches: acc(&self.correct, &self.company_correct, self.compared),
            approaches_not_in_labels: APPROACHES
                .iter()
                .enumerate()
                .filter(|(i, _)| !kept(*i))
                .map(|(_, a)| *a)
                .collect(),
            classes: self
                .classes
                .into_iter()
                .map(|(class, (n, c, cc))| ClassAccuracy {
                    class,
                    domains: n,
                    approaches: acc(&c, &cc, n),
                })
                .collect(),
            confusion: conf,
            misses_total: APPROACHES
                .iter()
                .enumerate()
                .filter(|(i, _)| kept(*i))
                .map(|(i, a)| (a.as_str().to_string(), self.misses_total[i]))
                .collect(),
            misses,
        }
    }
}

/// Evaluates `labels` against `truth` (convenience over [`Evaluator`]).
pub fn evaluate<'a>(
    labels: impl IntoIterator<Item = &'a DomainLabel>,
    truth: impl IntoIterator<Item = Truth>,
    max_misses: usize,
) -> Evaluation {
    let mut e = Evaluator::new(truth, max_misses);
    for l in labels {
        e.add(l);
    }
    e.finish()
}
