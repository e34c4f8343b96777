//! Rows of the export tables read back from Arrow record batches (feature `arrow`): each
//! row of a `dns` table becomes the label stage's view of a resolve record, each row of a
//! `probes` table the parts of a probe record the label reads. Used by `label` on the
//! Parquet files of `mxinfer export` and by `mxinfer.label` on pyarrow tables.
//!
//! What the tables do not carry, and what that changes:
//! - `dns`: the exchangers' flags (only `implicit` matters to the label: it is exactly the
//!   exchanger of a `no-mx` record, so it is restored from the status), `input.original` and
//!   `input.extra` (absent from the labels made from a table), and the shard.
//! - `probes`: the chain's certificates beyond the leaf's names (the label reads only those),
//!   the banner and EHLO replies' codes (their lines are joined with `\n`; the label reads
//!   the lines). A leaf counts as presented when the row has its SHA-256 or any name.

use arrow_array::cast::AsArray;
use arrow_array::{Array, ListArray, RecordBatch, StructArray};
use arrow_schema::DataType;
use mxinfer_label::{ProbeParts, TlsParts};
use mxinfer_record::{
    AddressView, DnsStatus, DomainDnsView, ExchangerFlag, ExchangerView, InputRef, UntrustedReason,
};
use std::borrow::Cow;
use std::net::IpAddr;

/// A batch that is not an export table of the kind expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an `mxinfer export {table}` table: column `{column}` is missing or not {want}")]
pub struct ColumnError {
    pub table: &'static str,
    pub column: &'static str,
    pub want: &'static str,
}

/// Typed access to the columns of one batch, with errors naming the file and column.
struct Cols<'a> {
    b: &'a RecordBatch,
    table: &'static str,
}

impl<'a> Cols<'a> {
    fn col(
        &self,
        column: &'static str,
        want: &'static str,
        ok: impl Fn(&DataType) -> bool,
    ) -> Result<&'a dyn Array, ColumnError> {
        match self.b.column_by_name(column) {
            Some(a) if ok(a.data_type()) => Ok(a.as_ref()),
            _ => Err(ColumnError {
                table: self.table,
                column,
                want,
            }),
        }
    }

    fn strings(&self, column: &'static str) -> Result<Strs<'a>, ColumnError> {
        let a = self.col(column, "strings", |t| {
            matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
        })?;
        Ok(Strs(a))
    }

    fn list(&self, column: &'static str) -> Result<&'a ListArray, ColumnError> {
        let a = self.col(column, "a list", |t| matches!(t, DataType::List(_)))?;
        Ok(a.as_list::<i32>())
    }
}

/// A string column of any of Arrow's string layouts.
#[derive(Clone, Copy)]
struct Strs<'a>(&'a dyn Array);

impl Strs<'_> {
    fn get(&self, i: usize) -> Option<&str> {
        if self.0.is_null(i) {
            return None;
        }
        Some(match self.0.data_type() {
            DataType::LargeUtf8 => self.0.as_string::<i64>().value(i),
            DataType::Utf8View => self.0.as_string_view().value(i),
            _ => self.0.as_string::<i32>().value(i),
        })
    }

    /// The strings of list item `i` of a list of strings.
    fn list_items(list: &ListArray, i: usize) -> Vec<String> {
        if list.is_null(i) {
            return Vec::new();
        }
        let v = list.value(i);
        let s = Strs(v.as_ref());
        (0..v.len())
            .filter_map(|j| s.get(j).map(str::to_string))
            .collect()
    }
}

fn u64_at(a: &dyn Array, i: usize) -> Option<u64> {
    use arrow_array::types::*;
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::UInt64 => Some(a.as_primitive::<UInt64Type>().value(i)),
        DataType::Int64 => u64::try_from(a.as_primitive::<Int64Type>().value(i)).ok(),
        DataType::UInt32 => Some(u64::from(a.as_primitive::<UInt32Type>().value(i))),
        DataType::Int32 => u64::try_from(a.as_primitive::<Int32Type>().value(i)).ok(),
        // Spark has no unsigned integers: it reads a UINT64 column as DECIMAL(20, 0).
        DataType::Decimal128(_, 0) => {
            u64::try_from(a.as_primitive::<Decimal128Type>().value(i)).ok()
        }
        _ => None,
    }
}

fn is_int(t: &DataType) -> bool {
    matches!(
        t,
        DataType::UInt64
            | DataType::Int64
            | DataType::UInt32
            | DataType::Int32
            | DataType::Decimal128(_, 0)
    )
}

