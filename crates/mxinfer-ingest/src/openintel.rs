//! OpenINTEL forward-DNS rows -> resolve records.
//!
//! One row per DNS record (docs/ingest.md, ../shared/FORMATS.md): `query_type`,
//! `query_name`, `response_type`, `response_name`, `response_ttl` (Avro: `ttl`),
//! `status_code` (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED), `timestamp` (epoch ms),
//! `mx_address`, `mx_preference`, `ip4_address`, `ip6_address`, `cname_name`. Names carry a
//! trailing dot. The MX set of a domain is its rows with `query_type = 'MX'` and
//! `response_type = 'MX'`; a null MX is preference 0 with address `.`; rows whose
//! `response_name` is NULL are pseudo-records (MX-set hashes): they give the query's status
//! and nothing else. Exchangers get their addresses from the A/AAAA rows of the same input
//! whose `response_name` is the exchange name (the public data rarely has them: OpenINTEL's
//! infrastructure dataset is not public); the domain's own A/AAAA rows allow implicit MX.
//!
//! Three steps, so that a runner that groups rows itself (Spark) gives the records a
//! [`Collector`] gives:
//! 1. [`fact`]: what one row says on its own (or why it is malformed);
//! 2. [`DomainRows::add`]: the facts of one domain's MX query, in input order;
//! 3. [`DomainRows::record`]: the record, given the addresses of the names
//!    ([`NameAddrs`] from the A/AAAA facts, in input order).
//!
//! A domain's `input.line` is the position (1-based, over all rows of all inputs) of its
//! first usable MX-query row.

use crate::{DomainFacts, IngestStats, NameAddrs, build_dns, norm_name};
use mxinfer_record::{DomainDns, InputRef, LookupStatus, MxRecord};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;

/// The columns of one OpenINTEL row that mxinfer uses (all optional as in the files).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub query_type: Option<String>,
    pub query_name: Option<String>,
    pub response_type: Option<String>,
    pub response_name: Option<String>,
    pub ttl: Option<i64>,
    pub status_code: Option<i64>,
    pub timestamp: Option<i64>,
    pub mx_address: Option<String>,
    pub mx_preference: Option<i64>,
    pub ip4_address: Option<String>,
    pub ip6_address: Option<String>,
    pub cname_name: Option<String>,
}

/// What one row of a domain's MX query adds beyond its status and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MxContent {
    /// A pseudo-record (MX-set hash: `response_name` NULL): the query's status only.
    Status,
    Mx(MxRecord),
    /// The domain's CNAME (normalised target).
    Cname(String),
    /// Another record type in the answer: nothing.
    Other,
}

/// What one row says, on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Fact {
    /// A row of the MX query of `domain` (normalised; `original` as the row wrote it).
    Mx {
        domain: String,
        original: String,
        status_code: Option<i64>,
        timestamp: Option<i64>,
        content: MxContent,
    },
    /// An address of `name` (an A or AAAA row, whichever query it answered).
    Address { name: String, ip: IpAddr },
}

impl Fact {
    /// The name the fact is about: the domain of an MX-query row, the owner of an address.
    pub fn key(&self) -> &str {
        match self {
            Fact::Mx { domain, .. } => domain,
            Fact::Address { name, .. } => name,
        }
    }

    /// Whether the row adds to a record (an MX, a CNAME, an address), not only a status.
    pub fn adds_content(&self) -> bool {
        !matches!(
            self,
            Fact::Mx {
                content: MxContent::Status | MxContent::Other,
                ..
            }
        )
    }
}

