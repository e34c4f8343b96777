//! Observations to mxinfer's records, without I/O and without a network stack: what the
//! engine (`mxinfer-core`, the `ingest` command) and the Python package's Spark readers share.
//!
//! - the resolve stage's rules for derived fields: [`classify`] (address classes, the
//!   configuration class of seed 000) and [`name`] (domain normalisation);
//! - [`cert`]: the certificate summary the probe stage records, from DER or from a
//!   dataset's parsed fields, and the name-match rule;
//! - datasets to records: [`build_dns`] (resolve records from what a DNS dataset says, by the
//!   resolve stage's rules), [`openintel`] (OpenINTEL forward-DNS rows, per row and per
//!   domain, so a runner such as Spark can group the rows itself), [`zgrab2`] (one smtp
//!   object to a probe record) and [`trust`] (the dataset's certificate verdict, or one
//!   computed by a [`trust::ChainJudging`] the caller supplies: the chain judge of the probe
//!   stage lives with the TLS stack, outside this crate).
//!
//! Reading files (JSON Lines, Parquet, Avro) is the caller's: `mxinfer-core::ingest`.
//! Malformed rows are not errors here: each function says why a row is unusable and the
//! caller reports and counts it ([`IngestStats`]).

pub mod cert;
pub mod classify;
pub mod name;
pub mod openintel;
pub mod smtp;
pub mod trust;
pub mod zgrab2;

use mxinfer_record::{
    Address, ConfigClass, DnsStatus, DomainDns, DomainFlag, Exchanger, ExchangerFlag, InputRef,
    LookupStatus, MxRecord, RrsetLookup, SmtpReply,
};
use std::net::IpAddr;

/// Problems reported with their position, at most this many kept (all are counted).
pub const MAX_PROBLEMS_KEPT: usize = 1000;

/// Counts of one ingest run, written to the run metadata.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct IngestStats {
    /// Rows (lines, Parquet/Avro rows) read, blank lines excluded.
    pub rows: u64,
    /// Records written.
    pub records: u64,
    /// Rows that could not be used (reported with their position).
    pub malformed: u64,
    /// Rows dropped because their name or address had been seen before.
    pub duplicates: u64,
    /// Rows that are valid but not relevant (other query types, other ports, pseudo-records).
    pub skipped: u64,
    /// Certificates whose trust came from the dataset / was computed from the raw chain /
    /// could not be judged (no raw chain and no verdict in the dataset).
    pub trust_from_dataset: u64,
    pub trust_computed: u64,
    pub trust_unknown: u64,
    /// The first [`MAX_PROBLEMS_KEPT`] problems, `FILE:LINE: REASON`.
    pub problems: Vec<String>,
}

impl IngestStats {
    /// Records one malformed row.
    pub fn malformed(&mut self, file: &str, pos: u64, reason: impl std::fmt::Display) {
        self.malformed += 1;
        if self.problems.len() < MAX_PROBLEMS_KEPT {
            self.problems.push(format!("{file}:{pos}: {reason}"));
        }
    }

    /// Adds the counts of another run (several input files).
    pub fn absorb(&mut self, o: IngestStats) {
        self.rows += o.rows;
        self.records += o.records;
        self.malformed += o.malformed;
        self.duplicates += o.duplicates;
        self.skipped += o.skipped;
        self.trust_from_dataset += o.trust_from_dataset;
        self.trust_computed += o.trust_computed;
        self.trust_unknown += o.trust_unknown;
        for p in o.problems {
            if self.problems.len() < MAX_PROBLEMS_KEPT {
                self.problems.push(p);
            }
        }
    }
}

/// The value at a dotted path: nested objects (`a.b.c`), or a flat key written with dots
/// (exports that flatten nested columns), or a mix.
pub fn path<'a>(v: &'a serde_json::Value, p: &str) -> Option<&'a serde_json::Value> {
    let obj = v.as_object()?;
    if let Some(x) = obj.get(p) {
        return Some(x);
    }
    let mut rest = p;
    while let Some(i) = rest.find('.') {
        let (head, tail) = (&rest[..i], &rest[i + 1..]);
        if let Some(x) = obj.get(&p[..p.len() - rest.len() + head.len()])
            && let Some(found) = path(x, tail)
        {
            return Some(found);
        }
        rest = tail;
    }
    None
}

