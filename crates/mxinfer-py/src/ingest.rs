//! The readers of other tools' datasets for a runner that groups rows itself (the Spark job):
//! the conversions of `mxinfer-ingest`, one Arrow batch at a time, with each row's position
//! given by the runner (the line or row number `mxinfer ingest` would report).

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_pyarrow::PyArrowType;
use mxinfer_ingest::IngestStats;
use mxinfer_ingest::openintel::{DomainRows, Fact, MxContent, fact, name_addrs, rows_of_batch};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

fn value_err(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A string column the runner must give.
fn strings<'a>(b: &'a RecordBatch, name: &str) -> PyResult<&'a arrow_array::StringArray> {
    b.column_by_name(name)
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| value_err(format!("the batch has no string column {name:?}")))
}

/// An int64 column the runner must give.
fn ints<'a>(b: &'a RecordBatch, name: &str) -> PyResult<&'a Int64Array> {
    b.column_by_name(name)
        .and_then(|c| c.as_primitive_opt::<Int64Type>())
        .ok_or_else(|| value_err(format!("the batch has no int64 column {name:?}")))
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> PyResult<PyArrowType<RecordBatch>> {
    RecordBatch::try_from_iter(cols)
        .map(PyArrowType)
        .map_err(value_err)
}

/// OpenINTEL rows (the columns of the files, plus `_file`: the file as reported, `_row`: the
/// row in the file from 1, `_pos`: the row over all inputs from 1) -> one row per input row:
/// `kind` (`mx`: a row of `key`'s MX query, `fact` its JSON and `exchange` the exchange it
/// names; `address`: an address `fact` of the name `key`; `skip`: a row of no use; `bad`:
/// malformed, `problem` says where and why, as `mxinfer ingest dns` does), `pos`, and
/// `adds`: whether the row adds content (an MX, a CNAME, an address), not only a status.
#[pyfunction]
pub fn openintel_facts(batch_in: PyArrowType<RecordBatch>) -> PyResult<PyArrowType<RecordBatch>> {
    let b = batch_in.0;
    let (file, row, pos) = (strings(&b, "_file")?, ints(&b, "_row")?, ints(&b, "_pos")?);
    let n = b.num_rows();
    let mut adds = Vec::with_capacity(n);
    let (mut kind, mut key, mut facts, mut exchange, mut problem) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (i, r) in rows_of_batch(&b).enumerate() {
        let (k, ky, f, ex, p) = match fact(&r) {
            Ok(Some(f)) => {
                adds.push(f.adds_content());
                let ex = match &f {
                    Fact::Mx {
                        content: MxContent::Mx(m),
                        ..
                    } if m.exchange != "." => Some(m.exchange.clone()),
                    _ => None,
                };
                let (k, json) = match &f {
                    Fact::Mx { .. } => ("mx", serde_json::to_string(&f).map_err(value_err)?),
                    Fact::Address { ip, .. } => ("address", ip.to_string()),
                };
                (k, Some(f.key().to_string()), Some(json), ex, None)
            }
            Ok(None) => {
                adds.push(false);
                ("skip", None, None, None, None)
            }
            Err(reason) => {
                adds.push(false);
                let at = row.value(i);
                (
                    "bad",
                    None,
                    None,
                    None,
                    Some(format!("{}:{at}: row {at}: {reason}", file.value(i))),
                )
            }
        };
        kind.push(k);
        key.push(ky);
        facts.push(f);
        exchange.push(ex);
        problem.push(p);
    }
    batch(vec![
        ("kind", Arc::new(StringArray::from(kind)) as ArrayRef),
        ("key", Arc::new(StringArray::from(key))),
        ("pos", Arc::new(pos.clone())),
        ("fact", Arc::new(StringArray::from(facts))),
        ("exchange", Arc::new(StringArray::from(exchange))),
        ("adds", Arc::new(arrow_array::BooleanArray::from(adds))),
        ("problem", Arc::new(StringArray::from(problem))),
    ])
}

#[derive(Deserialize)]
struct Positioned {
    pos: i64,
    fact: String,
}

#[derive(Deserialize)]
struct NameIps {
    name: String,
    #[serde(default)]
    ips: Vec<Positioned>,
}

/// One domain as the runner grouped it (JSON): its MX-query facts and the address facts of
/// its exchanges and of itself, each with its position.
#[derive(Deserialize)]
struct DomainGroup {
    domain: String,
    facts: Vec<Positioned>,
    #[serde(default)]
    addrs: Vec<NameIps>,
}