/// What one row says: `Ok(None)` for a row mxinfer does not use (another query's answer that
/// is not an address), `Err` the reason the row is malformed.
pub fn fact(r: &Row) -> Result<Option<Fact>, String> {
    let qtype = r.query_type.as_deref().ok_or("query_type is NULL")?;
    let qname_raw = r.query_name.as_deref().ok_or("query_name is NULL")?;
    let rtype = r.response_type.as_deref().unwrap_or_default();
    let address = |what: &str, col: &Option<String>, col_name: &str, v6: bool| {
        let n = norm_name(
            r.response_name
                .as_deref()
                .ok_or_else(|| format!("{what} row without response_name"))?,
        );
        let a = col
            .as_deref()
            .ok_or_else(|| format!("{what} row without {col_name}"))?;
        let ip: IpAddr = a.parse().map_err(|_| format!("{col_name} {a:?}"))?;
        if ip.is_ipv6() != v6 {
            return Err(format!(
                "{col_name} {a:?} is not {}",
                if v6 { "IPv6" } else { "IPv4" }
            ));
        }
        Ok(Some(Fact::Address { name: n, ip }))
    };
    match (
        qtype.to_ascii_uppercase().as_str(),
        rtype.to_ascii_uppercase().as_str(),
    ) {
        ("MX", rt) => {
            let domain = crate::name::normalize_domain(qname_raw)
                .map_err(|e| format!("query_name {qname_raw:?}: {e}"))?;
            let content = if r.response_name.is_none() {
                MxContent::Status
            } else {
                match rt {
                    "MX" => {
                        let addr = r.mx_address.as_deref().ok_or("MX row without mx_address")?;
                        let pref = r
                            .mx_preference
                            .filter(|p| (0..=i64::from(u16::MAX)).contains(p))
                            .ok_or("MX row without mx_preference 0-65535")?;
                        let ex = norm_name(addr);
                        MxContent::Mx(MxRecord {
                            preference: pref as u16,
                            exchange: if ex.is_empty() { ".".into() } else { ex },
                            ttl: r.ttl.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
                        })
                    }
                    "CNAME" => MxContent::Cname(norm_name(
                        r.cname_name
                            .as_deref()
                            .ok_or("CNAME row without cname_name")?,
                    )),
                    _ => MxContent::Other,
                }
            };
            Ok(Some(Fact::Mx {
                domain,
                original: qname_raw.to_string(),
                status_code: r.status_code,
                timestamp: r.timestamp,
                content,
            }))
        }
        (_, "A") => address("A", &r.ip4_address, "ip4_address", false),
        (_, "AAAA") => address("AAAA", &r.ip6_address, "ip6_address", true),
        _ => Ok(None),
    }
}

/// The MX query of one domain, from its rows in input order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DomainRows {
    /// Position of the first row (1-based over all rows of all inputs).
    pub line: u64,
    /// The first row's `query_name` as written.
    pub original: String,
    pub mx_status: Option<i64>,
    pub mx: Vec<MxRecord>,
    pub cname: Vec<String>,
    pub first_ms: Option<i64>,
}

fn status_of(code: i64) -> LookupStatus {
    match code {
        0 => LookupStatus::Ok,
        2 => LookupStatus::Servfail,
        3 => LookupStatus::Nxdomain,
        5 => LookupStatus::Refused,
        _ => LookupStatus::Error,
    }
}

impl DomainRows {
    /// The domain's rows start with the row at `line` (its `query_name` as written).
    pub fn new(line: u64, original: &str) -> Self {
        DomainRows {
            line,
            original: original.to_string(),
            ..Self::default()
        }
    }

    /// Adds the next row of the domain (in input order); address facts are not the
    /// domain's and are ignored.
    pub fn add(&mut self, f: &Fact) {
        let Fact::Mx {
            status_code,
            timestamp,
            content,
            ..
        } = f
        else {
            return;
        };
        if let Some(ts) = *timestamp {
            self.first_ms = Some(self.first_ms.map_or(ts, |t| t.min(ts)));
        }
        if let Some(c) = *status_code {
            // A failure seen on any row of the query wins over NOERROR.
            if self.mx_status.is_none_or(|s| s == 0) {
                self.mx_status = Some(c);
            }
        }
        match content {
            MxContent::Mx(m) => self.mx.push(m.clone()),
            MxContent::Cname(c) => {
                if !self.cname.contains(c) {
                    self.cname.push(c.clone());
                }
            }
            MxContent::Status | MxContent::Other => {}
        }
    }

    /// The exchange names whose addresses the record needs (not the null MX).
    pub fn exchanges(&self) -> impl Iterator<Item = &str> {
        self.mx
            .iter()
            .map(|m| m.exchange.as_str())
            .filter(|e| *e != ".")
    }

