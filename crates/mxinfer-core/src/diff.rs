//! `mxinfer diff OLD NEW`: provider changes between two label snapshots (no network).
//!
//! Each domain is a distribution of weight 1 over *keys*: the credit of each exchanger's share
//! as the share report counts it (company, or provider ID with `--by provider`; the suggested
//! company; `flagged`), with two additions so that every domain is somewhere: a share whose ID
//! is the domain's own registered domain is keyed `self-hosted`, and a domain with no credited
//! provider is keyed by its status in parentheses (`(null-mx)`, `(dns-failed)`,
//! `(no-smtp-evidence)` unless `--credit-no-smtp`, …).
//!
//! The from-to matrix is weighted: for a domain in both snapshots, the weight each key keeps
//! (the smaller of its old and new weight) stays on the diagonal, and the rest moves from the
//! keys that lost weight to the keys that gained it, in proportion to the gains. A domain that
//! moved from self-hosted to Microsoft adds 1 to (self-hosted, Microsoft); a domain that went
//! from Google 1/2 + Proofpoint 1/2 to Google 1 adds 1/2 to (Google, Google) and 1/2 to
//! (Proofpoint, Google). Domains only in NEW are *appeared*, only in OLD *disappeared*; a
//! *migration* is a domain in both whose distribution changed (by more than 0.001 on a key).

use crate::report::{GroupBy, RowKind, credit_of};
use mxinfer_record::{Approach, DomainLabel, LabelStatus};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Key of shares whose ID is the domain's own registered domain.
pub const SELF_HOSTED: &str = "self-hosted";
/// Weights below this are noise from the split arithmetic.
const EPS: f64 = 1e-3;

/// Options of a diff.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    pub by: GroupBy,
    pub approach: Option<Approach>,
    pub credit_no_smtp: bool,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            by: GroupBy::Company,
            approach: None,
            credit_no_smtp: false,
        }
    }
}

/// A domain's distribution over keys (sorted by key).
pub type Dist = Vec<(String, f64)>;

/// The keys and weights of one label (see the module docs).
pub fn distribution(
    l: &DomainLabel,
    o: &DiffOptions,
) -> Result<Dist, mxinfer_record::MissingApproach> {
    let res = l.result(o.approach.unwrap_or(l.approach))?;
    let credited = !res.providers.is_empty()
        && (res.status != LabelStatus::NoSmtpEvidence || o.credit_no_smtp);
    let mut m: BTreeMap<String, f64> = BTreeMap::new();
    if credited {
        for e in &res.exchangers {
            let Some((kind, name)) = credit_of(e, o.by) else {
                continue;
            };
            let key = if e.self_hosted && kind == RowKind::Credit && e.suggestion.is_none() {
                SELF_HOSTED.to_string()
            } else {
                name
            };
            *m.entry(key).or_default() += e.weight;
        }
    }
    if m.is_empty() {
        m.insert(format!("({})", res.status.as_str()), 1.0);
    }
    Ok(m.into_iter().collect())
}

/// One cell of the from-to matrix.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub weight: f64,
}

/// One domain whose distribution changed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Migration {
    pub domain: String,
    pub from: Dist,
    pub to: Dist,
}

/// A domain present in one snapshot only.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OneSided {
    pub domain: String,
    pub keys: Dist,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub by: GroupBy,
    pub old_domains: u64,
    pub new_domains: u64,
    pub common: u64,
    /// Domains in both whose distribution did not change.
    pub unchanged: u64,
    /// Every non-zero cell, diagonal included, by weight (largest first).
    pub matrix: Vec<Flow>,
    /// Weight per key in OLD and NEW over all domains of each (appeared and disappeared
    /// included).
    pub old_totals: BTreeMap<String, f64>,
    pub new_totals: BTreeMap<String, f64>,
    pub appeared: Vec<OneSided>,
    pub disappeared: Vec<OneSided>,
    pub migrations: Vec<Migration>,
}

