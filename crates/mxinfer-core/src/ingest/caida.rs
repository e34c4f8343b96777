//! CAIDA AS-to-organisation (`YYYYMMDD.as-org2info.txt[.gz]` or `.jsonl[.gz]`) -> one JSON
//! line per AS with its organisation, and an audit of the companies table against it.
//!
//! Text layout: two `|`-separated sections, introduced by
//! `# format:org_id|changed|org_name|country|source` and
//! `# format:aut|changed|aut_name|org_id|opaque_id|source`. JSON Lines layout:
//! `{"type":"Organization","organizationId","name","country","source","changed"}` and
//! `{"type":"ASN","asn","name","organizationId","opaqueId","source","changed"}`.
//!
//! How it meets the label stage: origin ASes come from prefix-to-AS data (`label --pfx2as`
//! reads CAIDA RouteViews pfx2as as it is); the companies table lists each company's ASes by
//! hand. The audit ([`audit`]) joins that table with AS-to-organisation: for every company,
//! the organisation of each listed AS, and the other ASes of the same organisations that the
//! table does not list (candidates to review, not added automatically).

use super::IngestStats;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One AS with its organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsOrg {
    pub asn: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
    pub org_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Org {
    name: Option<String>,
    country: Option<String>,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Reads one file (either layout, gzip or not); ASes in file order, each once.
pub fn read(
    path: &std::path::Path,
    stats: &mut IngestStats,
) -> Result<Vec<AsOrg>, super::IngestError> {
    use crate::error::FileContext;
    let name = path.display().to_string();
    let r = crate::jsonl::open(path)?;
    let mut orgs: HashMap<String, Org> = HashMap::new();
    let mut ases: Vec<AsOrg> = Vec::new();
    let mut seen: HashMap<u32, usize> = HashMap::new();
    // Which section of the text layout we are in: 0 none, 1 organisations, 2 ASes.
    let mut section = 0u8;
    for (i, line) in std::io::BufRead::lines(r).enumerate() {
        let n = i as u64 + 1;
        let line = line.file("reading", path)?;
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(fmt) = t.strip_prefix("# format:") {
            section = if fmt.starts_with("org_id|") {
                1
            } else if fmt.starts_with("aut|") {
                2
            } else {
                0
            };
            continue;
        }
        if t.starts_with('#') {
            continue;
        }
        stats.rows += 1;
        let parsed: Result<Option<AsOrg>, String> = if t.starts_with('{') {
            match serde_json::from_str::<serde_json::Value>(t) {
                Err(e) => Err(format!("not JSON: {e}")),
                Ok(v) => {
                    let g = |k: &str| v.get(k).and_then(|x| x.as_str()).and_then(opt);
                    match v.get("type").and_then(|x| x.as_str()) {
                        Some("Organization") => match g("organizationId") {
                            Some(id) => {
                                orgs.insert(
                                    id,
                                    Org {
                                        name: g("name"),
                                        country: g("country"),
                                    },
                                );
                                Ok(None)
                            }
                            None => Err("Organization without organizationId".into()),
                        },
                        Some("ASN") => {
                            let asn = v.get("asn").and_then(|x| {
                                x.as_u64()
                                    .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
                            });
                            match (asn.and_then(|a| u32::try_from(a).ok()), g("organizationId")) {
                                (Some(asn), Some(org_id)) => Ok(Some(AsOrg {
                                    asn,
                                    as_name: g("name"),
                                    org_id,
                                    org_name: None,
                                    country: None,
                                    source: g("source"),
                                    changed: g("changed"),
                                })),
                                _ => Err("ASN record without asn or organizationId".into()),
                            }
                        }
                        _ => Err("no known \"type\"".into()),
                    }
                }
            }
        } else {
            let f: Vec<&str> = t.split('|').collect();
            match section {
                1 if f.len() >= 5 => {
                    orgs.insert(
                        f[0].trim().to_string(),
                        Org {
                            name: opt(f[2]),
                            country: opt(f[3]),
                        },
                    );
                    Ok(None)
                }
                2 if f.len() >= 6 => match f[0].trim().parse::<u32>() {
                    Ok(asn) if opt(f[3]).is_some() => Ok(Some(AsOrg {
                        asn,
                        as_name: opt(f[2]),
                        org_id: f[3].trim().to_string(),
                        org_name: None,
                        country: None,
                        source: opt(f[5]),
                        changed: opt(f[1]),
                    })),
                    _ => Err(format!("bad AS number or empty org_id: {:?}", f[0])),
                },
                0 => Err("data before any `# format:` line".into()),
                _ => Err(format!(
                    "{} fields, expected {}",
                    f.len(),
                    if section == 1 { 5 } else { 6 }
                )),
            }
        };
        match parsed {
            Ok(Some(a)) => match seen.get(&a.asn) {
                Some(&k) => {
                    stats.duplicates += 1;
                    ases[k] = a;
                }
                None => {
                    seen.insert(a.asn, ases.len());
                    ases.push(a);
                }
            },
            Ok(None) => {}
            Err(reason) => stats.malformed(&name, n, reason),
        }
    }
    for a in &mut ases {
        if let Some(o) = orgs.get(&a.org_id) {
            a.org_name = o.name.clone();
            a.country = o.country.clone();
        }
    }
    stats.records += ases.len() as u64;
    Ok(ases)
}

/// One company's ASes as AS-to-organisation sees them.
#[derive(Debug, Clone, Serialize)]
pub struct CompanyAudit {
    pub company: String,
    /// Each listed AS with its organisation (`null`: not in the AS-to-organisation file).
    pub listed: BTreeMap<u32, Option<String>>,
    /// ASes of the same organisations that the companies table does not list.
    pub unlisted_same_org: BTreeMap<u32, String>,
}

/// Joins the companies table with AS-to-organisation (see the module docs).
pub fn audit(data: &mxinfer_label::data::LabelData, ases: &[AsOrg]) -> Vec<CompanyAudit> {
    let by_asn: HashMap<u32, &AsOrg> = ases.iter().map(|a| (a.asn, a)).collect();
    let mut by_org: HashMap<&str, Vec<&AsOrg>> = HashMap::new();
    for a in ases {
        by_org.entry(a.org_id.as_str()).or_default().push(a);
    }
    data.companies
        .iter()
        .map(|c| {
            let mut listed = BTreeMap::new();
            let mut unlisted = BTreeMap::new();
            for asn in &c.asns {
                let a = by_asn.get(asn);
                listed.insert(
                    *asn,
                    a.map(|a| a.org_name.clone().unwrap_or_else(|| a.org_id.clone())),
                );
                if let Some(a) = a {
                    for o in by_org.get(a.org_id.as_str()).into_iter().flatten() {
                        if !c.asns.contains(&o.asn) {
                            unlisted.insert(
                                o.asn,
                                o.org_name.clone().unwrap_or_else(|| o.org_id.clone()),
                            );
                        }
                    }
                }
            }
            CompanyAudit {
                company: c.name.clone(),
                listed,
                unlisted_same_org: unlisted,
            }
        })
        .collect()
}