    /// The resolve record of `domain`; `addrs` gives the addresses the input has for a name
    /// (the exchanges and the domain itself).
    pub fn record(&self, domain: &str, addrs: impl Fn(&str) -> NameAddrs) -> DomainDns {
        let mut exchanger_addrs = HashMap::new();
        for e in self.exchanges() {
            exchanger_addrs.insert(e.to_string(), addrs(e));
        }
        let original = (self.original != domain).then(|| self.original.clone());
        build_dns(DomainFacts {
            domain: domain.to_string(),
            input: InputRef {
                line: self.line,
                original,
                rank: None,
                extra: Default::default(),
            },
            mx_status: self.mx_status.map_or(LookupStatus::Ok, status_of),
            mx: self.mx.clone(),
            mx_ttl: self.mx.iter().map(|m| m.ttl).min(),
            cname: self.cname.clone(),
            exchanger_addrs,
            apex: addrs(domain),
            observed_at: self
                .first_ms
                .and_then(crate::epoch_ms_rfc3339)
                .unwrap_or_default(),
            source: "OpenINTEL",
            error: self
                .mx_status
                .filter(|c| ![0, 2, 3, 5].contains(c))
                .map(|c| format!("status_code {c}")),
        })
    }
}

/// The addresses of a name from its address facts in input order: `None` when the input
/// has no address row of the name (the dataset does not say), else both families (the one
/// without rows is empty: the name has none).
pub fn name_addrs<'a>(ips: impl IntoIterator<Item = &'a IpAddr>) -> Option<NameAddrs> {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    let mut any = false;
    for ip in ips {
        any = true;
        let v = if ip.is_ipv4() { &mut v4 } else { &mut v6 };
        if !v.contains(ip) {
            v.push(*ip);
        }
    }
    any.then_some(NameAddrs {
        v4: Some(v4),
        v6: Some(v6),
    })
}

/// The rows of one Arrow record batch of OpenINTEL's columns (feature `arrow`): strings as
/// Utf8, LargeUtf8, Utf8View or Binary; numbers as any integer type or a millisecond or
/// microsecond timestamp (read as milliseconds); `response_ttl`, else `ttl` (Avro's name).
/// A column missing from the batch, or of another type, reads as NULL.
#[cfg(feature = "arrow")]
pub fn rows_of_batch(b: &arrow_array::RecordBatch) -> impl Iterator<Item = Row> + '_ {
    use arrow_array::{Array, RecordBatch};
    fn s(b: &RecordBatch, col: &str, i: usize) -> Option<String> {
        use arrow_array::cast::AsArray;
        use arrow_schema::DataType;
        let a = b.column_by_name(col)?;
        if a.is_null(i) {
            return None;
        }
        match a.data_type() {
            DataType::Utf8 => Some(a.as_string::<i32>().value(i).to_string()),
            DataType::LargeUtf8 => Some(a.as_string::<i64>().value(i).to_string()),
            DataType::Utf8View => Some(a.as_string_view().value(i).to_string()),
            DataType::Binary => Some(String::from_utf8_lossy(a.as_binary::<i32>().value(i)).into()),
            _ => None,
        }
    }
    fn n(b: &RecordBatch, col: &str, i: usize) -> Option<i64> {
        use arrow_array::cast::AsArray;
        use arrow_array::types::*;
        use arrow_schema::DataType;
        let a = b.column_by_name(col)?;
        if a.is_null(i) {
            return None;
        }
        Some(match a.data_type() {
            DataType::Int8 => i64::from(a.as_primitive::<Int8Type>().value(i)),
            DataType::Int16 => i64::from(a.as_primitive::<Int16Type>().value(i)),
            DataType::Int32 => i64::from(a.as_primitive::<Int32Type>().value(i)),
            DataType::Int64 => a.as_primitive::<Int64Type>().value(i),
            DataType::UInt8 => i64::from(a.as_primitive::<UInt8Type>().value(i)),
            DataType::UInt16 => i64::from(a.as_primitive::<UInt16Type>().value(i)),
            DataType::UInt32 => i64::from(a.as_primitive::<UInt32Type>().value(i)),
            DataType::UInt64 => a.as_primitive::<UInt64Type>().value(i) as i64,
            DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, _) => {
                a.as_primitive::<TimestampMillisecondType>().value(i)
            }
            DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, _) => {
                a.as_primitive::<TimestampMicrosecondType>().value(i) / 1000
            }
            _ => return None,
        })
    }
    (0..b.num_rows()).map(move |i| Row {
        query_type: s(b, "query_type", i),
        query_name: s(b, "query_name", i),
        response_type: s(b, "response_type", i),
        response_name: s(b, "response_name", i),
        ttl: n(b, "response_ttl", i).or_else(|| n(b, "ttl", i)),
        status_code: n(b, "status_code", i),
        timestamp: n(b, "timestamp", i),
        mx_address: s(b, "mx_address", i),
        mx_preference: n(b, "mx_preference", i),
        ip4_address: s(b, "ip4_address", i),
        ip6_address: s(b, "ip6_address", i),
        cname_name: s(b, "cname_name", i),
    })
}

