//! The Public Suffix List: registered domains (public suffix + one label) of host names.
//!
//! A small implementation of the list's algorithm (<https://publicsuffix.org/list/>): normal
//! rules, wildcard rules (`*.kobe.jp`) and exception rules (`!city.kobe.jp`), longest match
//! wins, an exception beats everything. Rules are converted to ASCII (IDNA) at load time;
//! lookups take lower-case ASCII names and return a slice of the name, so no allocation.
//!
//! Why not the `publicsuffix` crate the design card names (not a dependency): the label
//! stage looks up several names per domain over millions of domains, and this lookup borrows its answer from the name (no allocation); it also fixes the two
//! semantic choices below at one place, and the ICANN-only switch is a cut of the list text at
//! load time. The official test vectors run against it (tests/psl_vectors.rs).
//!
//! Two deliberate choices:
//! - The list's own algorithm has an implicit `*` rule: a name under an unlisted TLD
//!   (`mail.local`, `host.lan`) still has a registered domain. Provider IDs must not come from
//!   such names (METHOD.md 5 step 6: `mail.local` is unusable), so [`Psl::registered`] requires
//!   that some rule of the list matched. [`Psl::registered_with_default_rule`] applies the
//!   implicit rule, for the official test vectors.
//! - The private section is used by default (METHOD.md 3); [`Psl::parse`] with `icann_only`
//!   drops it.

use super::hash::HashMap;

const NORMAL: u8 = 1;
/// The key is `X` of a rule `*.X`.
const WILDCARD: u8 = 2;
const EXCEPTION: u8 = 4;

/// The embedded copy of the list (see data/README.md for version and source).
pub const EMBEDDED: &str = include_str!("../../../data/public_suffix_list.dat");

/// A parsed Public Suffix List.
#[derive(Debug, Clone)]
pub struct Psl {
    rules: HashMap<Box<str>, u8>,
    version: Option<String>,
    icann_only: bool,
}

impl Psl {
    /// Parses the list text. With `icann_only`, rules of the private section are skipped.
    pub fn parse(text: &str, icann_only: bool) -> Result<Psl, crate::DataError> {
        let mut rules: HashMap<Box<str>, u8> = HashMap::default();
        let mut private = false;
        let mut version = None;
        for line in text.lines() {
            let line = line.trim();
            if let Some(c) = line.strip_prefix("//") {
                let c = c.trim();
                if c.starts_with("===BEGIN PRIVATE DOMAINS===") {
                    private = true;
                } else if c.starts_with("===END PRIVATE DOMAINS===") {
                    private = false;
                } else if let Some(v) = c.strip_prefix("VERSION:") {
                    version = Some(v.trim().to_string());
                }
                continue;
            }
            // A rule is the first whitespace-separated token of the line.
            let Some(rule) = line.split_whitespace().next() else {
                continue;
            };
            if private && icann_only {
                continue;
            }
            let (kind, body) = if let Some(r) = rule.strip_prefix('!') {
                (EXCEPTION, r)
            } else if let Some(r) = rule.strip_prefix("*.") {
                (WILDCARD, r)
            } else {
                (NORMAL, rule)
            };
            let ascii = idna::domain_to_ascii(body).map_err(|_| crate::DataError::PslRule {
                rule: rule.to_string(),
            })?;
            *rules.entry(ascii.into_boxed_str()).or_default() |= kind;
        }
        if rules.is_empty() {
            return Err(crate::DataError::PslEmpty);
        }
        Ok(Psl {
            rules,
            version,
            icann_only,
        })
    }

    /// The embedded list.
    pub fn embedded(icann_only: bool) -> Psl {
        Psl::parse(EMBEDDED, icann_only).expect("the embedded public suffix list parses")
    }

