//! Certificate summaries ([`Certificate`] of the records) and the rule by which a leaf names
//! a host.
//!
//! Name match: the leaf's subjectAltName dNSNames (wildcards only as the whole left-most
//! label, RFC 6125 6.4.3); when the leaf has no dNSName at all, its subject CN, as MTAs
//! commonly accept (browsers do not; the records keep trust and name match apart anyway).

use base64::Engine;
use mxinfer_record::Certificate;
use serde_json::Value;
use sha2::Digest;

use crate::{path, path_str};

fn rfc3339(t: x509_parser::time::ASN1Time) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.to_datetime()
        .to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

/// Summarises one DER certificate. A certificate x509-parser cannot read still gets a record
/// with its DER and fingerprint (`version` 0, `key_type` `unknown`).
pub fn summarize(der: &[u8]) -> Certificate {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let sha = hex::encode(sha2::Sha256::digest(der));
    let parsed = x509_parser::parse_x509_certificate(der);
    let Ok((_, cert)) = parsed else {
        return Certificate {
            der: b64,
            sha256: sha,
            version: 0,
            subject: String::new(),
            subject_cn: None,
            san_dns: Vec::new(),
            issuer: String::new(),
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            key_type: "unknown".into(),
            key_bits: None,
            self_signed: false,
            is_ca: false,
        };
    };
    let subject_cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok().map(str::to_string));
    let mut san_dns = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(d) = n {
                san_dns.push(d.to_string());
            }
        }
    }
    let spki = cert.public_key();
    let (key_type, key_bits) = match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(r)) => ("rsa", Some(r.key_size() as u32)),
        Ok(x509_parser::public_key::PublicKey::EC(ec)) => ("ecdsa", Some(ec.key_size() as u32)),
        Ok(x509_parser::public_key::PublicKey::DSA(_)) => ("dsa", None),
        _ => {
            let oid = spki.algorithm.algorithm.to_id_string();
            match oid.as_str() {
                "1.3.101.112" => ("ed25519", Some(256)),
                "1.3.101.113" => ("ed448", Some(456)),
                _ => ("unknown", None),
            }
        }
    };
    let same_name = cert.subject().as_raw() == cert.issuer().as_raw();
    let self_signed = same_name && cert.verify_signature(None).is_ok();
    let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    Certificate {
        der: b64,
        sha256: sha,
        version: (cert.version().0 + 1) as u8,
        subject: cert.subject().to_string(),
        subject_cn,
        san_dns,
        issuer: cert.issuer().to_string(),
        serial: hex::encode(cert.raw_serial()),
        not_before: rfc3339(cert.validity().not_before),
        not_after: rfc3339(cert.validity().not_after),
        key_type: key_type.into(),
        key_bits,
        self_signed,
        is_ca,
    }
}

/// A certificate summary from parsed fields only (datasets without the DER): names, DNs,
/// validity and fingerprint; `der` empty, `version` as given (3 when absent).
pub fn cert_from_parsed(parsed: &Value, fingerprint: Option<&str>) -> Certificate {
    let strs = |p: &str| -> Vec<String> {
        match path(parsed, p) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let subject_cn = strs("subject.common_name").into_iter().next();
    let subject = path_str(parsed, "subject_dn")
        .unwrap_or_default()
        .to_string();
    let issuer = path_str(parsed, "issuer_dn")
        .unwrap_or_default()
        .to_string();
    Certificate {
        der: String::new(),
        sha256: fingerprint
            .or_else(|| path_str(parsed, "fingerprint_sha256"))
            .unwrap_or_default()
            .to_ascii_lowercase(),
        version: path(parsed, "version")
            .and_then(Value::as_u64)
            .map_or(3, |v| v.min(3) as u8),
        self_signed: !subject.is_empty() && subject == issuer,
        subject,
        subject_cn,
        san_dns: strs("extensions.subject_alt_name.dns_names"),
        issuer,
        serial: path_str(parsed, "serial_number")
            .unwrap_or_default()
            .to_string(),
        not_before: path_str(parsed, "validity.start")
            .unwrap_or_default()
            .to_string(),
        not_after: path_str(parsed, "validity.end")
            .unwrap_or_default()
            .to_string(),
        key_type: "unknown".into(),
        key_bits: None,
        is_ca: false,
    }
}

/// Whether the leaf names `host` (see the module docs for the rules).
pub fn name_matches(leaf: &Certificate, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
        return false;
    }
    if leaf.san_dns.is_empty() {
        return leaf
            .subject_cn
            .as_deref()
            .is_some_and(|cn| pattern_matches(cn, &host));
    }
    leaf.san_dns.iter().any(|p| pattern_matches(p, &host))
}

fn pattern_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    if let Some(rest) = p.strip_prefix("*.") {
        // The wildcard stands for exactly one whole left-most label.
        match host.split_once('.') {
            Some((first, tail)) => !first.is_empty() && tail == rest && rest.contains('.'),
            None => false,
        }
    } else {
        p == host
    }
}
