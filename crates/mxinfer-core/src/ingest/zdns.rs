//! zdns `MXLOOKUP` JSON Lines (one object per input name) -> resolve records.
//!
//! Two shapes (docs/ingest.md; captured output of zdns 2.0.5 in
//! tests/fixtures/ingest/sim200/):
//! - v2: `{"name", "results": {"MXLOOKUP": {"status", "timestamp", "data": {"exchanges":
//!   [{"name", "preference", "ttl", "type", "class", "ipv4_addresses", "ipv6_addresses"}]}}}}`
//! - v1: `{"name", "status", "timestamp", "data": {"exchanges": [...]}}`
//!
//! zdns writes a null MX as an exchange with an empty name at preference 0; it does not look
//! up the domain's own address (no implicit MX) and omits empty address lists, so a missing
//! list means "not in the dataset", not "no address".

use super::{DomainFacts, IngestStats, NameAddrs, build_dns, norm_name};
use mxinfer_record::{DomainDns, InputRef, LookupStatus, MxRecord};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// zdns status -> the MX lookup's outcome (`None`: not a zdns status).
pub fn status(s: &str) -> Option<LookupStatus> {
    Some(match s {
        "NOERROR" => LookupStatus::Ok,
        "NO_ANSWER" | "NODATA" => LookupStatus::Nodata,
        "NXDOMAIN" => LookupStatus::Nxdomain,
        "SERVFAIL" => LookupStatus::Servfail,
        "REFUSED" => LookupStatus::Refused,
        "TIMEOUT" | "ITERATIVE_TIMEOUT" => LookupStatus::Timeout,
        "ERROR" | "AUTHFAIL" | "NOTIMP" | "FORMERR" | "TRUNCATED" | "BADSIG" | "NOTAUTH"
        | "ILLEGAL_INPUT" => LookupStatus::Error,
        _ => return None,
    })
}

fn addrs(v: Option<&Value>, want_v6: bool) -> Result<Option<Vec<IpAddr>>, String> {
    let Some(v) = v else { return Ok(None) };
    if v.is_null() {
        return Ok(None);
    }
    let arr = v.as_array().ok_or("address list is not an array")?;
    let mut out = Vec::with_capacity(arr.len());
    for a in arr {
        let s = a.as_str().ok_or("address is not a string")?;
        let ip: IpAddr = s.parse().map_err(|_| format!("bad address {s:?}"))?;
        if ip.is_ipv6() != want_v6 {
            return Err(format!("address {s} in the wrong family list"));
        }
        out.push(ip);
    }
    Ok(Some(out))
}