    /// The `// VERSION:` line of the list, if it has one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    pub fn icann_only(&self) -> bool {
        self.icann_only
    }

    /// Number of labels of the public suffix of `name`, and whether a rule matched (false:
    /// only the implicit `*` rule applied). `None` for an invalid name (empty label).
    fn suffix_len(&self, name: &str) -> Option<(usize, bool)> {
        if name.is_empty() || name.starts_with('.') || name.ends_with('.') || name.contains("..") {
            return None;
        }
        // Walk the suffixes from the TLD leftwards (`start` of the current suffix, `prev`
        // of the one before), without allocating.
        let mut len = 0usize;
        let mut matched = false;
        let mut start = name.rfind('.').map_or(0, |i| i + 1);
        let mut prev = usize::MAX;
        let mut k = 1;
        loop {
            let suffix = &name[start..];
            let f = self.rules.get(suffix).copied().unwrap_or(0);
            if f & EXCEPTION != 0 {
                return Some((k - 1, true));
            }
            if f & NORMAL != 0 {
                len = len.max(k);
                matched = true;
            }
            if prev != usize::MAX
                && self
                    .rules
                    .get(&name[prev..])
                    .is_some_and(|f| f & WILDCARD != 0)
            {
                len = len.max(k);
                matched = true;
            }
            if start == 0 {
                break;
            }
            prev = start;
            start = name[..start - 1].rfind('.').map_or(0, |i| i + 1);
            k += 1;
        }
        if !matched {
            return Some((1, false));
        }
        Some((len, true))
    }

    fn registered_inner<'a>(&self, name: &'a str, default_rule: bool) -> Option<&'a str> {
        let (len, matched) = self.suffix_len(name)?;
        if !matched && !default_rule {
            return None;
        }
        if len == 0 {
            return None;
        }
        // Keep len + 1 labels from the right.
        let mut idx = name.len();
        for _ in 0..=len {
            if idx == 0 {
                return None; // the name is itself a public suffix (or shorter)
            }
            idx = name[..idx - 1].rfind('.').map_or(0, |i| i + 1);
        }
        Some(&name[idx..])
    }

    /// The registered domain of a lower-case ASCII name, requiring a listed public suffix
    /// (`mail.local` and `localhost` have none). A leading `*.` (certificate wildcard) is
    /// ignored.
    pub fn registered<'a>(&self, name: &'a str) -> Option<&'a str> {
        let name = name.strip_prefix("*.").unwrap_or(name);
        self.registered_inner(name, false)
    }

    /// The registered domain by the list's own algorithm, including its implicit `*` rule.
    pub fn registered_with_default_rule<'a>(&self, name: &'a str) -> Option<&'a str> {
        self.registered_inner(name, true)
    }

    /// Whether `name` is exactly a public suffix by a listed rule.
    pub fn is_public_suffix(&self, name: &str) -> bool {
        matches!(self.suffix_len(name), Some((len, true)) if len == name.split('.').count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Psl {
        Psl::parse(
            "// VERSION: test\ncom\nuk\nco.uk\n*.kobe.jp\njp\n!city.kobe.jp\n\
             // ===BEGIN PRIVATE DOMAINS===\nus-east-1.amazonaws.com\n*.compute-1.amazonaws.com\n\
             // ===END PRIVATE DOMAINS===\n",
            false,
        )
        .unwrap()
    }

    #[test]
    fn registered_domains_table() {
        let psl = small();
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("plain", "mx.example.com", Some("example.com")),
            (
                "two-level suffix",
                "mail.example.co.uk",
                Some("example.co.uk"),
            ),
            ("suffix itself", "co.uk", None),
            ("tld itself", "com", None),
            ("wildcard", "a.b.c.kobe.jp", Some("b.c.kobe.jp")),
            ("wildcard suffix itself", "c.kobe.jp", None),
            ("exception", "www.city.kobe.jp", Some("city.kobe.jp")),
            ("unlisted tld (mail.local)", "mail.local", None),
            ("bare label (localhost)", "localhost", None),
            (
                "private suffix (SES inbound)",
                "inbound-smtp.us-east-1.amazonaws.com",
                Some("inbound-smtp.us-east-1.amazonaws.com"),
            ),
            (
                "private wildcard (EC2 customer)",
                "ec2-1-2-3-4.compute-1.amazonaws.com",
                None,
            ),
            ("certificate wildcard", "*.outlook.com", Some("outlook.com")),
            ("empty label", "a..com", None),
        ];
        for (what, name, want) in cases {
            assert_eq!(psl.registered(name), *want, "{what}: {name}");
        }
    }

    #[test]
    fn icann_only_drops_private_rules() {
        let text = "com\n// ===BEGIN PRIVATE DOMAINS===\nus-east-1.amazonaws.com\n\
                    // ===END PRIVATE DOMAINS===\n";
        let psl = Psl::parse(text, true).unwrap();
        assert_eq!(
            psl.registered("inbound-smtp.us-east-1.amazonaws.com"),
            Some("amazonaws.com")
        );
    }

    #[test]
    fn embedded_list_has_a_version() {
        let psl = Psl::embedded(false);
        assert!(psl.version().is_some());
        assert_eq!(
            psl.registered("aspmx.l.google.com"),
            Some("google.com"),
            "embedded list works"
        );
    }
}