fn same(a: &Dist, b: &Dist) -> bool {
    let mut keys: Vec<&String> = a.iter().chain(b.iter()).map(|(k, _)| k).collect();
    keys.sort();
    keys.dedup();
    let w = |d: &Dist, k: &String| d.iter().find(|(x, _)| x == k).map_or(0.0, |(_, w)| *w);
    keys.iter().all(|k| (w(a, k) - w(b, k)).abs() <= EPS)
}

/// The flows of one domain from `old` to `new` (module docs).
pub fn flows(old: &Dist, new: &Dist) -> Vec<Flow> {
    let w = |d: &Dist, k: &str| d.iter().find(|(x, _)| x == k).map_or(0.0, |(_, w)| *w);
    let mut out = Vec::new();
    let mut lost: Vec<(String, f64)> = Vec::new();
    let mut gained: Vec<(String, f64)> = Vec::new();
    for (k, ow) in old {
        let stay = ow.min(w(new, k));
        if stay > 0.0 {
            out.push(Flow {
                from: k.clone(),
                to: k.clone(),
                weight: stay,
            });
        }
        if ow - stay > 0.0 {
            lost.push((k.clone(), ow - stay));
        }
    }
    for (k, nw) in new {
        let g = nw - nw.min(w(old, k));
        if g > 0.0 {
            gained.push((k.clone(), g));
        }
    }
    let total_gain: f64 = gained.iter().map(|g| g.1).sum();
    if total_gain > 0.0 {
        for (lk, lw) in &lost {
            for (gk, gw) in &gained {
                out.push(Flow {
                    from: lk.clone(),
                    to: gk.clone(),
                    weight: lw * gw / total_gain,
                });
            }
        }
    }
    out
}

/// Compares two snapshots (labels in any order; a domain repeated within one snapshot
/// counts once, its first record).
///
/// A label without the approach compared (a compact record: see
/// [`mxinfer_record::DomainLabel::compact`]) is an error.
pub fn diff(
    old: &[DomainLabel],
    new: &[DomainLabel],
    o: &DiffOptions,
) -> Result<Diff, mxinfer_record::MissingApproach> {
    type Dists = (Vec<String>, HashMap<String, Dist>);
    let dist_map = |ls: &[DomainLabel]| -> Result<Dists, mxinfer_record::MissingApproach> {
        let mut order = Vec::new();
        let mut m = HashMap::new();
        for l in ls {
            let key = l.domain.trim_end_matches('.').to_ascii_lowercase();
            if let std::collections::hash_map::Entry::Vacant(v) = m.entry(key.clone()) {
                order.push(key);
                v.insert(distribution(l, o)?);
            }
        }
        Ok((order, m))
    };
    let (old_order, om) = dist_map(old)?;
    let (new_order, nm) = dist_map(new)?;
    let totals = |m: &HashMap<String, Dist>| {
        let mut t: BTreeMap<String, f64> = BTreeMap::new();
        for d in m.values() {
            for (k, w) in d {
                *t.entry(k.clone()).or_default() += w;
            }
        }
        t
    };
    let mut cells: HashMap<(String, String), f64> = HashMap::new();
    let mut migrations = Vec::new();
    let mut disappeared = Vec::new();
    let (mut common, mut unchanged) = (0u64, 0u64);
    for dom in &old_order {
        let od = &om[dom];
        match nm.get(dom) {
            None => disappeared.push(OneSided {
                domain: dom.clone(),
                keys: od.clone(),
            }),
            Some(nd) => {
                common += 1;
                for f in flows(od, nd) {
                    *cells.entry((f.from, f.to)).or_default() += f.weight;
                }
                if same(od, nd) {
                    unchanged += 1;
                } else {
                    migrations.push(Migration {
                        domain: dom.clone(),
                        from: od.clone(),
                        to: nd.clone(),
                    });
                }
            }
        }
    }
    let appeared: Vec<OneSided> = new_order
        .iter()
        .filter(|d| !om.contains_key(*d))
        .map(|d| OneSided {
            domain: d.clone(),
            keys: nm[d].clone(),
        })
        .collect();
    let mut matrix: Vec<Flow> = cells
        .into_iter()
        .filter(|(_, w)| *w > 1e-9)
        .map(|((from, to), weight)| Flow { from, to, weight })
        .collect();
    matrix.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.from.cmp(&b.from))
            .then_with(|| a.to.cmp(&b.to))
    });
    migrations.sort_by(|a, b| a.domain.cmp(&b.domain));
    Ok(Diff {
        by: o.by,
        old_domains: om.len() as u64,
        new_domains: nm.len() as u64,
        common,
        unchanged,
        matrix,
        old_totals: totals(&om),
        new_totals: totals(&nm),
        appeared,
        disappeared,
        migrations,
    })
}