/// Converts one zdns object into the facts of one domain.
pub fn facts(v: &Value, line: u64) -> Result<DomainFacts, String> {
    let name = v.get("name").and_then(Value::as_str).ok_or("no \"name\"")?;
    let domain = crate::input::normalize_domain(name).map_err(|e| format!("name {name:?}: {e}"))?;
    // v2 nests the module result under results.MXLOOKUP; v1 is flat.
    let res = match v.get("results") {
        Some(r) => r
            .get("MXLOOKUP")
            .ok_or("\"results\" without \"MXLOOKUP\" (not an MXLOOKUP run)")?,
        None => v,
    };
    let st = res
        .get("status")
        .and_then(Value::as_str)
        .ok_or("no \"status\"")?;
    let mx_status = status(st).ok_or_else(|| format!("unknown status {st:?}"))?;
    let observed_at = res
        .get("timestamp")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut mx = Vec::new();
    let mut exchanger_addrs = HashMap::new();
    let mut mx_ttl: Option<u32> = None;
    if let Some(ex) = res.get("data").and_then(|d| d.get("exchanges")) {
        let arr = ex.as_array().ok_or("\"exchanges\" is not an array")?;
        for (i, e) in arr.iter().enumerate() {
            let raw = e
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("exchange {i}: no name"))?;
            let pref = e
                .get("preference")
                .and_then(Value::as_u64)
                .filter(|p| *p <= u64::from(u16::MAX))
                .ok_or_else(|| format!("exchange {i}: no preference 0-65535"))?
                as u16;
            let ttl = e.get("ttl").and_then(Value::as_u64).unwrap_or(0) as u32;
            mx_ttl = Some(mx_ttl.map_or(ttl, |t| t.min(ttl)));
            let exch = norm_name(raw);
            let exch = if exch.is_empty() {
                ".".to_string()
            } else {
                exch
            };
            if exch != "." {
                let a = NameAddrs {
                    v4: addrs(e.get("ipv4_addresses"), false)
                        .map_err(|m| format!("exchange {raw}: {m}"))?,
                    v6: addrs(e.get("ipv6_addresses"), true)
                        .map_err(|m| format!("exchange {raw}: {m}"))?,
                };
                exchanger_addrs.insert(exch.clone(), a);
            }
            mx.push(MxRecord {
                preference: pref,
                exchange: exch,
                ttl,
            });
        }
    }
    let original = (name != domain).then(|| name.to_string());
    Ok(DomainFacts {
        domain,
        input: InputRef {
            line,
            original,
            rank: None,
            extra: Default::default(),
        },
        mx_status,
        mx,
        mx_ttl,
        cname: Vec::new(),
        exchanger_addrs,
        apex: NameAddrs::default(),
        observed_at,
        source: "zdns MXLOOKUP",
        error: None,
    })
}

/// Reads zdns `ALOOKUP` output (run with `--ipv4-lookup --ipv6-lookup`) of domains' own
/// names: the addresses that let implicit MX (RFC 5321 5.1) apply to domains without MX.
/// v2 `results.ALOOKUP.{status,data.{ipv4_addresses,ipv6_addresses}}` or v1 flat. Only
/// NOERROR answers are kept (an empty answer: the domain has no address).
pub fn read_apex(
    path: &std::path::Path,
    apex: &mut HashMap<String, NameAddrs>,
    stats: &mut IngestStats,
) -> Result<(), super::IngestError> {
    let file = path.display().to_string();
    super::json_lines(path, stats, |line, v, st| {
        let parsed = (|| -> Result<Option<(String, NameAddrs)>, String> {
            let name = v.get("name").and_then(Value::as_str).ok_or("no \"name\"")?;
            let domain =
                crate::input::normalize_domain(name).map_err(|e| format!("name {name:?}: {e}"))?;
            let res = match v.get("results") {
                Some(r) => r
                    .get("ALOOKUP")
                    .ok_or("\"results\" without \"ALOOKUP\" (not an ALOOKUP run)")?,
                None => &v,
            };
            let st = res
                .get("status")
                .and_then(Value::as_str)
                .ok_or("no \"status\"")?;
            if status(st).ok_or_else(|| format!("unknown status {st:?}"))? != LookupStatus::Ok {
                return Ok(None);
            }
            let data = res.get("data");
            let a = NameAddrs {
                v4: Some(
                    addrs(data.and_then(|d| d.get("ipv4_addresses")), false)?.unwrap_or_default(),
                ),
                v6: Some(
                    addrs(data.and_then(|d| d.get("ipv6_addresses")), true)?.unwrap_or_default(),
                ),
            };
            Ok(Some((domain, a)))
        })();
        match parsed {
            Ok(Some((d, a))) => {
                if apex.insert(d, a).is_some() {
                    st.duplicates += 1;
                } else {
                    st.records += 1;
                }
            }
            Ok(None) => st.skipped += 1,
            Err(reason) => st.malformed(&file, line, reason),
        }
    })
}

