//! Censys host exports (JSON Lines, one host per line) -> probe records.
//!
//! Two layouts (docs/ingest.md, ../shared/FORMATS.md):
//! - legacy IPv4 dataset (until Nov 2021, what the IMC 2021 paper used): `ip`,
//!   `autonomous_system.asn`, `p25.smtp.starttls.{banner, ehlo, starttls}`,
//!   `p25.smtp.starttls.tls.{version, cipher_suite.name, certificate.{raw, parsed},
//!   chain[], validation.{browser_trusted, browser_error}}`; nested objects or flattened
//!   dotted column names (BigQuery exports) are both read;
//! - current data model: `ip`, `snapshot_date` / `observed_at`, `services[]` with `port`,
//!   `service_name`, `banner`, `smtp.{ehlo, start_tls}`, `tls.certificates.{leaf_fp_sha_256,
//!   leaf_data.{names, subject.common_name, subject_dn, issuer_dn, fingerprint}}`. Only
//!   port-25 SMTP services are kept (the first per host). This layout carries neither a
//!   trust verdict nor the raw chain, so its certificates count as untrusted with reason
//!   `other` (counted as `trust_unknown`): labels from it use banner, EHLO and MX names.

use super::trust::{DatasetVerdict, TrustSettings, verdict};
use super::{IngestStats, path, path_str, smtp_reply};
use base64::Engine;
use mxinfer_ingest::cert::cert_from_parsed;
use mxinfer_record::{Certificate, HostProbe, ProbeStatus, TlsInfo};
use serde_json::Value;
use std::collections::HashSet;
use std::net::IpAddr;

fn observed(v: &Value) -> (String, Option<time::OffsetDateTime>) {
    for k in [
        "p25.smtp.starttls.timestamp",
        "observed_at",
        "last_updated_at",
        "snapshot_date",
        "updated_at",
    ] {
        if let Some(s) = path_str(v, k)
            && let Some(t) = super::parse_time(s)
        {
            return (s.to_string(), Some(t));
        }
    }
    (String::new(), None)
}

fn finish(
    ip: IpAddr,
    port: u16,
    banner: Option<&str>,
    ehlo: Option<&str>,
    starttls: Option<&str>,
    tls: Option<TlsInfo>,
    started_at: String,
) -> HostProbe {
    let banner = banner.and_then(smtp_reply);
    let ehlo = ehlo.and_then(smtp_reply);
    let starttls = starttls.and_then(smtp_reply);
    let status = if banner.is_none() && ehlo.is_none() && tls.is_none() {
        ProbeStatus::ProtocolError
    } else if tls.is_some() {
        ProbeStatus::Ok
    } else if starttls
        .as_ref()
        .is_some_and(|r| !(200..300).contains(&r.code))
    {
        ProbeStatus::StarttlsRefused
    } else if banner.as_ref().is_some_and(|r| r.code >= 400) {
        ProbeStatus::BannerRejected
    } else {
        ProbeStatus::StarttlsNotOffered
    };
    HostProbe {
        ip,
        port,
        names: Vec::new(),
        status,
        step: None,
        error: (status == ProbeStatus::ProtocolError)
            .then(|| "the host record has no SMTP data".to_string()),
        flags: Vec::new(),
        capabilities: ehlo
            .as_ref()
            .map(crate::probe::reply::capabilities)
            .unwrap_or_default(),
        banner,
        ehlo,
        starttls,
        tls,
        quit: None,
        started_at,
        duration_ms: 0,
        shard: None,
    }
}

fn legacy(
    v: &Value,
    ip: IpAddr,
    trust: &TrustSettings<'_>,
    stats: &mut IngestStats,
) -> Result<Option<HostProbe>, String> {
    let base = "p25.smtp.starttls";
    let get = |k: &str| path_str(v, &format!("{base}.{k}"));
    let (started_at, obs) = observed(v);
    let tls_v = path(v, &format!("{base}.tls")).filter(|t| !t.is_null());
    let tls = match tls_v {
        None => None,
        Some(t) => {
            let mut ders = Vec::new();
            let mut sums: Vec<Certificate> = Vec::new();
            let mut all_raw = true;
            let leaf = path(t, "certificate").filter(|c| !c.is_null());
            let chain = path(t, "chain")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for c in leaf.into_iter().chain(chain.iter()) {
                match c.get("raw").and_then(Value::as_str) {
                    Some(raw) => {
                        let der = base64::engine::general_purpose::STANDARD
                            .decode(raw.trim())
                            .map_err(|e| format!("certificate raw: not base64 ({e})"))?;
                        sums.push(crate::probe::tls::summarize(&der));
                        ders.push(der);
                    }
                    None => {
                        all_raw = false;
                        let parsed = c.get("parsed").unwrap_or(c);
                        sums.push(cert_from_parsed(parsed, None));
                    }
                }
            }
            if !all_raw {
                ders.clear();
            }
            let dataset = path(t, "validation.browser_trusted")
                .and_then(Value::as_bool)
                .map(|trusted| DatasetVerdict {
                    trusted,
                    error: path_str(t, "validation.browser_error").map(str::to_string),
                    matches_domain: None,
                    source: "censys validation.browser_trusted",
                });
            let verdict = verdict(&ders, &sums, &[], dataset, obs, trust, stats);
            Some(TlsInfo {
                stack: "censys".into(),
                established: !sums.is_empty(),
                version: path_str(t, "version").map(str::to_string),
                cipher: path_str(t, "cipher_suite.name").map(str::to_string),
                sni: None,
                chain: sums,
                verdict,
                ehlo: None,
                error: None,
                legacy_retry: None,
            })
        }
    };
    if get("banner").is_none() && get("ehlo").is_none() && tls.is_none() {
        return Ok(None);
    }
    Ok(Some(finish(
        ip,
        25,
        get("banner"),
        get("ehlo"),
        get("starttls"),
        tls,
        started_at,
    )))
}

