//! The label stage's tables: companies (provider IDs, expected origin ASes, suggestions,
//! customer-host patterns), banner aliases and DNSBL operator names. All facts live in
//! `data/` (embedded into the binary; `--companies FILE` replaces the companies table).
//!
//! Name patterns are lower-case globs: `*` matches any run of characters within one label
//! (no `.`), `**` any run including dots, every other character itself.

use crate::DataError;
use serde::Deserialize;
use std::collections::HashMap;

pub const EMBEDDED_COMPANIES: &str = include_str!("../../../data/companies.toml");
pub const EMBEDDED_ALIASES: &str = include_str!("../../../data/banner-aliases.toml");
pub const EMBEDDED_DNSBL: &str = include_str!("../../../data/dnsbl-operators.txt");

/// Where a customer-host pattern is applied (METHOD.md 7 checks 2 and 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatternScope {
    Banner,
    Certificate,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerHostFile {
    pattern: String,
    #[serde(default)]
    except: Vec<String>,
    #[serde(default = "both_scopes")]
    applies_to: Vec<PatternScope>,
    #[serde(default)]
    evidence: String,
}

fn both_scopes() -> Vec<PatternScope> {
    vec![PatternScope::Banner, PatternScope::Certificate]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompanyFile {
    name: String,
    ids: Vec<String>,
    #[serde(default)]
    asns: Vec<u32>,
    /// Suggest this ID when every address with a known AS is inside this company's ASes.
    #[serde(default)]
    suggest_id: Option<String>,
    #[serde(default)]
    customer_host: Vec<CustomerHostFile>,
    evidence: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompaniesFile {
    company: Vec<CompanyFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasFile {
    token: String,
    id: String,
    #[serde(default)]
    evidence: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasesFile {
    alias: Vec<AliasFile>,
}

/// One customer-host pattern.
#[derive(Debug, Clone)]
pub struct CustomerHost {
    pub pattern: String,
    pub except: Vec<String>,
    pub scopes: Vec<PatternScope>,
}

impl CustomerHost {
    /// Whether `name` looks like a customer server under this pattern in `scope`.
    pub fn matches(&self, name: &str, scope: PatternScope) -> bool {
        self.scopes.contains(&scope)
            && glob_match(&self.pattern, name)
            && !self.except.iter().any(|e| glob_match(e, name))
    }
}

/// One company of the mapping.
#[derive(Debug, Clone)]
pub struct Company {
    pub name: String,
    pub asns: Vec<u32>,
    pub suggest_id: Option<String>,
    pub customer_hosts: Vec<CustomerHost>,
}

impl Company {
    pub fn has_asn(&self, asn: u32) -> bool {
        self.asns.contains(&asn)
    }
}

/// All tables of the label stage.
#[derive(Debug, Clone)]
pub struct LabelData {
    pub companies: Vec<Company>,
    exact: HashMap<String, usize>,
    globs: Vec<(String, usize)>,
    aliases: Vec<(String, String)>,
    /// DNSBL operator names, each stored as `.name.`.
    dnsbl: Vec<String>,
}

/// Index of a company in [`LabelData::companies`].
pub type CompanyIdx = usize;

impl LabelData {
    /// The embedded tables.
    pub fn embedded() -> LabelData {
        LabelData::parse(EMBEDDED_COMPANIES, EMBEDDED_ALIASES, EMBEDDED_DNSBL)
            .expect("the embedded label tables parse")
    }

    /// Parses the three tables (companies TOML, aliases TOML, DNSBL names one per line).
    pub fn parse(companies: &str, aliases: &str, dnsbl: &str) -> Result<LabelData, DataError> {
        let cf: CompaniesFile = toml::from_str(companies).map_err(|source| DataError::Toml {
            table: "companies",
            source,
        })?;
        let af: AliasesFile = toml::from_str(aliases).map_err(|source| DataError::Toml {
            table: "banner-alias",
            source,
        })?;
        let mut exact = HashMap::new();
        let mut globs = Vec::new();
        let mut out = Vec::new();
        for (i, c) in cf.company.into_iter().enumerate() {
            if c.evidence.trim().is_empty() {
                return Err(DataError::Companies(format!("{} has no evidence", c.name)));
            }
            for id in &c.ids {
                let id = id.to_ascii_lowercase();
                if id.contains('*') {
                    globs.push((id, i));
                } else if let Some(prev) = exact.insert(id.clone(), i) {
                    return Err(DataError::Companies(format!(
                        "{id} is listed twice (entries {prev} and {i})"
                    )));
                }
            }
            if let Some(s) = &c.suggest_id
                && !c.ids.iter().any(|i| i.eq_ignore_ascii_case(s))
            {
                return Err(DataError::Companies(format!(
                    "{}: suggest_id {s} is not one of its ids",
                    c.name
                )));
            }
            out.push(Company {
                name: c.name,
                asns: c.asns,
                suggest_id: c.suggest_id.map(|s| s.to_ascii_lowercase()),
                customer_hosts: c
                    .customer_host
                    .into_iter()
                    .map(|h| {
                        let _ = h.evidence;
                        CustomerHost {
                            pattern: h.pattern.to_ascii_lowercase(),
                            except: h.except.iter().map(|e| e.to_ascii_lowercase()).collect(),
                            scopes: h.applies_to,
                        }
                    })
                    .collect(),
            });
        }
        let aliases = af
            .alias
            .into_iter()
            .map(|a| {
                let _ = a.evidence;
                (a.token.to_ascii_lowercase(), a.id.to_ascii_lowercase())
            })
            .collect();
        let dnsbl = dnsbl
            .lines()
            .map(|l| {
                l.split('#')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|l| !l.is_empty())
            .map(|l| format!(".{l}."))
            .collect();
        Ok(LabelData {
            companies: out,
            exact,
            globs,
            aliases,
            dnsbl,
        })
    }

    /// Replaces the companies table (from `--companies FILE`).
    pub fn with_companies(self, companies: &str) -> Result<LabelData, DataError> {
        let mut d = LabelData::parse(companies, "alias = []", "")?;
        d.aliases = self.aliases;
        d.dnsbl = self.dnsbl;
        Ok(d)
    }

    /// The company of a provider ID.
    pub fn company_of(&self, id: &str) -> Option<CompanyIdx> {
        if let Some(&i) = self.exact.get(id) {
            return Some(i);
        }
        self.globs
            .iter()
            .find(|(g, _)| glob_match(g, id))
            .map(|&(_, i)| i)
    }

    /// The provider ID of a bare banner token (METHOD.md 5 step 3).
    pub fn alias(&self, token: &str) -> Option<&str> {
        self.aliases
            .iter()
            .find(|(g, _)| glob_match(g, token))
            .map(|(_, id)| id.as_str())
    }

    /// Whether a host name belongs to a blocklist operator (METHOD.md 5 step 5).
    pub fn is_dnsbl(&self, name: &str) -> bool {
        // Each operator is stored as `.op.`: a name matches when `.name.` contains it.
        self.dnsbl.iter().any(|dotted| {
            let inner = &dotted[1..dotted.len() - 1];
            name == inner
                || name.strip_suffix(inner).is_some_and(|h| h.ends_with('.'))
                || name.contains(dotted.as_str())
        })
    }

    pub fn company_count(&self) -> usize {
        self.companies.len()
    }
}

/// Lower-case glob match: `*` within a label, `**` across labels.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    glob_bytes(pattern.as_bytes(), name.as_bytes())
}

fn glob_bytes(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') => {
            let (across, rest) = if p.get(1) == Some(&b'*') {
                (true, &p[2..])
            } else {
                (false, &p[1..])
            };
            for i in 0..=s.len() {
                if glob_bytes(rest, &s[i..]) {
                    return true;
                }
                if i < s.len() && !across && s[i] == b'.' {
                    return false;
                }
            }
            false
        }
        Some(&c) => s.first() == Some(&c) && glob_bytes(&p[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_table() {
        let cases: &[(&str, &str, &str, bool)] = &[
            ("star within a label", "bosimpinc*", "bosimpinc12", true),
            (
                "star stops at a dot",
                "s*.example.net",
                "s1.x.example.net",
                false,
            ),
            (
                "double star crosses dots",
                "**.example.com",
                "a.b.example.com",
                true,
            ),
            (
                "double star needs the dot",
                "**.example.com",
                "example.com",
                false,
            ),
            ("literal", "mx.example.com", "mx.example.com", true),
            (
                "dashes",
                "s*-*-*-*.example.net",
                "s1-2-3-4.example.net",
                true,
            ),
            ("tld glob", "example.*", "example.co", true),
        ];
        for (what, p, s, want) in cases {
            assert_eq!(glob_match(p, s), *want, "{what}: {p} vs {s}");
        }
    }

    #[test]
    fn embedded_tables_parse() {
        let d = LabelData::embedded();
        assert!(d.company_count() > 30);
        assert!(d.is_dnsbl("zen.spamhaus.org"));
        assert!(!d.is_dnsbl("mx.example.com"));
    }

    #[test]
    fn companies_need_evidence_and_unique_ids() {
        let no_evidence = "[[company]]\nname = \"A\"\nids = [\"a.example\"]\nevidence = \"\"\n";
        assert!(LabelData::parse(no_evidence, "alias = []", "").is_err());
        let twice = "[[company]]\nname = \"A\"\nids = [\"a.example\"]\nevidence = \"x\"\n\
                     [[company]]\nname = \"B\"\nids = [\"a.example\"]\nevidence = \"x\"\n";
        assert!(LabelData::parse(twice, "alias = []", "").is_err());
    }
}
