//! What an SMTP reply says beyond its text.

use mxinfer_record::SmtpReply;

/// EHLO keywords (RFC 5321 4.1.1.1): every line after the first, keyword upper-cased and
/// parameters kept as sent (`SIZE 35882577`). Matching is by keyword, never by substring.
pub fn capabilities(ehlo: &SmtpReply) -> Vec<String> {
    ehlo.lines
        .iter()
        .skip(1)
        .filter_map(|l| {
            let text = l.get(4..)?.trim();
            let mut parts = text.split_whitespace();
            let kw = parts.next()?;
            if !kw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return None;
            }
            let mut out = kw.to_ascii_uppercase();
            for p in parts {
                out.push(' ');
                out.push_str(p);
            }
            Some(out)
        })
        .collect()
}