fn current(
    v: &Value,
    ip: IpAddr,
    trust: &TrustSettings<'_>,
    stats: &mut IngestStats,
) -> Result<Option<HostProbe>, String> {
    let services = v
        .get("services")
        .and_then(Value::as_array)
        .ok_or("\"services\" is not an array")?;
    let (started_at, obs) = observed(v);
    let Some(s) = services.iter().find(|s| {
        s.get("port").and_then(Value::as_u64) == Some(25)
            && s.get("service_name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case("smtp"))
    }) else {
        return Ok(None);
    };
    let tls = match path(s, "tls.certificates") {
        Some(c) if !c.is_null() => {
            let leaf = c.get("leaf_data").unwrap_or(&Value::Null);
            let fp = c
                .get("leaf_fp_sha_256")
                .and_then(Value::as_str)
                .or_else(|| leaf.get("fingerprint").and_then(Value::as_str));
            let mut sum = cert_from_parsed(leaf, fp);
            // The current layout lists every name (CN and SANs) in `names`.
            if let Some(Value::Array(ns)) = leaf.get("names") {
                for n in ns.iter().filter_map(Value::as_str) {
                    if !sum.san_dns.iter().any(|x| x == n) && sum.subject_cn.as_deref() != Some(n) {
                        sum.san_dns.push(n.to_string());
                    }
                }
            }
            let sums = vec![sum];
            let verdict = verdict(&[], &sums, &[], None, obs, trust, stats);
            Some(TlsInfo {
                stack: "censys".into(),
                established: true,
                version: path_str(s, "tls.version_selected").map(str::to_string),
                cipher: path_str(s, "tls.cipher_selected").map(str::to_string),
                sni: None,
                chain: sums,
                verdict,
                ehlo: None,
                error: None,
                legacy_retry: None,
            })
        }
        _ => None,
    };
    Ok(Some(finish(
        ip,
        25,
        s.get("banner").and_then(Value::as_str),
        path_str(s, "smtp.ehlo"),
        path_str(s, "smtp.start_tls"),
        tls,
        started_at,
    )))
}

/// Converts one Censys host: `Ok(None)` when the host has no port-25 SMTP data.
pub fn probe(
    v: &Value,
    trust: &TrustSettings<'_>,
    stats: &mut IngestStats,
) -> Result<Option<HostProbe>, String> {
    let ip_s = path_str(v, "ip").ok_or("no \"ip\"")?;
    let ip: IpAddr = ip_s
        .parse()
        .map_err(|_| format!("\"ip\" {ip_s:?} is not an address"))?;
    if v.get("services").is_some() {
        current(v, ip, trust, stats)
    } else {
        legacy(v, ip, trust, stats)
    }
}

/// Reads one Censys file (one record per address; hosts without port-25 SMTP are skipped).
pub fn read(
    path: &std::path::Path,
    trust: &TrustSettings<'_>,
    seen: &mut HashSet<IpAddr>,
    stats: &mut IngestStats,
    mut out: impl FnMut(HostProbe) -> std::io::Result<()>,
) -> Result<(), super::IngestError> {
    let name = path.display().to_string();
    let mut err = None;
    super::json_lines(path, stats, |line, v, st| {
        if err.is_some() {
            return;
        }
        match probe(&v, trust, st) {
            Ok(Some(p)) => {
                if !seen.insert(p.ip) {
                    st.duplicates += 1;
                    return;
                }
                st.records += 1;
                if let Err(e) = out(p) {
                    err = Some(e);
                }
            }
            Ok(None) => st.skipped += 1,
            Err(reason) => st.malformed(&name, line, reason),
        }
    })?;
    err.map_or(Ok(()), |e| Err(super::IngestError::Output(e)))
}