/// Reads one zdns file; every accepted domain once (later duplicates counted and dropped).
/// `apex`: the domains' own addresses from [`read_apex`] (implicit MX).
pub fn read(
    path: &std::path::Path,
    apex: &HashMap<String, NameAddrs>,
    seen: &mut HashSet<String>,
    stats: &mut IngestStats,
    mut out: impl FnMut(DomainDns) -> std::io::Result<()>,
) -> Result<(), super::IngestError> {
    let name = path.display().to_string();
    let mut err = None;
    super::json_lines(path, stats, |line, v, st| {
        if err.is_some() {
            return;
        }
        match facts(&v, line) {
            Ok(mut f) => {
                if let Some(a) = apex.get(&f.domain) {
                    f.apex = a.clone();
                }
                if !seen.insert(f.domain.clone()) {
                    st.duplicates += 1;
                    return;
                }
                st.records += 1;
                if let Err(e) = out(build_dns(f)) {
                    err = Some(e);
                }
            }
            Err(reason) => st.malformed(&name, line, reason),
        }
    })?;
    err.map_or(Ok(()), |e| Err(super::IngestError::Output(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxinfer_record::DnsStatus;

    #[test]
    fn v1_and_v2_give_the_same_record() {
        let v2: Value = serde_json::from_str(
            r#"{"name":"Example.ORG.","results":{"MXLOOKUP":{"status":"NOERROR","timestamp":"2021-06-01T00:00:00Z","data":{"exchanges":[{"name":"aspmx.l.google.com.","preference":1,"type":"MX","class":"IN","ttl":300,"ipv4_addresses":["192.0.2.1"]}]}}}}"#,
        )
        .unwrap();
        let v1: Value = serde_json::from_str(
            r#"{"name":"Example.ORG.","status":"NOERROR","timestamp":"2021-06-01T00:00:00Z","data":{"exchanges":[{"name":"aspmx.l.google.com.","preference":1,"type":"MX","class":"IN","ttl":300,"ipv4_addresses":["192.0.2.1"]}]}}"#,
        )
        .unwrap();
        let a = build_dns(facts(&v2, 1).unwrap());
        let b = build_dns(facts(&v1, 1).unwrap());
        assert_eq!(a, b);
        assert_eq!(a.domain, "example.org");
        assert_eq!(a.status, DnsStatus::Ok);
        assert_eq!(a.exchangers[0].name, "aspmx.l.google.com");
        assert_eq!(a.exchangers[0].addresses[0].ip.to_string(), "192.0.2.1");
        assert_eq!(a.input.original.as_deref(), Some("Example.ORG."));
    }

    #[test]
    fn null_mx_no_mx_and_failures() {
        let null: Value = serde_json::from_str(
            r#"{"name":"n.example","status":"NOERROR","data":{"exchanges":[{"name":"","preference":0,"ttl":60}]}}"#,
        )
        .unwrap();
        assert_eq!(
            build_dns(facts(&null, 1).unwrap()).status,
            DnsStatus::NullMx
        );
        let none: Value = serde_json::from_str(
            r#"{"name":"e.example","status":"NOERROR","data":{"exchanges":[]}}"#,
        )
        .unwrap();
        let r = build_dns(facts(&none, 1).unwrap());
        assert_eq!(r.status, DnsStatus::NoMail);
        assert!(r.error.unwrap().contains("implicit MX"));
        let nx: Value =
            serde_json::from_str(r#"{"name":"x.example","status":"NXDOMAIN"}"#).unwrap();
        assert_eq!(
            build_dns(facts(&nx, 1).unwrap()).status,
            DnsStatus::Nxdomain
        );
        let bad: Value = serde_json::from_str(r#"{"name":"x.example","status":"MAYBE"}"#).unwrap();
        assert!(facts(&bad, 1).unwrap_err().contains("unknown status"));
        let v6in4: Value = serde_json::from_str(
            r#"{"name":"x.example","status":"NOERROR","data":{"exchanges":[{"name":"mx.x.example","preference":5,"ipv4_addresses":["2001:db8::1"]}]}}"#,
        )
        .unwrap();
        assert!(facts(&v6in4, 1).unwrap_err().contains("wrong family"));
    }
}