/// The string at a dotted path (see [`path`]).
pub fn path_str<'a>(v: &'a serde_json::Value, p: &str) -> Option<&'a str> {
    path(v, p).and_then(|x| x.as_str())
}

/// A name as the records keep it: lower case, no trailing dot.
pub fn norm_name(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// An SMTP reply from the text a scanner kept (lines joined by CRLF or LF): the code of the
/// first line and every non-empty line. `None` when there is no line at all.
pub fn smtp_reply(text: &str) -> Option<SmtpReply> {
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let first = lines.first()?;
    let code = first
        .get(..3)
        .and_then(|c| c.parse::<u16>().ok())
        .unwrap_or(0);
    Some(SmtpReply { code, lines })
}

/// Epoch milliseconds as RFC 3339 UTC with milliseconds.
pub fn epoch_ms_rfc3339(ms: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).ok()?;
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).ok()
}

/// Parses an RFC 3339 time (zgrab2 and zdns timestamps, `--at`), also a bare date
/// (`2021-06-01`, midnight UTC).
pub fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Some(t);
    }
    let d = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some(d.midnight().assume_utc())
}

/// RFC 3339 UTC (seconds) of a time.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

/// The addresses of one name as a dataset gives them: `None` when the dataset does not say
/// (the lookup was not made or not kept).
#[derive(Debug, Clone, Default)]
pub struct NameAddrs {
    pub v4: Option<Vec<IpAddr>>,
    pub v6: Option<Vec<IpAddr>>,
}

/// What a DNS dataset says about one domain, before it becomes a [`DomainDns`].
#[derive(Debug, Clone)]
pub struct DomainFacts {
    pub domain: String,
    pub input: InputRef,
    /// The MX query's outcome: `Ok` (answered, maybe with no MX), or a failure.
    pub mx_status: LookupStatus,
    /// MX records: preference, exchange (`.` for a null MX), TTL.
    pub mx: Vec<MxRecord>,
    pub mx_ttl: Option<u32>,
    pub cname: Vec<String>,
    /// Addresses of each exchange name (the dataset's join), by name.
    pub exchanger_addrs: std::collections::HashMap<String, NameAddrs>,
    /// Addresses of the domain itself (for implicit MX), when the dataset has them.
    pub apex: NameAddrs,
    /// When the dataset observed it (RFC 3339).
    pub observed_at: String,
    /// Where the facts came from (for `error` detail).
    pub source: &'static str,
    pub error: Option<String>,
}

fn lookup_of(addrs: &Option<Vec<IpAddr>>, source: &str) -> RrsetLookup {
    match addrs {
        None => RrsetLookup {
            status: LookupStatus::Error,
            ttl: None,
            cname: Vec::new(),
            values: Vec::new(),
            error: Some(format!("not in the dataset ({source})")),
        },
        Some(v) if v.is_empty() => RrsetLookup {
            status: LookupStatus::Nodata,
            ttl: None,
            cname: Vec::new(),
            values: Vec::new(),
            error: None,
        },
        Some(v) => RrsetLookup {
            status: LookupStatus::Ok,
            ttl: None,
            cname: Vec::new(),
            values: v.iter().map(|ip| ip.to_string()).collect(),
            error: None,
        },
    }
}

fn exchanger(name: &str, preference: u16, implicit: bool, a: &NameAddrs, src: &str) -> Exchanger {
    use crate::classify::addr_class;
    let mut flags = Vec::new();
    if implicit {
        flags.push(ExchangerFlag::Implicit);
    }
    if name.parse::<IpAddr>().is_ok() {
        flags.push(ExchangerFlag::IpLiteral);
    }
    let mut ips: Vec<IpAddr> = Vec::new();
    for ip in a.v4.iter().flatten().chain(a.v6.iter().flatten()) {
        if !ips.contains(ip) {
            ips.push(*ip);
        }
    }
    ips.sort_by_key(|ip| ip.is_ipv6());
    let addresses: Vec<Address> = ips
        .into_iter()
        .map(|ip| Address {
            ip,
            class: addr_class(ip),
            ptr: None,
        })
        .collect();
    crate::classify::finish_exchanger_flags(&addresses, &mut flags);
    Exchanger {
        name: name.to_string(),
        preference,
        flags,
        a: lookup_of(&a.v4, src),
        aaaa: lookup_of(&a.v6, src),
        addresses,
    }
}