/// Collects rows (of one or more inputs, in order) and builds the records at the end.
#[derive(Default)]
pub struct Collector {
    order: Vec<String>,
    doms: HashMap<String, DomainRows>,
    addrs: HashMap<String, Vec<IpAddr>>,
    rows_seen: u64,
}

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one row; `Err` is the reason it is malformed. `Ok(false)`: valid but adds
    /// nothing beyond a status.
    pub fn add(&mut self, r: Row) -> Result<bool, String> {
        self.rows_seen += 1;
        let Some(f) = fact(&r)? else {
            return Ok(false);
        };
        match &f {
            Fact::Mx {
                domain, original, ..
            } => {
                if !self.doms.contains_key(domain) {
                    self.order.push(domain.clone());
                    self.doms
                        .insert(domain.clone(), DomainRows::new(self.rows_seen, original));
                }
                self.doms.get_mut(domain).expect("inserted above").add(&f);
            }
            Fact::Address { name, ip } => {
                let v = self.addrs.entry(name.clone()).or_default();
                if !v.contains(ip) {
                    v.push(*ip);
                }
            }
        }
        Ok(f.adds_content())
    }

    fn addrs(&self, name: &str) -> NameAddrs {
        self.addrs
            .get(name)
            .and_then(name_addrs)
            .unwrap_or_default()
    }

    /// The records, one per domain that had an MX query, in order of first appearance.
    pub fn finish(self) -> Vec<DomainDns> {
        self.order
            .iter()
            .map(|name| self.doms[name].record(name, |n| self.addrs(n)))
            .collect()
    }

    /// Adds a row, reporting a malformed one as `FILE:ROW: REASON` (row index, 1-based).
    pub fn add_reported(&mut self, r: Row, file: &str, row: u64, stats: &mut IngestStats) {
        stats.rows += 1;
        match self.add(r) {
            Ok(true) => {}
            Ok(false) => stats.skipped += 1,
            Err(reason) => stats.malformed(file, row, format_args!("row {row}: {reason}")),
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use mxinfer_record::DnsStatus;

    fn mx(q: &str, addr: &str, pref: i64) -> Row {
        Row {
            query_type: Some("MX".into()),
            query_name: Some(q.into()),
            response_type: Some("MX".into()),
            response_name: Some(q.into()),
            ttl: Some(300),
            status_code: Some(0),
            timestamp: Some(1_622_505_600_000),
            mx_address: Some(addr.into()),
            mx_preference: Some(pref),
            ..Row::default()
        }
    }

    #[test]
    fn mx_sets_null_mx_status_and_addresses() {
        let mut c = Collector::new();
        assert!(c.add(mx("example.org.", "aspmx.l.google.com.", 1)).unwrap());
        assert!(
            c.add(mx("example.org.", "alt1.aspmx.l.google.com.", 5))
                .unwrap()
        );
        assert!(c.add(mx("null.example.", ".", 0)).unwrap());
        let pseudo = Row {
            response_name: None,
            response_type: None,
            status_code: Some(3),
            mx_address: None,
            mx_preference: None,
            ..mx("gone.example.", "", 0)
        };
        assert!(!c.add(pseudo).unwrap());
        let a = Row {
            query_type: Some("A".into()),
            query_name: Some("aspmx.l.google.com.".into()),
            response_type: Some("A".into()),
            response_name: Some("aspmx.l.google.com.".into()),
            ip4_address: Some("192.0.2.7".into()),
            ..Row::default()
        };
        assert!(c.add(a).unwrap());
        let bad = Row {
            mx_preference: None,
            ..mx("bad.example.", "mx.bad.example.", 0)
        };
        assert!(c.add(bad).unwrap_err().contains("mx_preference"));
        let recs = c.finish();
        let names: Vec<&str> = recs.iter().map(|r| r.domain.as_str()).collect();
        // The malformed row added nothing, not even its domain.
        assert_eq!(names, ["example.org", "null.example", "gone.example"]);
        assert_eq!(recs[0].status, DnsStatus::Ok);
        assert_eq!(recs[0].mx.len(), 2);
        assert_eq!(
            recs[0].exchangers[0].addresses[0].ip.to_string(),
            "192.0.2.7"
        );
        assert_eq!(recs[0].resolved_at, "2021-06-01T00:00:00.000Z");
        assert_eq!(recs[1].status, DnsStatus::NullMx);
        assert_eq!(recs[2].status, DnsStatus::Nxdomain);
    }

    /// A runner that groups the facts itself (by domain, and addresses by name, each group
    /// in input order, groups in any order) gets the Collector's records.
    #[test]
    fn facts_grouped_apart_give_the_collectors_records() {
        let mut rows = vec![
            mx("b.example.", "mx.shared.example.", 10),
            mx("A.Example.", "mx.shared.example.", 5),
            Row {
                query_type: Some("A".into()),
                response_type: Some("A".into()),
                query_name: Some("mx.shared.example.".into()),
                response_name: Some("mx.shared.example.".into()),
                ip4_address: Some("192.0.2.9".into()),
                ..Row::default()
            },
            Row {
                status_code: Some(2),
                response_name: None,
                ..mx("b.example.", "", 0)
            },
            mx("a.example.", "mx2.a.example.", 20),
            Row {
                query_type: Some("AAAA".into()),
                response_type: Some("AAAA".into()),
                query_name: Some("mx.shared.example.".into()),
                response_name: Some("mx.shared.example.".into()),
                ip6_address: Some("2001:db8::9".into()),
                ..Row::default()
            },
        ];
        rows.push(Row {
            query_type: Some("A".into()),
            response_type: Some("A".into()),
            query_name: Some("a.example.".into()),
            response_name: Some("a.example.".into()),
            ip4_address: Some("192.0.2.1".into()),
            ..Row::default()
        });
        let mut c = Collector::new();
        for r in rows.clone() {
            c.add(r).unwrap();
        }
        let want = c.finish();
        // Apart: facts with positions, grouped by key.
        let mut doms: std::collections::BTreeMap<String, DomainRows> = Default::default();
        let mut addrs: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            match fact(r).unwrap().unwrap() {
                f @ Fact::Mx { .. } => {
                    let Fact::Mx {
                        domain, original, ..
                    } = &f
                    else {
                        unreachable!()
                    };
                    doms.entry(domain.clone())
                        .or_insert_with(|| DomainRows::new(i as u64 + 1, original))
                        .add(&f);
                }
                Fact::Address { name, ip } => addrs.entry(name).or_default().push(ip),
            }
        }
        let mut got: Vec<DomainDns> = doms
            .iter()
            .rev()
            .map(|(d, rows)| {
                let json = serde_json::to_string(rows).unwrap();
                let rows: DomainRows = serde_json::from_str(&json).unwrap();
                rows.record(d, |n| addrs.get(n).and_then(name_addrs).unwrap_or_default())
            })
            .collect();
        got.sort_by_key(|r| r.input.line);
        assert_eq!(got, want);
        assert_eq!(want[0].domain, "b.example");
        assert_eq!(want[0].status, mxinfer_record::DnsStatus::Servfail);
        assert_eq!(want[1].input.original.as_deref(), Some("A.Example."));
        assert_eq!(want[1].exchangers[0].addresses.len(), 2);
        assert_eq!(want[1].config_class, mxinfer_record::ConfigClass::Hybrid);
    }
}