/// A kebab-case enum value as the JSON records spell it.
fn kebab<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// Calls `f` with each row of a batch of a `dns` table (its row number: `row` counts on
/// from the rows before), as the label stage's view of a resolve record, or why the row is
/// not one.
pub fn dns_views(
    b: &RecordBatch,
    row: &mut u64,
    mut f: impl FnMut(u64, Result<DomainDnsView<'static>, String>),
) -> Result<(), ColumnError> {
    {
        let c = Cols { b, table: "dns" };
        let domain = c.strings("domain")?;
        let status = c.strings("status")?;
        let line = c.col("input_line", "an integer", is_int)?;
        let rank = c.col("rank", "an integer", is_int)?;
        let exchangers = c.list("exchangers")?;
        let items = exchangers.values();
        let Some(ex) = items.as_any().downcast_ref::<StructArray>() else {
            return Err(ColumnError {
                table: "dns",
                column: "exchangers",
                want: "a list of structs",
            });
        };
        let ex_batch = RecordBatch::from(ex.clone());
        let ex_cols = Cols {
            b: &ex_batch,
            table: "dns",
        };
        let names = ex_cols.strings("name")?;
        let prefs = ex_cols.col("preference", "an integer", is_int)?;
        let addrs = ex_cols.list("addresses")?;
        let offsets = exchangers.value_offsets();
        for i in 0..b.num_rows() {
            *row += 1;
            let row = *row;
            let view = (|| -> Result<DomainDnsView<'static>, String> {
                let d = domain.get(i).ok_or("no domain")?;
                let st = status.get(i).ok_or("no status")?;
                let st: DnsStatus = kebab(st).ok_or_else(|| format!("unknown status {st:?}"))?;
                let mut exs = Vec::new();
                if !exchangers.is_null(i) {
                    for j in offsets[i] as usize..offsets[i + 1] as usize {
                        let name = names.get(j).ok_or("an exchanger without a name")?;
                        let pref = u64_at(prefs, j)
                            .and_then(|p| u16::try_from(p).ok())
                            .ok_or_else(|| format!("exchanger {name}: bad preference"))?;
                        let mut addresses = Vec::new();
                        for a in Strs::list_items(addrs, j) {
                            let ip: IpAddr = a
                                .parse()
                                .map_err(|_| format!("exchanger {name}: bad address {a:?}"))?;
                            addresses.push(AddressView { ip });
                        }
                        exs.push(ExchangerView {
                            name: Cow::Owned(name.to_string()),
                            preference: pref,
                            // The implicit exchanger is exactly the one of a no-mx record.
                            flags: if st == DnsStatus::NoMx {
                                vec![ExchangerFlag::Implicit]
                            } else {
                                Vec::new()
                            },
                            addresses,
                        });
                    }
                }
                Ok(DomainDnsView {
                    domain: Cow::Owned(d.to_string()),
                    input: InputRef {
                        line: u64_at(line, i).unwrap_or(row),
                        rank: u64_at(rank, i),
                        ..InputRef::default()
                    },
                    status: st,
                    exchangers: exs,
                    shard: None,
                })
            })();
            f(row, view);
        }
        Ok(())
    }
}

/// One row of an exported `probes` table: what the label reads of it.
#[derive(Debug, Clone)]
pub struct ProbeRowIn {
    pub ip: IpAddr,
    pub banner: Option<Vec<String>>,
    pub ehlo: Option<Vec<String>>,
    /// STARTTLS led to a TLS attempt.
    pub tls: bool,
    pub verdict: Option<(bool, Option<UntrustedReason>)>,
    /// The leaf was presented (its SHA-256 or a name is there).
    pub leaf: bool,
    pub subject_cn: Option<String>,
    pub san_dns: Vec<String>,
    pub started_at: String,
}

impl ProbeRowIn {
    /// The address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The row as the labeller's input ([`mxinfer_label::AddressEvidence::from_parts`]).
    pub fn parts(&self) -> ProbeParts<'_> {
        ProbeParts {
            ip: self.ip,
            banner: self.banner.as_deref(),
            ehlo: self.ehlo.as_deref(),
            tls: self.tls.then(|| TlsParts {
                verdict: self.verdict,
                leaf: self
                    .leaf
                    .then_some((self.subject_cn.as_deref(), self.san_dns.as_slice())),
            }),
            started_at: &self.started_at,
        }
    }
}

/// Calls `f` with each row of a batch of a `probes` table (its row number: `row` counts on
/// from the rows before), or why the row is not a probe record.
pub fn probe_rows(
    b: &RecordBatch,
    row: &mut u64,
    mut f: impl FnMut(u64, Result<ProbeRowIn, String>),
) -> Result<(), ColumnError> {
    {
        let c = Cols { b, table: "probes" };
        let ip = c.strings("ip")?;
        let banner = c.strings("banner")?;
        let ehlo = c.strings("ehlo")?;
        let starttls = c
            .col("starttls", "booleans", |t| *t == DataType::Boolean)?
            .as_boolean();
        let trusted = c
            .col("chain_trusted", "booleans", |t| *t == DataType::Boolean)?
            .as_boolean();
        let reason = c.strings("chain_reason")?;
        let cn = c.strings("cert_subject_cn")?;
        let san = c.list("cert_san_dns")?;
        let sha = c.strings("cert_sha256")?;
        let started = c.strings("started_at")?;
        let lines = |s: Option<&str>| s.map(|t| t.split('\n').map(str::to_string).collect());
        for i in 0..b.num_rows() {
            *row += 1;
            let row = *row;
            let rec = (|| -> Result<ProbeRowIn, String> {
                let a = ip.get(i).ok_or("no address")?;
                let ip: IpAddr = a.parse().map_err(|_| format!("bad address {a:?}"))?;
                let verdict = if trusted.is_null(i) {
                    None
                } else {
                    let r = match reason.get(i) {
                        Some(r) => {
                            Some(kebab(r).ok_or_else(|| format!("unknown chain reason {r:?}"))?)
                        }
                        None => None,
                    };
                    Some((trusted.value(i), r))
                };
                let subject_cn = cn.get(i).map(str::to_string);
                let san_dns = Strs::list_items(san, i);
                Ok(ProbeRowIn {
                    ip,
                    banner: lines(banner.get(i)),
                    ehlo: lines(ehlo.get(i)),
                    tls: !starttls.is_null(i) && starttls.value(i),
                    verdict,
                    leaf: sha.get(i).is_some() || subject_cn.is_some() || !san_dns.is_empty(),
                    subject_cn,
                    san_dns,
                    started_at: started.get(i).ok_or("no started_at")?.to_string(),
                })
            })();
            f(row, rec);
        }
        Ok(())
    }
}