/// Builds the resolve record from a dataset's facts, by the resolve stage's rules (null MX,
/// implicit MX, flags, configuration class). Implicit MX is applied only when the dataset
/// has the domain's own addresses; otherwise a domain without MX is `no-mail` with an
/// `error` saying that the dataset could not tell.
pub fn build_dns(f: DomainFacts) -> DomainDns {
    let mut rec = DomainDns {
        domain: f.domain.clone(),
        input: f.input,
        status: DnsStatus::Ok,
        flags: Vec::new(),
        cname: f.cname,
        mx: Vec::new(),
        mx_ttl: f.mx_ttl,
        exchangers: Vec::new(),
        config_class: ConfigClass::NonIdentified,
        spf: None,
        passes: 1,
        resolved_at: f.observed_at,
        error: f.error,
        shard: None,
    };
    if !rec.cname.is_empty() {
        rec.flags.push(DomainFlag::ApexCname);
    }
    match f.mx_status {
        LookupStatus::Ok | LookupStatus::Nodata => {}
        LookupStatus::Nxdomain => rec.status = DnsStatus::Nxdomain,
        LookupStatus::Servfail => rec.status = DnsStatus::Servfail,
        LookupStatus::Refused => rec.status = DnsStatus::Refused,
        LookupStatus::Timeout => rec.status = DnsStatus::Timeout,
        LookupStatus::Error => rec.status = DnsStatus::Error,
    }
    if rec.status != DnsStatus::Ok {
        return rec;
    }
    let mut set = f.mx;
    set.sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
    set.dedup_by(|a, b| a.preference == b.preference && a.exchange == b.exchange);
    if set.is_empty() {
        let has_apex = f.apex.v4.is_some() || f.apex.v6.is_some();
        let ex = exchanger(&f.domain, 0, true, &f.apex, f.source);
        if !ex.addresses.is_empty() {
            rec.status = DnsStatus::NoMx;
        } else {
            rec.status = DnsStatus::NoMail;
            if !has_apex && rec.error.is_none() {
                rec.error = Some(format!(
                    "no MX records; {} has no address of the domain, so implicit MX \
                     (RFC 5321 5.1) could not be applied",
                    f.source
                ));
            }
        }
        rec.exchangers.push(ex);
        return rec;
    }
    let nulls = set.iter().filter(|m| m.exchange == ".").count();
    if nulls == set.len() {
        rec.status = DnsStatus::NullMx;
        rec.mx = set;
        return rec;
    }
    if nulls > 0 {
        rec.flags.push(DomainFlag::NullMxMixed);
    }
    let empty = NameAddrs::default();
    for m in set.iter().filter(|m| m.exchange != ".") {
        let a = f.exchanger_addrs.get(&m.exchange).unwrap_or(&empty);
        rec.exchangers
            .push(exchanger(&m.exchange, m.preference, false, a, f.source));
    }
    crate::classify::finish_domain_flags(&rec.exchangers, &mut rec.flags);
    let (v4, v6) = crate::classify::distinct_families(&rec.exchangers);
    rec.config_class = crate::classify::config_class(rec.exchangers.len(), v4, v6);
    rec.mx = set;
    rec.flags.sort();
    rec.flags.dedup();
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_nested_flat_and_mixed() {
        let v: serde_json::Value = serde_json::json!({
            "a": {"b": {"c": 1}},
            "p25.smtp.starttls.banner": "flat",
            "p80": {"http.get": {"x": 2}}
        });
        assert_eq!(path(&v, "a.b.c"), Some(&serde_json::json!(1)));
        assert_eq!(path_str(&v, "p25.smtp.starttls.banner"), Some("flat"));
        assert_eq!(path(&v, "p80.http.get.x"), Some(&serde_json::json!(2)));
        assert_eq!(path(&v, "a.x"), None);
    }

    #[test]
    fn replies_from_scanner_text() {
        let r = smtp_reply("250-mx.example.net\r\n250-PIPELINING\r\n250 STARTTLS\r\n").unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.lines.len(), 3);
        assert_eq!(r.lines[2], "250 STARTTLS");
        assert!(smtp_reply("\r\n").is_none());
    }

    #[test]
    fn times() {
        assert_eq!(
            epoch_ms_rfc3339(1_622_505_600_123).as_deref(),
            Some("2021-06-01T00:00:00.123Z")
        );
        assert_eq!(
            rfc3339(parse_time("2021-06-01").unwrap()),
            "2021-06-01T00:00:00Z"
        );
        assert!(parse_time("2026-11-30T14:01:02.5-05:00").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