/// Grouped OpenINTEL facts (`value`: one domain's group as JSON, see the Spark reader) ->
/// `value`: the domain's resolve record (JSON), as `mxinfer ingest dns` writes it.
#[pyfunction]
pub fn openintel_records(batch_in: PyArrowType<RecordBatch>) -> PyResult<PyArrowType<RecordBatch>> {
    let b = batch_in.0;
    let values = strings(&b, "value")?;
    let mut out: Vec<String> = Vec::with_capacity(b.num_rows());
    for i in 0..b.num_rows() {
        let mut g: DomainGroup = serde_json::from_str(values.value(i))
            .map_err(|e| value_err(format!("domain group {i}: {e}")))?;
        g.facts.sort_by_key(|p| p.pos);
        let mut rows: Option<DomainRows> = None;
        for p in &g.facts {
            let f: Fact = serde_json::from_str(&p.fact)
                .map_err(|e| value_err(format!("fact of {}: {e}", g.domain)))?;
            let Fact::Mx { original, .. } = &f else {
                continue;
            };
            rows.get_or_insert_with(|| DomainRows::new(p.pos as u64, original))
                .add(&f);
        }
        let rows = rows.ok_or_else(|| value_err(format!("{}: no MX-query row", g.domain)))?;
        let mut addrs: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for mut n in g.addrs {
            n.ips.sort_by_key(|p| p.pos);
            let ips = n
                .ips
                .iter()
                .map(|p| p.fact.parse::<IpAddr>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| value_err(format!("address of {}: {e}", n.name)))?;
            addrs.insert(n.name, ips);
        }
        let rec = rows.record(&g.domain, |name| {
            addrs.get(name).and_then(name_addrs).unwrap_or_default()
        });
        out.push(serde_json::to_string(&rec).map_err(value_err)?);
    }
    batch(vec![(
        "value",
        Arc::new(StringArray::from(out)) as ArrayRef,
    )])
}

/// zgrab2 smtp lines (`value`, plus `_file`: the file as reported, `_line`: the line in it
/// from 1, `_pos`: the line over all inputs, which decides between two lines of an address)
/// -> one row per non-blank line: `ip`, `pos`, `value` (the probe record, JSON, as `mxinfer
/// ingest probes` writes it; trust from zgrab2's own verdict, a chain without one is not
/// judged here), `trust` (`dataset`, `unknown` or NULL without a chain) or `problem` (where
/// and why the line is unusable).
#[pyfunction]
#[pyo3(signature = (batch_in, *, port=25, at=None))]
pub fn zgrab2_probes(
    batch_in: PyArrowType<RecordBatch>,
    port: u16,
    at: Option<String>,
) -> PyResult<PyArrowType<RecordBatch>> {
    let b = batch_in.0;
    let (values, file) = (strings(&b, "value")?, strings(&b, "_file")?);
    let (line, pos) = (ints(&b, "_line")?, ints(&b, "_pos")?);
    let at = match at {
        Some(s) => Some(
            mxinfer_ingest::parse_time(&s)
                .ok_or_else(|| value_err(format!("at {s:?}: expected RFC 3339 or YYYY-MM-DD")))?,
        ),
        None => None,
    };
    let trust = mxinfer_ingest::trust::TrustSettings {
        judge: None,
        at,
        recompute: false,
    };
    let (mut ip, mut rec, mut how, mut problem, mut positions) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..b.num_rows() {
        if values.is_null(i) {
            continue;
        }
        let no = line.value(i);
        let mut text = values.value(i);
        if no == 1 {
            text = text.strip_prefix('\u{feff}').unwrap_or(text);
        }
        if text.trim().is_empty() {
            continue;
        }
        let mut st = IngestStats::default();
        let r = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v @ serde_json::Value::Object(_)) => {
                mxinfer_ingest::zgrab2::probe(&v, port, &trust, &mut st)
            }
            Ok(_) => Err("not a JSON object".to_string()),
            Err(e) => Err(format!("not JSON: {e}")),
        };
        positions.push(pos.value(i));
        match r {
            Ok(p) => {
                ip.push(Some(p.ip.to_string()));
                rec.push(Some(serde_json::to_string(&p).map_err(value_err)?));
                how.push(if st.trust_from_dataset > 0 {
                    Some("dataset")
                } else if st.trust_unknown > 0 {
                    Some("unknown")
                } else {
                    None
                });
                problem.push(None);
            }
            Err(reason) => {
                ip.push(None);
                rec.push(None);
                how.push(None);
                problem.push(Some(format!("{}:{no}: {reason}", file.value(i))));
            }
        }
    }
    batch(vec![
        ("ip", Arc::new(StringArray::from(ip)) as ArrayRef),
        ("pos", Arc::new(Int64Array::from(positions))),
        ("value", Arc::new(StringArray::from(rec))),
        ("trust", Arc::new(StringArray::from(how))),
        ("problem", Arc::new(StringArray::from(problem))),
    ])
}
