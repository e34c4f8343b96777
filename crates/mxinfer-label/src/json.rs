//! A fast JSON writer for [`DomainLabel`], byte for byte the output of its serde derive
//! (`serde_json::to_writer`), which stays the schema. Why: a label record is about 1.4 KB of
//! mostly fixed keys and plain ASCII names, and serde_json checks every byte of every key and
//! string for escapes; that check alone was a fifth of the stage's instructions at 1M domains.
//! Here keys are written as literals and a string is copied verbatim when no byte needs
//! escaping (otherwise serde_json writes it). Tests compare both writers on many records.

use mxinfer_record::{
    ApproachResult, DomainLabel, ExchangerResult, PrimaryExchanger, ProviderShare,
};
use std::io::Write;

/// Appends one record as JSON (no newline) to `out`.
pub fn write_label(out: &mut Vec<u8>, r: &DomainLabel) {
    out.extend_from_slice(b"{\"domain\":");
    string(out, &r.domain);
    out.extend_from_slice(b",\"input\":");
    // Small and possibly carrying arbitrary text: serde writes it.
    let _ = serde_json::to_writer(&mut *out, &r.input);
    out.extend_from_slice(b",\"status\":");
    plain(out, r.status.as_str());
    out.extend_from_slice(b",\"approach\":");
    plain(out, r.approach.as_str());
    out.extend_from_slice(b",\"dns_status\":");
    plain(out, r.dns_status.as_str());
    if let Some(d) = &r.registered_domain {
        out.extend_from_slice(b",\"registered_domain\":");
        string(out, d);
    }
    if let Some(p) = r.primary_preference {
        let _ = write!(out, ",\"primary_preference\":{p}");
    }
    if !r.dead_preferences.is_empty() {
        out.extend_from_slice(b",\"dead_preferences\":[");
        for (i, p) in r.dead_preferences.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let _ = write!(out, "{p}");
        }
        out.push(b']');
    }
    if !r.exchangers.is_empty() {
        out.extend_from_slice(b",\"exchangers\":[");
        for (i, x) in r.exchangers.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            primary(out, x);
        }
        out.push(b']');
    }
    if !r.providers.is_empty() {
        out.extend_from_slice(b",\"providers\":");
        providers(out, &r.providers);
    }
    if r.self_hosted {
        out.extend_from_slice(b",\"self_hosted\":true");
    }
    out.extend_from_slice(b",\"approaches\":{");
    let mut first = true;
    for (key, res) in [
        ("priority", &r.approaches.priority),
        ("mx_only", &r.approaches.mx_only),
        ("certificate", &r.approaches.certificate),
        ("banner", &r.approaches.banner),
    ] {
        let Some(res) = res else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        let _ = write!(out, "\"{key}\":");
        approach(out, res);
    }
    out.extend_from_slice(b"}}");
}

fn primary(out: &mut Vec<u8>, x: &PrimaryExchanger) {
    out.extend_from_slice(b"{\"name\":");
    string(out, &x.name);
    let _ = write!(out, ",\"preference\":{}", x.preference);
    if !x.live.is_empty() {
        out.extend_from_slice(b",\"live\":[");
        for (i, ip) in x.live.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let _ = write!(out, "\"{ip}\"");
        }
        out.push(b']');
    }
    if x.implicit {
        out.extend_from_slice(b",\"implicit\":true");
    }
    out.push(b'}');
}

fn providers(out: &mut Vec<u8>, ps: &[ProviderShare]) {
    out.push(b'[');
    for (i, p) in ps.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"id\":");
        string(out, &p.id);
        if let Some(c) = &p.company {
            out.extend_from_slice(b",\"company\":");
            string(out, c);
        }
        out.extend_from_slice(b",\"weight\":");
        float(out, p.weight);
        out.extend_from_slice(b",\"credit\":");
        string(out, &p.credit);
        if p.self_hosted {
            out.extend_from_slice(b",\"self_hosted\":true");
        }
        out.push(b'}');
    }
    out.push(b']');
}

fn approach(out: &mut Vec<u8>, a: &ApproachResult) {
    out.extend_from_slice(b"{\"status\":");
    plain(out, a.status.as_str());
    if !a.exchangers.is_empty() {
        out.extend_from_slice(b",\"exchangers\":[");
        for (i, x) in a.exchangers.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            exchanger(out, x);
        }
        out.push(b']');
    }
    if !a.providers.is_empty() {
        out.extend_from_slice(b",\"providers\":");
        providers(out, &a.providers);
    }
    if a.renormalised {
        out.extend_from_slice(b",\"renormalised\":true");
    }
    if a.self_hosted {
        out.extend_from_slice(b",\"self_hosted\":true");
    }
    out.push(b'}');
}

fn exchanger(out: &mut Vec<u8>, x: &ExchangerResult) {
    out.push(b'{');
    let mut first = true;
    let mut key = |out: &mut Vec<u8>, k: &[u8]| {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(k);
    };
    if let Some(id) = &x.id {
        key(out, b"\"id\":");
        string(out, id);
    }
    if let Some(s) = x.source {
        key(out, b"\"source\":");
        plain(out, s.as_str());
    }
    key(out, b"\"trail\":[");
    for (i, t) in x.trail.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(t.source.as_str().as_bytes());
        out.push(b':');
        out.extend_from_slice(t.outcome.as_str().as_bytes());
        out.push(b'"');
    }
    out.push(b']');
    if let Some(s) = x.score {
        key(out, b"\"score\":");
        let _ = write!(out, "{s}");
    }
    if x.checked {
        key(out, b"\"checked\":true");
    }
    if !x.flags.is_empty() {
        key(out, b"\"flags\":[");
        for (i, f) in x.flags.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            plain(out, f.as_str());
        }
        out.push(b']');
    }
    if let Some(s) = &x.suggestion {
        key(out, b"\"suggestion\":");
        string(out, s);
    }
    if let Some(s) = &x.suggested_company {
        key(out, b"\"suggested_company\":");
        string(out, s);
    }
    if let Some(s) = &x.company {
        key(out, b"\"company\":");
        string(out, s);
    }
    key(out, b"\"weight\":");
    float(out, x.weight);
    if x.self_hosted {
        key(out, b"\"self_hosted\":true");
    }
    out.push(b'}');
}

/// A string known to need no escaping (our own enum names).
fn plain(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// Any string: copied when no byte needs escaping, else written by serde_json.
fn string(out: &mut Vec<u8>, s: &str) {
    // Branch-free scan (the compiler vectorises it); names are short and almost never need
    // escaping.
    let needs_escape = s.bytes().fold(false, |acc, b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !needs_escape {
        plain(out, s);
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// A float exactly as serde_json writes it (the common split weights directly).
fn float(out: &mut Vec<u8>, v: f64) {
    if v == 1.0 {
        out.extend_from_slice(b"1.0");
    } else if v == 0.5 {
        out.extend_from_slice(b"0.5");
    } else if v == 0.0 && v.is_sign_positive() {
        out.extend_from_slice(b"0.0");
    } else {
        let _ = serde_json::to_writer(&mut *out, &v);
    }
}
