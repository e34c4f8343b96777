//! zgrab2 `smtp` module JSON Lines (one object per target) -> probe records.
//!
//! Fields read (captured output of zgrab2 v0.2.0 in tests/fixtures/ingest/sim200/):
//! `ip`, `domain`, `data.smtp.{status, timestamp, error, port}`,
//! `data.smtp.result.{banner, ehlo, helo, starttls, quit, implicit_tls}` (reply text, lines
//! joined by CRLF), `data.smtp.result.tls.handshake_log.server_hello.{version.name,
//! cipher_suite.name}`, `…server_certificates.{certificate, chain[]}.{raw, parsed}` and
//! `…server_certificates.validation.{browser_trusted, browser_error, matches_domain}`.
//!
//! zgrab2 reports a refused connection as `connection-timeout` (the error text says
//! `connection refused`) and a silent server as `protocol-error` with `deadline exceeded`;
//! the status here follows the error text in those cases.

use crate::cert::{cert_from_parsed, summarize};
use crate::trust::{DatasetVerdict, TrustSettings, verdict};
use crate::{IngestStats, norm_name, path, path_str, smtp_reply};
use base64::Engine;
use mxinfer_record::{
    Certificate, HostProbe, ProbeFlag, ProbeStatus, ProbeStep, SmtpReply, TlsInfo,
};
use serde_json::Value;
use std::net::IpAddr;

/// One certificate of `server_certificates`: its DER when `raw` is there (summarised from
/// the DER, like the probe stage does), else the parsed fields.
fn cert(v: &Value) -> Result<(Option<Vec<u8>>, Certificate), String> {
    if let Some(raw) = v.get("raw").and_then(Value::as_str) {
        let der = base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            .map_err(|e| format!("certificate raw: not base64 ({e})"))?;
        let sum = summarize(&der);
        return Ok((Some(der), sum));
    }
    match v.get("parsed") {
        Some(p) => Ok((None, cert_from_parsed(p, None))),
        None => Err("certificate without raw or parsed".into()),
    }
}

/// zgrab2 status (with its error text) -> probe status.
fn status(
    s: &str,
    error: &str,
    banner: Option<&SmtpReply>,
    starttls: Option<&SmtpReply>,
) -> Option<ProbeStatus> {
    let e = error.to_ascii_lowercase();
    Some(match s {
        "success" => ProbeStatus::Ok,
        "connection-refused" => ProbeStatus::Refused,
        "connection-timeout" if e.contains("connection refused") => ProbeStatus::Refused,
        "connection-timeout" if e.contains("no route") || e.contains("unreachable") => {
            ProbeStatus::Unreachable
        }
        "connection-timeout" => ProbeStatus::ConnectTimeout,
        "connection-closed" => ProbeStatus::Reset,
        "handshake-error" => ProbeStatus::TlsFailed,
        "io-timeout" => {
            if banner.is_none() {
                ProbeStatus::BannerTimeout
            } else {
                ProbeStatus::StepTimeout
            }
        }
        "protocol-error" if banner.is_none() && e.contains("deadline exceeded") => {
            ProbeStatus::BannerTimeout
        }
        "protocol-error" | "post-tls-application-error" | "unknown-error" | "invalid-inputs" => {
            ProbeStatus::ProtocolError
        }
        "application-error" => {
            if starttls.is_some_and(|r| !(200..300).contains(&r.code)) {
                ProbeStatus::StarttlsRefused
            } else if banner.is_some_and(|r| r.code >= 400) {
                ProbeStatus::BannerRejected
            } else {
                ProbeStatus::ProtocolError
            }
        }
        "blocklisted-target" => ProbeStatus::SkippedBlocklist,
        _ => return None,
    })
}

