//! Banner and EHLO parsing (METHOD.md 5 steps 1 to 7): one reply in, one candidate host
//! name and its provider ID (or why there is none) out.

use super::data::LabelData;
use super::psl::Psl;

/// Characters stripped from both ends of a candidate, and ignored when deciding whether a
/// line is empty.
const STRIP: &[char] = &[':', ',', ';', '!', '.'];

/// What one banner or EHLO reply says about its operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A usable candidate: the host name (or alias token) and its provider ID.
    Usable { name: String, id: String },
    /// A host name without a registered domain (`localhost`, `mail.local`).
    Unusable { name: String },
    /// No candidate at all.
    Nothing,
}

impl Parsed {
    pub fn id(&self) -> Option<&str> {
        match self {
            Parsed::Usable { id, .. } => Some(id),
            _ => None,
        }
    }
    pub fn name(&self) -> Option<&str> {
        match self {
            Parsed::Usable { name, .. } | Parsed::Unusable { name } => Some(name),
            Parsed::Nothing => None,
        }
    }
}

/// Step 4: letters, digits, `-`, `_` labels of 1 to 63 characters, at least two labels, the
/// last alphabetic and at least 2 characters long.
pub fn is_hostname(s: &str) -> bool {
    let mut labels = 0;
    let mut last = "";
    for l in s.split('.') {
        if l.is_empty()
            || l.len() > 63
            || !l
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
        labels += 1;
        last = l;
    }
    labels >= 2 && last.len() >= 2 && last.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Steps 4 to 6 on a stripped, lower-case candidate. `None`: nothing (not a host name, or a
/// blocklist operator).
fn classify(cand: &str, psl: &Psl, data: &LabelData) -> Option<Parsed> {
    if !is_hostname(cand) || data.is_dnsbl(cand) {
        return None;
    }
    Some(match psl.registered(cand) {
        Some(id) => Parsed::Usable {
            name: cand.to_string(),
            id: id.to_string(),
        },
        None => Parsed::Unusable {
            name: cand.to_string(),
        },
    })
}

/// Parses one banner or EHLO reply given as its raw lines (code included).
pub fn parse_reply<S: AsRef<str>>(lines: &[S], psl: &Psl, data: &LabelData) -> Parsed {
    // Step 1: the first line that is not empty after stripping spaces and `:,;!.`.
    let Some(line) = lines.iter().map(|l| l.as_ref()).find(|l| {
        !l.trim_matches(|c: char| c.is_whitespace() || STRIP.contains(&c))
            .is_empty()
    }) else {
        return Parsed::Nothing;
    };
    let line = line.trim_end_matches(['\r', '\n']);
    let b = line.as_bytes();
    // Step 2: a 3-digit code followed by more text.
    let mut candidate: Option<&str> = None;
    if b.len() > 4 && b[..3].iter().all(u8::is_ascii_digit) {
        match b[3] {
            b'-' => {
                let first = line.split(' ').next().unwrap_or("");
                candidate = first.get(4..);
            }
            b' ' => candidate = line.split_whitespace().nth(1),
            _ => {}
        }
    }
    if let Some(c) = candidate {
        let c = c.trim_matches(STRIP).to_ascii_lowercase();
        if !c.is_empty() {
            // Step 3: banner aliases (bare host tokens of known providers).
            if let Some(id) = data.alias(&c) {
                return Parsed::Usable {
                    name: c,
                    id: id.to_string(),
                };
            }
            if let Some(p) = classify(&c, psl, data) {
                return p;
            }
        }
    }
    // Step 7: the last whitespace-separated token of the same line, once.
    if let Some(last) = line.split_whitespace().last() {
        let c = last.trim_matches(STRIP).to_ascii_lowercase();
        if let Some(p) = classify(&c, psl, data) {
            return p;
        }
    }
    Parsed::Nothing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> (Psl, LabelData) {
        let psl = Psl::parse("com\nnet\norg\nco.uk\nuk\nlocal-not-listed\n", false).unwrap();
        let data = LabelData::parse(
            "company = []",
            "[[alias]]\ntoken = \"bosimpinc*\"\nid = \"eigbox.net\"\n",
            "spamhaus.org\nabuseat.org\n",
        )
        .unwrap();
        (psl, data)
    }

    fn usable(name: &str, id: &str) -> Parsed {
        Parsed::Usable {
            name: name.into(),
            id: id.into(),
        }
    }

    #[test]
    fn banner_rules_table() {
        let (psl, data) = fixtures();
        let cases: Vec<(&str, Vec<&str>, Parsed)> = vec![
            (
                "space form: second token",
                vec!["220 mx.google.com ESMTP abc - gsmtp"],
                usable("mx.google.com", "google.com"),
            ),
            (
                "dash form: first token minus the code",
                vec![
                    "250-mx.google.com at your service, [192.0.2.1]",
                    "250 SIZE 1",
                ],
                usable("mx.google.com", "google.com"),
            ),
            (
                "multi-line 220- banner: first line counts",
                vec!["220-mail.example.com ESMTP", "220-second line", "220 ready"],
                usable("mail.example.com", "example.com"),
            ),
            (
                "empty and punctuation-only lines skipped",
                vec!["", "  ..;  ", "220 smtp.example.co.uk ready"],
                usable("smtp.example.co.uk", "example.co.uk"),
            ),
            (
                "stripping :,;!. from both ends",
                vec!["220 mx.example.net: ESMTP"],
                usable("mx.example.net", "example.net"),
            ),
            (
                "upper case is lowered",
                vec!["220 MX.Example.COM ESMTP"],
                usable("mx.example.com", "example.com"),
            ),
            (
                "localhost is not a host name, last token neither",
                vec!["220 localhost ESMTP"],
                Parsed::Nothing,
            ),
            (
                "mail.local has no registered domain: unusable, no fallback",
                vec!["220 mail.local ESMTP Postfix example.com"],
                Parsed::Unusable {
                    name: "mail.local".into(),
                },
            ),
            (
                "last-token fallback",
                vec!["220 ESMTP ready at mx1.example.org"],
                usable("mx1.example.org", "example.org"),
            ),
            (
                "DNSBL rejection text is not an ID",
                vec!["554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org"],
                Parsed::Nothing,
            ),
            (
                "DNSBL name as second token, fallback also DNSBL",
                vec!["554 cbl.abuseat.org listed cbl.abuseat.org"],
                Parsed::Nothing,
            ),
            (
                "banner alias of a bare token",
                vec!["220 bosimpinc12 ESMTP"],
                usable("bosimpinc12", "eigbox.net"),
            ),
            (
                "alias is not used by the last-token fallback",
                vec!["220 ESMTP bosimpinc12"],
                Parsed::Nothing,
            ),
            ("no code", vec!["mx.example.com ESMTP"], Parsed::Nothing),
            (
                "numeric last label is not a host name",
                vec!["220 192.0.2.1 ESMTP"],
                Parsed::Nothing,
            ),
            ("code with no text", vec!["220"], Parsed::Nothing),
            (
                "other 4th character",
                vec!["220_mx.example.com ready"],
                Parsed::Nothing,
            ),
            (
                "dash form with empty first token falls back to the last token",
                vec!["220- welcome to mx.example.com"],
                usable("mx.example.com", "example.com"),
            ),
            (
                "underscore allowed",
                vec!["220 mail_1.example.com ESMTP"],
                usable("mail_1.example.com", "example.com"),
            ),
            (
                "a public suffix itself is unusable",
                vec!["220 co.uk ESMTP"],
                Parsed::Unusable {
                    name: "co.uk".into(),
                },
            ),
        ];
        for (what, lines, want) in cases {
            assert_eq!(parse_reply(&lines, &psl, &data), want, "{what}: {lines:?}");
        }
    }

    #[test]
    fn hostname_rule_table() {
        let cases: &[(&str, bool)] = &[
            ("mx.example.com", true),
            ("a.b", false),
            ("a.bc", true),
            ("a.b2", false),
            ("-x.example.com", true),
            ("x..com", false),
            ("single", false),
            (&"a".repeat(64), false),
        ];
        for (s, want) in cases {
            assert_eq!(is_hostname(s), *want, "{s}");
        }
    }
}