fn fmt_w(w: f64) -> String {
    if (w - w.round()).abs() < 1e-9 {
        format!("{}", w.round() as i64)
    } else {
        format!("{w:.2}")
    }
}

fn fmt_dist(d: &Dist) -> String {
    d.iter()
        .map(|(k, w)| {
            if (w - 1.0).abs() < 1e-9 {
                k.clone()
            } else {
                format!("{k} {w:.2}")
            }
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Text or Markdown rendering: counts, the largest moves, the matrix of the `top` keys (the
/// others summed into `other`), appeared and disappeared per key, and at most `max_list`
/// migrations.
pub fn render(d: &Diff, markdown: bool, top: usize, max_list: usize) -> String {
    let mut s = String::new();
    let h = |s: &mut String, t: &str| {
        if markdown {
            s.push_str(&format!("\n## {t}\n\n"));
        } else {
            s.push_str(&format!("\n{t}\n{}\n", "-".repeat(t.chars().count())));
        }
    };
    let table = |s: &mut String, head: &[String], rows: &[Vec<String>]| {
        if markdown {
            s.push_str(&format!("| {} |\n", head.join(" | ")));
            s.push_str(&format!(
                "|{}\n",
                head.iter()
                    .enumerate()
                    .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
                    .collect::<String>()
            ));
            for r in rows {
                s.push_str(&format!("| {} |\n", r.join(" | ")));
            }
        } else {
            let n = head.len();
            let mut wd = vec![0usize; n];
            for r in std::iter::once(head).chain(rows.iter().map(|r| r.as_slice())) {
                for (i, c) in r.iter().enumerate() {
                    wd[i] = wd[i].max(c.chars().count());
                }
            }
            for r in std::iter::once(head).chain(rows.iter().map(|r| r.as_slice())) {
                let line: Vec<String> = r
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i == 0 {
                            format!("{c:<w$}", w = wd[i])
                        } else {
                            format!("{c:>w$}", w = wd[i])
                        }
                    })
                    .collect();
                s.push_str(line.join("  ").trim_end());
                s.push('\n');
            }
        }
    };
    if markdown {
        s.push_str("# Provider changes between two snapshots\n\n");
    } else {
        s.push_str("Provider changes between two snapshots\n");
    }
    s.push_str(&format!(
        "{}old: {} domains; new: {} domains; in both: {} ({} unchanged, {} changed); \
         appeared: {}; disappeared: {}. Weights are domain shares (split over equal-preference \
         exchangers); keys by {}.\n",
        if markdown { "" } else { "\n" },
        d.old_domains,
        d.new_domains,
        d.common,
        d.unchanged,
        d.migrations.len(),
        d.appeared.len(),
        d.disappeared.len(),
        match d.by {
            GroupBy::Company => "company",
            GroupBy::Provider => "provider ID",
        }
    ));
    h(&mut s, "Largest moves (from -> to)");
    let moves: Vec<Vec<String>> = d
        .matrix
        .iter()
        .filter(|f| f.from != f.to)
        .take(top.max(1) * 2)
        .map(|f| vec![f.from.clone(), f.to.clone(), fmt_w(f.weight)])
        .collect();
    if moves.is_empty() {
        s.push_str("(none)\n");
    } else {
        table(
            &mut s,
            &["from".into(), "to".into(), "domains".into()],
            &moves,
        );
    }
    // The matrix over the `top` keys by combined weight.
    let mut weight: HashMap<&str, f64> = HashMap::new();
    for f in &d.matrix {
        *weight.entry(&f.from).or_default() += f.weight;
        *weight.entry(&f.to).or_default() += f.weight;
    }
    let mut keys: Vec<&str> = weight.keys().copied().collect();
    keys.sort_by(|a, b| weight[b].total_cmp(&weight[a]).then_with(|| a.cmp(b)));
    let folded = top > 0 && keys.len() > top;
    if folded {
        keys.truncate(top);
    }
    let col = |k: &str| -> String {
        if keys.contains(&k) {
            k.to_string()
        } else {
            "other".to_string()
        }
    };
    let mut names: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    if folded {
        names.push("other".into());
    }
    let mut grid: HashMap<(String, String), f64> = HashMap::new();
    for f in &d.matrix {
        *grid.entry((col(&f.from), col(&f.to))).or_default() += f.weight;
    }
    h(
        &mut s,
        "From-to matrix (rows: old, columns: new; domains in both)",
    );
    let mut head = vec!["old \\ new".to_string()];
    head.extend(names.iter().cloned());
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|r| {
            let mut row = vec![r.clone()];
            for c in &names {
                row.push(
                    grid.get(&(r.clone(), c.clone()))
                        .map_or(String::new(), |w| fmt_w(*w)),
                );
            }
            row
        })
        .collect();
    if rows.is_empty() {
        s.push_str("(no domain in both snapshots)\n");
    } else {
        table(&mut s, &head, &rows);
    }
    let one_sided = |s: &mut String, title: &str, v: &[OneSided]| {
        h(s, title);
        let mut by: BTreeMap<&str, f64> = BTreeMap::new();
        for o in v {
            for (k, w) in &o.keys {
                *by.entry(k).or_default() += w;
            }
        }
        let mut rows: Vec<(&str, f64)> = by.into_iter().collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        if rows.is_empty() {
            s.push_str("(none)\n");
        } else {
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|(k, w)| vec![k.to_string(), fmt_w(w)])
                .collect();
            table(s, &["key".into(), "domains".into()], &rows);
        }
    };
    one_sided(&mut s, "Appeared (only in new)", &d.appeared);
    one_sided(&mut s, "Disappeared (only in old)", &d.disappeared);
    h(&mut s, "Migrations");
    if d.migrations.is_empty() {
        s.push_str("(none)\n");
    } else {
        let rows: Vec<Vec<String>> = d
            .migrations
            .iter()
            .take(max_list)
            .map(|m| vec![m.domain.clone(), fmt_dist(&m.from), fmt_dist(&m.to)])
            .collect();
        table(
            &mut s,
            &["domain".into(), "from".into(), "to".into()],
            &rows,
        );
        if d.migrations.len() > max_list {
            s.push_str(&format!(
                "\n… and {} more (all are in --format json)\n",
                d.migrations.len() - max_list
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: &[(&str, f64)]) -> Dist {
        v.iter().map(|(k, w)| (k.to_string(), *w)).collect()
    }

    #[test]
    fn flows_keep_the_common_part_on_the_diagonal() {
        let f = flows(
            &d(&[("Google", 0.5), ("Proofpoint", 0.5)]),
            &d(&[("Google", 1.0)]),
        );
        assert_eq!(
            f,
            vec![
                Flow {
                    from: "Google".into(),
                    to: "Google".into(),
                    weight: 0.5
                },
                Flow {
                    from: "Proofpoint".into(),
                    to: "Google".into(),
                    weight: 0.5
                },
            ]
        );
        let f = flows(
            &d(&[(SELF_HOSTED, 1.0)]),
            &d(&[("Microsoft", 0.5), ("Mimecast", 0.5)]),
        );
        assert_eq!(f.len(), 2);
        assert!(
            f.iter()
                .all(|x| x.from == SELF_HOSTED && (x.weight - 0.5).abs() < 1e-12)
        );
        let f = flows(&d(&[("A", 0.5), ("B", 0.5)]), &d(&[("A", 0.5), ("B", 0.5)]));
        assert!(f.iter().all(|x| x.from == x.to));
        let total: f64 = f.iter().map(|x| x.weight).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }
}