/// Converts one zgrab2 object into a probe record.
pub fn probe(
    v: &Value,
    default_port: u16,
    trust: &TrustSettings,
    stats: &mut IngestStats,
) -> Result<HostProbe, String> {
    let ip_s = v.get("ip").and_then(Value::as_str).ok_or("no \"ip\"")?;
    let ip: IpAddr = ip_s
        .parse()
        .map_err(|_| format!("\"ip\" {ip_s:?} is not an address"))?;
    let smtp = path(v, "data.smtp").ok_or("no \"data.smtp\" (not an smtp module run)")?;
    let st = smtp
        .get("status")
        .and_then(Value::as_str)
        .ok_or("no \"data.smtp.status\"")?;
    let error = smtp
        .get("error")
        .and_then(Value::as_str)
        .map(str::to_string);
    let started_at = smtp
        .get("timestamp")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let observed = crate::parse_time(&started_at);
    let port = smtp
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(default_port);
    let mut names = Vec::new();
    if let Some(d) = v.get("domain").and_then(Value::as_str).map(norm_name)
        && !d.is_empty()
    {
        names.push(d);
    }
    let empty = Value::Null;
    let res = smtp.get("result").unwrap_or(&empty);
    let text = |k: &str| res.get(k).and_then(Value::as_str).and_then(smtp_reply);
    let banner = text("banner");
    let mut flags = Vec::new();
    let ehlo = match text("ehlo") {
        Some(r) => Some(r),
        None => {
            let h = text("helo");
            if h.is_some() {
                flags.push(ProbeFlag::HeloFallback);
            }
            h
        }
    };
    let starttls = text("starttls");
    let quit = text("quit");
    let mut status = status(
        st,
        error.as_deref().unwrap_or_default(),
        banner.as_ref(),
        starttls.as_ref(),
    )
    .ok_or_else(|| format!("unknown status {st:?}"))?;
    let capabilities = match (&ehlo, flags.contains(&ProbeFlag::HeloFallback)) {
        (Some(r), false) => crate::smtp::capabilities(r),
        _ => Vec::new(),
    };
    if banner
        .as_ref()
        .is_some_and(|b| !b.lines.iter().any(|l| l.contains("ESMTP")))
    {
        flags.push(ProbeFlag::NoEsmtpInBanner);
    }
    let tls = match res.get("tls") {
        Some(t) if !t.is_null() => {
            let sc = path(t, "handshake_log.server_certificates");
            let mut ders: Vec<Vec<u8>> = Vec::new();
            let mut sums: Vec<Certificate> = Vec::new();
            let mut all_raw = true;
            if let Some(sc) = sc {
                let leaf = sc.get("certificate").filter(|c| !c.is_null());
                let chain = sc
                    .get("chain")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for c in leaf.into_iter().chain(chain.iter()) {
                    let (der, sum) = cert(c)?;
                    match der {
                        Some(d) => ders.push(d),
                        None => all_raw = false,
                    }
                    sums.push(sum);
                }
            }
            if !all_raw {
                ders.clear();
            }
            let dataset = sc.and_then(|sc| sc.get("validation")).and_then(|val| {
                Some(DatasetVerdict {
                    trusted: val.get("browser_trusted")?.as_bool()?,
                    error: val
                        .get("browser_error")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    matches_domain: val.get("matches_domain").and_then(Value::as_bool),
                    source: "zgrab2 validation.browser_trusted",
                })
            });
            let verdict = verdict(&ders, &sums, &names, dataset, observed, trust, stats);
            let established =
                !sums.is_empty() || path(t, "handshake_log.server_finished").is_some();
            Some(TlsInfo {
                stack: "zgrab2".into(),
                established,
                version: path_str(
                    t,
                    "handshake_log.server_hello.supported_versions.selected_version.name",
                )
                .or_else(|| path_str(t, "handshake_log.server_hello.version.name"))
                .map(str::to_string),
                cipher: path_str(t, "handshake_log.server_hello.cipher_suite.name")
                    .map(str::to_string),
                sni: names
                    .first()
                    .filter(|n| n.parse::<IpAddr>().is_err())
                    .cloned(),
                chain: sums,
                verdict,
                ehlo: None,
                error: None,
                legacy_retry: None,
            })
        }
        _ => None,
    };
    if status == ProbeStatus::Ok && tls.is_none() && starttls.is_none() {
        status = ProbeStatus::StarttlsNotOffered;
    }
    let step = match status {
        ProbeStatus::StepTimeout => Some(if starttls.is_some() {
            ProbeStep::Tls
        } else if ehlo.is_some() {
            ProbeStep::Starttls
        } else {
            ProbeStep::Ehlo
        }),
        ProbeStatus::TlsFailed => Some(ProbeStep::Tls),
        _ => None,
    };
    flags.sort();
    flags.dedup();
    Ok(HostProbe {
        ip,
        port,
        names,
        status,
        step,
        error,
        flags,
        banner,
        ehlo,
        capabilities,
        starttls,
        tls,
        quit,
        started_at,
        duration_ms: 0,
        shard: None,
    })
}
