//! OpenINTEL forward-DNS rows (Parquet; older archives Avro, same column names) -> resolve
//! records.
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
//! Rows are collected per domain, in order of first appearance, and become one record each
//! when the input is read ([`Collector::finish`]).

use super::{DomainFacts, IngestStats, NameAddrs, build_dns, norm_name};
use mxinfer_record::{DomainDns, InputRef, LookupStatus, MxRecord};
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

#[derive(Default)]
struct Dom {
    line: u64,
    original: String,
    mx_status: Option<i64>,
    mx: Vec<MxRecord>,
    cname: Vec<String>,
    first_ms: Option<i64>,
}

/// Collects rows (of one or more files) and builds the records at the end.
#[derive(Default)]
pub struct Collector {
    order: Vec<String>,
    doms: HashMap<String, Dom>,
    v4: HashMap<String, Vec<IpAddr>>,
    v6: HashMap<String, Vec<IpAddr>>,
    rows_seen: u64,
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

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one row; `Err` is the reason it is malformed. `Ok(false)`: valid but not used.
    pub fn add(&mut self, r: Row) -> Result<bool, String> {
        self.rows_seen += 1;
        let qtype = r.query_type.as_deref().ok_or("query_type is NULL")?;
        let qname_raw = r.query_name.as_deref().ok_or("query_name is NULL")?;
        let rtype = r.response_type.as_deref().unwrap_or_default();
        match (
            qtype.to_ascii_uppercase().as_str(),
            rtype.to_ascii_uppercase().as_str(),
        ) {
            ("MX", rt) => {
                let domain = crate::input::normalize_domain(qname_raw)
                    .map_err(|e| format!("query_name {qname_raw:?}: {e}"))?;
                // The row's content first: a malformed row adds nothing, not even its domain.
                enum Add {
                    Status,
                    Mx(MxRecord),
                    Cname(String),
                    Other,
                }
                let add = if r.response_name.is_none() {
                    Add::Status // pseudo-record (MX-set hash): the query's status only
                } else {
                    match rt {
                        "MX" => {
                            let addr =
                                r.mx_address.as_deref().ok_or("MX row without mx_address")?;
                            let pref = r
                                .mx_preference
                                .filter(|p| (0..=i64::from(u16::MAX)).contains(p))
                                .ok_or("MX row without mx_preference 0-65535")?;
                            let ex = norm_name(addr);
                            Add::Mx(MxRecord {
                                preference: pref as u16,
                                exchange: if ex.is_empty() { ".".into() } else { ex },
                                ttl: r.ttl.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
                            })
                        }
                        "CNAME" => Add::Cname(norm_name(
                            r.cname_name
                                .as_deref()
                                .ok_or("CNAME row without cname_name")?,
                        )),
                        _ => Add::Other,
                    }
                };
                if !self.doms.contains_key(&domain) {
                    self.order.push(domain.clone());
                    self.doms.insert(
                        domain.clone(),
                        Dom {
                            line: self.rows_seen,
                            original: qname_raw.to_string(),
                            ..Dom::default()
                        },
                    );
                }
                let d = self.doms.get_mut(&domain).expect("inserted above");
                if let Some(ts) = r.timestamp {
                    d.first_ms = Some(d.first_ms.map_or(ts, |t| t.min(ts)));
                }
                if let Some(c) = r.status_code {
                    // A failure seen on any row of the query wins over NOERROR.
                    if d.mx_status.is_none_or(|s| s == 0) {
                        d.mx_status = Some(c);
                    }
                }
                match add {
                    Add::Mx(m) => {
                        d.mx.push(m);
                        Ok(true)
                    }
                    Add::Cname(c) => {
                        if !d.cname.contains(&c) {
                            d.cname.push(c);
                        }
                        Ok(true)
                    }
                    Add::Status | Add::Other => Ok(false),
                }
            }
            (_, "A") => {
                let n = norm_name(
                    r.response_name
                        .as_deref()
                        .ok_or("A row without response_name")?,
                );
                let a = r
                    .ip4_address
                    .as_deref()
                    .ok_or("A row without ip4_address")?;
                let ip: IpAddr = a.parse().map_err(|_| format!("ip4_address {a:?}"))?;
                if !ip.is_ipv4() {
                    return Err(format!("ip4_address {a:?} is not IPv4"));
                }
                let v = self.v4.entry(n).or_default();
                if !v.contains(&ip) {
                    v.push(ip);
                }
                Ok(true)
            }
            (_, "AAAA") => {
                let n = norm_name(
                    r.response_name
                        .as_deref()
                        .ok_or("AAAA row without response_name")?,
                );
                let a = r
                    .ip6_address
                    .as_deref()
                    .ok_or("AAAA row without ip6_address")?;
                let ip: IpAddr = a.parse().map_err(|_| format!("ip6_address {a:?}"))?;
                if !ip.is_ipv6() {
                    return Err(format!("ip6_address {a:?} is not IPv6"));
                }
                let v = self.v6.entry(n).or_default();
                if !v.contains(&ip) {
                    v.push(ip);
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn addrs(&self, name: &str) -> NameAddrs {
        let (a, b) = (self.v4.get(name), self.v6.get(name));
        if a.is_none() && b.is_none() {
            return NameAddrs::default();
        }
        // Some address of the name is in the input: the other family is then "none".
        NameAddrs {
            v4: Some(a.cloned().unwrap_or_default()),
            v6: Some(b.cloned().unwrap_or_default()),
        }
    }

    /// The records, one per domain that had an MX query, in order of first appearance.
    pub fn finish(self) -> Vec<DomainDns> {
        let mut out = Vec::with_capacity(self.order.len());
        for name in &self.order {
            let d = &self.doms[name];
            let mut exchanger_addrs = HashMap::new();
            for m in d.mx.iter().filter(|m| m.exchange != ".") {
                exchanger_addrs.insert(m.exchange.clone(), self.addrs(&m.exchange));
            }
            let original = (d.original != *name).then(|| d.original.clone());
            let f = DomainFacts {
                domain: name.clone(),
                input: InputRef {
                    line: d.line,
                    original,
                    rank: None,
                    extra: Default::default(),
                },
                mx_status: d.mx_status.map_or(LookupStatus::Ok, status_of),
                mx: d.mx.clone(),
                mx_ttl: d.mx.iter().map(|m| m.ttl).min(),
                cname: d.cname.clone(),
                exchanger_addrs,
                apex: self.addrs(name),
                observed_at: d
                    .first_ms
                    .and_then(super::epoch_ms_rfc3339)
                    .unwrap_or_default(),
                source: "OpenINTEL",
                error: d
                    .mx_status
                    .filter(|c| ![0, 2, 3, 5].contains(c))
                    .map(|c| format!("status_code {c}")),
            };
            out.push(build_dns(f));
        }
        out
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

/// Reads OpenINTEL Parquet files (feature `parquet`).
#[cfg(feature = "parquet")]
pub fn read_parquet(
    path: &std::path::Path,
    c: &mut Collector,
    stats: &mut IngestStats,
) -> Result<(), super::IngestError> {
    use super::IngestError;
    use crate::error::FileContext;
    use arrow_array::{Array, RecordBatch};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).file("opening", path)?;
    let not_parquet = |source| IngestError::NotParquet {
        path: path.to_path_buf(),
        source,
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(not_parquet)?
        .build()
        .map_err(not_parquet)?;
    let name = path.display().to_string();
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
    let mut row = 0u64;
    for batch in reader {
        let b = batch.map_err(|source| IngestError::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
        for i in 0..b.num_rows() {
            row += 1;
            let r = Row {
                query_type: s(&b, "query_type", i),
                query_name: s(&b, "query_name", i),
                response_type: s(&b, "response_type", i),
                response_name: s(&b, "response_name", i),
                ttl: n(&b, "response_ttl", i).or_else(|| n(&b, "ttl", i)),
                status_code: n(&b, "status_code", i),
                timestamp: n(&b, "timestamp", i),
                mx_address: s(&b, "mx_address", i),
                mx_preference: n(&b, "mx_preference", i),
                ip4_address: s(&b, "ip4_address", i),
                ip6_address: s(&b, "ip6_address", i),
                cname_name: s(&b, "cname_name", i),
            };
            c.add_reported(r, &name, row, stats);
        }
    }
    Ok(())
}

/// Reads OpenINTEL Avro files (feature `avro`).
#[cfg(feature = "avro")]
pub fn read_avro(
    path: &std::path::Path,
    c: &mut Collector,
    stats: &mut IngestStats,
) -> Result<(), super::IngestError> {
    use crate::error::FileContext;
    use apache_avro::types::Value as V;
    let file = std::fs::File::open(path).file("opening", path)?;
    let reader = apache_avro::Reader::new(std::io::BufReader::new(file)).map_err(|e| {
        super::IngestError::NotAvro {
            path: path.to_path_buf(),
            source: Box::new(e),
        }
    })?;
    let name = path.display().to_string();
    fn un(v: &V) -> &V {
        match v {
            V::Union(_, b) => un(b),
            x => x,
        }
    }
    fn s(v: Option<&V>) -> Option<String> {
        match un(v?) {
            V::String(x) => Some(x.clone()),
            V::Bytes(b) => Some(String::from_utf8_lossy(b).into()),
            V::Enum(_, x) => Some(x.clone()),
            _ => None,
        }
    }
    fn n(v: Option<&V>) -> Option<i64> {
        match un(v?) {
            V::Int(x) => Some(i64::from(*x)),
            V::Long(x) => Some(*x),
            V::TimestampMillis(x) => Some(*x),
            V::TimestampMicros(x) => Some(*x / 1000),
            _ => None,
        }
    }
    for (idx, rec) in reader.enumerate() {
        let row = idx as u64 + 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                stats.rows += 1;
                stats.malformed(&name, row, format_args!("row {row}: {e}"));
                continue;
            }
        };
        let V::Record(fields) = rec else {
            stats.rows += 1;
            stats.malformed(&name, row, format_args!("row {row}: not a record"));
            continue;
        };
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        let r = Row {
            query_type: s(get("query_type")),
            query_name: s(get("query_name")),
            response_type: s(get("response_type")),
            response_name: s(get("response_name")),
            ttl: n(get("ttl")).or_else(|| n(get("response_ttl"))),
            status_code: n(get("status_code")),
            timestamp: n(get("timestamp")),
            mx_address: s(get("mx_address")),
            mx_preference: n(get("mx_preference")),
            ip4_address: s(get("ip4_address")),
            ip6_address: s(get("ip6_address")),
            cname_name: s(get("cname_name")),
        };
        c.add_reported(r, &name, row, stats);
    }
    Ok(())
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
}
