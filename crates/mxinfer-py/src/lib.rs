//! The native module of the Python package `mxinfer` (`mxinfer._mxinfer`): the labeller of
//! `mxinfer-label` over Arrow record batches (the `dns` and `probes` tables of `mxinfer
//! export`, as pyarrow gives them) or JSON Lines files (plain or gzip), with the labels
//! returned as an Arrow table (the columns of `mxinfer export labels` plus the record as
//! JSON). No network stack, no async runtime, no TLS: only the schema, the labeller and the
//! tables. The Python side (`python/mxinfer/__init__.py`) is the documented API.

mod ingest;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_pyarrow::{PyArrowType, Table};
use arrow_schema::{DataType, Field, Schema};
use mxinfer_label::data::LabelData;
use mxinfer_label::pfx2as::AsTable;
use mxinfer_label::psl::Psl;
use mxinfer_label::{AddressEvidence, LabelSettings, Labeller};
use mxinfer_record::{Approach, DomainDnsView, HostProbe};
use mxinfer_tables::from_arrow;
use mxinfer_tables::rows::LabelRow;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Problems kept word for word (the rest are counted).
const PROBLEMS_KEPT: usize = 100;
/// Rows per output batch.
const BATCH_ROWS: usize = 65_536;

/// Where a stage's records come from.
enum Source {
    Table(Vec<RecordBatch>),
    Jsonl(Vec<PathBuf>),
}

/// Rows or lines that are not records: counted, the first ones kept with where they are.
#[derive(Default)]
struct Problems {
    count: u64,
    kept: Vec<String>,
}

impl Problems {
    fn add(&mut self, what: String) {
        self.count += 1;
        if self.kept.len() < PROBLEMS_KEPT {
            self.kept.push(what);
        }
    }
}

fn os_err(path: &Path, e: std::io::Error) -> PyErr {
    PyOSError::new_err(format!("{}: {e}", path.display()))
}

/// A JSON Lines file, gzip-compressed or not (found by its first bytes).
fn open_lines(path: &Path) -> PyResult<Box<dyn BufRead>> {
    let f = std::fs::File::open(path).map_err(|e| os_err(path, e))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let head = r.fill_buf().map_err(|e| os_err(path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Box::new(BufReader::new(
            flate2::bufread::MultiGzDecoder::new(r),
        )));
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(PyValueError::new_err(format!(
            "{}: zstd-compressed: the Python package reads plain or gzip JSON Lines (or Parquet)",
            path.display()
        )));
    }
    Ok(Box::new(r))
}

/// Calls `f` with each non-blank line of `path` and its 1-based number.
fn each_line(path: &Path, mut f: impl FnMut(u64, &[u8])) -> PyResult<()> {
    let mut r = open_lines(path)?;
    let mut line = Vec::new();
    let mut no = 0u64;
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)
            .map_err(|e| os_err(path, e))?
            == 0
        {
            return Ok(());
        }
        no += 1;
        let body = if no == 1 {
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line)
        } else {
            &line
        };
        if !body.iter().all(u8::is_ascii_whitespace) {
            f(no, body);
        }
    }
}

/// Each resolve record of the source (the label stage's view); `problems` gets the others.
fn each_dns(
    src: &Source,
    problems: &mut Problems,
    mut f: impl FnMut(DomainDnsView<'_>) -> PyResult<()>,
) -> PyResult<()> {
    let mut failed = None;
    match src {
        Source::Table(batches) => {
            let mut row = 0u64;
            for b in batches {
                from_arrow::dns_views(b, &mut row, |n, r| match r {
                    Ok(d) => {
                        if failed.is_none() {
                            failed = f(d).err();
                        }
                    }
                    Err(e) => problems.add(format!("dns row {n}: not a record: {e}")),
                })
                .map_err(|e| PyValueError::new_err(format!("dns: {e}")))?;
            }
        }
        Source::Jsonl(paths) => {
            for p in paths {
                each_line(p, |n, line| {
                    match serde_json::from_slice::<DomainDnsView<'_>>(line) {
                        Ok(d) => {
                            if failed.is_none() {
                                failed = f(d).err();
                            }
                        }
                        Err(e) => problems.add(format!("{}:{n}: not a record: {e}", p.display())),
                    }
                })?;
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

/// The evidence of each probe record of the source, with its address's origin ASes.
fn each_probe(
    src: &Source,
    asn: &AsTable,
    problems: &mut Problems,
    mut f: impl FnMut(AddressEvidence),
) -> PyResult<()> {
    match src {
        Source::Table(batches) => {
            let mut row = 0u64;
            for b in batches {
                from_arrow::probe_rows(b, &mut row, |n, r| match r {
                    Ok(p) => f(AddressEvidence::from_parts(&p.parts(), asn.lookup(p.ip()))),
                    Err(e) => problems.add(format!("probes row {n}: not a record: {e}")),
                })
                .map_err(|e| PyValueError::new_err(format!("probes: {e}")))?;
            }
        }
        Source::Jsonl(paths) => {
            for p in paths {
                each_line(p, |n, line| {
                    match serde_json::from_slice::<HostProbe>(line) {
                        Ok(h) => f(AddressEvidence::from_probe(&h, asn.lookup(h.ip))),
                        Err(e) => problems.add(format!("{}:{n}: not a record: {e}", p.display())),
                    }
                })?;
            }
        }
    }
    Ok(())
}

fn source(table: Option<PyArrowType<Table>>, paths: Vec<String>) -> Source {
    match table {
        Some(t) => Source::Table(t.0.into_inner().0),
        None => Source::Jsonl(paths.into_iter().map(PathBuf::from).collect()),
    }
}

fn read_text(path: &str) -> PyResult<String> {
    let mut s = String::new();
    open_lines(Path::new(path))?
        .read_to_string(&mut s)
        .map_err(|e| os_err(Path::new(path), e))?;
    Ok(s)
}

/// The approach named as in `--approach` (`mx_only` accepted for `mx-only`).
fn approach(name: &str) -> PyResult<Approach> {
    serde_json::from_value(serde_json::Value::String(name.replace('_', "-"))).map_err(|_| {
        PyValueError::new_err(format!(
            "approach {name:?}: expected priority, mx-only, certificate or banner"
        ))
    })
}

/// The labeller with its data: the embedded tables unless files are given.
fn labeller(
    psl: Option<String>,
    psl_icann_only: bool,
    companies: Option<String>,
    settings: LabelSettings,
) -> PyResult<Labeller> {
    let data_err =
        |what: &str, e: mxinfer_label::DataError| PyValueError::new_err(format!("{what}: {e}"));
    let psl = match psl {
        Some(p) => Psl::parse(&read_text(&p)?, psl_icann_only).map_err(|e| data_err(&p, e))?,
        None => Psl::embedded(psl_icann_only),
    };
    let mut data = LabelData::embedded();
    if let Some(p) = companies {
        data = data
            .with_companies(&read_text(&p)?)
            .map_err(|e| data_err(&p, e))?;
    }
    Ok(Labeller::new(psl, data, settings))
}

fn as_table(pfx2as: Option<String>) -> PyResult<AsTable> {
    match pfx2as {
        Some(p) => {
            let mut t = AsTable::new();
            t.load(open_lines(Path::new(&p))?, &p)
                .map_err(|e| PyValueError::new_err(format!("{p}: {e}")))?;
            Ok(t)
        }
        None => Ok(AsTable::embedded()),
    }
}

/// The labels as Arrow record batches, made as the labels come (a batch every
/// [`BATCH_ROWS`] labels), so no more than one batch is held as Rust values: the `labels`
/// export columns and `record` (the JSON).
struct LabelBatches {
    schema: Arc<Schema>,
    rows: Vec<LabelRow>,
    json: Vec<String>,
    batches: Vec<RecordBatch>,
}

fn arrow_err(e: arrow_schema::ArrowError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

impl LabelBatches {
    fn new() -> PyResult<LabelBatches> {
        let empty = mxinfer_tables::to_arrow::labels(&[]).map_err(arrow_err)?;
        let mut fields: Vec<Field> = empty
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new("record", DataType::Utf8, false));
        Ok(LabelBatches {
            schema: Arc::new(Schema::new(fields)),
            rows: Vec::new(),
            json: Vec::new(),
            batches: Vec::new(),
        })
    }

    /// One domain's label.
    fn push(&mut self, rec: &mxinfer_record::DomainLabel) -> PyResult<()> {
        self.rows
            .push(LabelRow::from_label(rec).map_err(|e| PyValueError::new_err(e.to_string()))?);
        let mut json = Vec::new();
        mxinfer_label::json::write_label(&mut json, rec);
        self.json.push(String::from_utf8(json).unwrap_or_default());
        if self.rows.len() == BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> PyResult<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let b = mxinfer_tables::to_arrow::labels(&self.rows).map_err(arrow_err)?;
        let mut cols: Vec<ArrayRef> = b.columns().to_vec();
        cols.push(Arc::new(StringArray::from(std::mem::take(&mut self.json))));
        self.rows.clear();
        self.batches
            .push(RecordBatch::try_new(self.schema.clone(), cols).map_err(arrow_err)?);
        Ok(())
    }

    fn finish(mut self) -> PyResult<Table> {
        self.flush()?;
        Table::try_new(self.batches, self.schema).map_err(arrow_err)
    }
}

/// Labels the resolve records of `dns_*` from the probe records of `probes_*` (each a
/// pyarrow table of the export schema, or JSON Lines paths); returns the labels table, the
/// number of input rows that were not records, and the first of them word for word.
#[pyfunction]
#[pyo3(signature = (
    dns_table, dns_paths, probes_table, probe_paths, *, pfx2as=None, approach_name="priority",
    threshold=mxinfer_label::DEFAULT_THRESHOLD, companies=None, psl=None, psl_icann_only=false,
    compact=false
))]
#[allow(clippy::too_many_arguments)]
fn label(
    py: Python<'_>,
    dns_table: Option<PyArrowType<Table>>,
    dns_paths: Vec<String>,
    probes_table: Option<PyArrowType<Table>>,
    probe_paths: Vec<String>,
    pfx2as: Option<String>,
    approach_name: &str,
    threshold: u64,
    companies: Option<String>,
    psl: Option<String>,
    psl_icann_only: bool,
    compact: bool,
) -> PyResult<(PyArrowType<Table>, u64, Vec<String>)> {
    if threshold == 0 {
        return Err(PyValueError::new_err(
            "threshold 0: expected 1 or more (0 would disable every check)",
        ));
    }
    let settings = LabelSettings {
        threshold,
        approach: approach(approach_name)?,
        compact,
    };
    let (dns, probes) = (
        source(dns_table, dns_paths),
        source(probes_table, probe_paths),
    );
    let asn = as_table(pfx2as)?;
    let mut lab = labeller(psl, psl_icann_only, companies, settings)?;
    // The labelling is pure Rust: other Python threads run meanwhile.
    let out = py.detach(move || -> PyResult<(Table, Problems)> {
        let mut problems = Problems::default();
        each_probe(&probes, &asn, &mut problems, |e| lab.add_evidence(&e))?;
        each_dns(&dns, &mut problems, |d| {
            lab.count_domain_view(d);
            Ok(())
        })?;
        lab.finish();
        let mut out = LabelBatches::new()?;
        // The second read meets the same bad rows: they were counted by the first.
        let mut again = Problems::default();
        each_dns(&dns, &mut again, |d| {
            let rec = lab
                .label_view(d)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
            out.push(&rec)
        })?;
        Ok((out.finish()?, problems))
    })?;
    let (table, problems) = out;
    Ok((PyArrowType(table), problems.count, problems.kept))
}

// ---------------------------------------------------------------------------------------------
// The phases over record batches, for a distributed runner (`mxinfer.spark`): the plain data
// between them is the evidence of each address and the batch counts, both as JSON
// (`AddressEvidence`, `BatchCounts`; `crates/mxinfer-label` documents the recipe).
// ---------------------------------------------------------------------------------------------

/// A batch of records: a table of the export schema, or JSON Lines in a `value` column (what
/// Spark's text reader gives).
fn batch_source(b: RecordBatch) -> Source {
    Source::Table(vec![b])
}

/// The JSON lines of a `value` column, if the batch is one (Spark's text reader).
fn value_lines(b: &RecordBatch) -> Option<Vec<Option<String>>> {
    if b.column_by_name("domain").is_some() || b.column_by_name("ip").is_some() {
        return None;
    }
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    let col = b.column_by_name("value")?;
    let get = |i: usize| -> Option<String> {
        if col.is_null(i) {
            return None;
        }
        Some(match col.data_type() {
            DataType::Utf8 => col.as_string::<i32>().value(i).to_string(),
            DataType::LargeUtf8 => col.as_string::<i64>().value(i).to_string(),
            DataType::Utf8View => col.as_string_view().value(i).to_string(),
            _ => return None,
        })
    };
    if !matches!(
        col.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        return None;
    }
    Some((0..col.len()).map(get).collect())
}

/// Prefix-to-AS tables by path, loaded once per process (an executor labels many batches).
fn cached_as_table(pfx2as: Option<String>) -> PyResult<Arc<AsTable>> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<Option<String>, Arc<AsTable>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(t) = cache.lock().ok().and_then(|c| c.get(&pfx2as).cloned()) {
        return Ok(t);
    }
    let t = Arc::new(as_table(pfx2as.clone())?);
    if let Ok(mut c) = cache.lock() {
        c.insert(pfx2as, t.clone());
    }
    Ok(t)
}

/// Phase 1 over one batch of probe records: per record its address, the key that decides
/// between two records of an address (`live`, `started_at`, then `digest_key`: the greater
/// struct wins, as `AddressEvidence::wins_over`), and the evidence as JSON; or, for a row
/// that is not a record, `problem`.
#[pyfunction]
#[pyo3(signature = (batch, pfx2as=None))]
fn evidence_batch(
    batch: PyArrowType<RecordBatch>,
    pfx2as: Option<String>,
) -> PyResult<PyArrowType<RecordBatch>> {
    use arrow_array::BooleanArray;
    let asn = cached_as_table(pfx2as)?;
    let mut out: Vec<(Option<AddressEvidence>, Option<String>)> = Vec::new();
    let b = batch.0;
    match value_lines(&b) {
        Some(lines) => {
            for (i, l) in lines.into_iter().enumerate() {
                let Some(l) = l.filter(|l| !l.trim().is_empty()) else {
                    continue;
                };
                match serde_json::from_str::<HostProbe>(&l) {
                    Ok(h) => out.push((
                        Some(AddressEvidence::from_probe(&h, asn.lookup(h.ip))),
                        None,
                    )),
                    Err(e) => out.push((
                        None,
                        Some(format!("probes line {}: not a record: {e}", i + 1)),
                    )),
                }
            }
        }
        None => {
            let mut problems = Problems::default();
            let mut evs = Vec::new();
            each_probe(&batch_source(b), &asn, &mut problems, |e| evs.push(e))?;
            out.extend(evs.into_iter().map(|e| (Some(e), None)));
            out.extend(problems.kept.into_iter().map(|p| (None, Some(p))));
            for _ in PROBLEMS_KEPT as u64..problems.count {
                out.push((None, Some("probes row: not a record".to_string())));
            }
        }
    }
    let ip: StringArray = out
        .iter()
        .map(|(e, _)| e.as_ref().map(|e| e.ip.to_string()))
        .collect();
    let live: BooleanArray = out
        .iter()
        .map(|(e, _)| e.as_ref().map(AddressEvidence::is_live))
        .collect();
    let started: StringArray = out
        .iter()
        .map(|(e, _)| e.as_ref().map(|e| e.started_at.clone()))
        .collect();
    // The smaller digest wins: its complement, in fixed-width hex, orders the other way.
    let digest: StringArray = out
        .iter()
        .map(|(e, _)| e.as_ref().map(|e| format!("{:016x}", !e.digest)))
        .collect();
    let json: StringArray = out
        .iter()
        .map(|(e, _)| e.as_ref().and_then(|e| serde_json::to_string(e).ok()))
        .collect();
    let problem: StringArray = out.iter().map(|(_, p)| p.clone()).collect();
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("ip", Arc::new(ip)),
        ("live", Arc::new(live)),
        ("started_at", Arc::new(started)),
        ("digest_key", Arc::new(digest)),
        ("evidence", Arc::new(json)),
        ("problem", Arc::new(problem)),
    ];
    RecordBatch::try_from_iter(cols)
        .map(PyArrowType)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A labeller given the evidence (JSON of `AddressEvidence`, one per address).
fn labeller_with(
    evidence: &[String],
    settings: LabelSettings,
    psl: Option<String>,
    psl_icann_only: bool,
    companies: Option<String>,
) -> PyResult<Labeller> {
    let mut lab = labeller(psl, psl_icann_only, companies, settings)?;
    for e in evidence {
        let e: AddressEvidence =
            serde_json::from_str(e).map_err(|e| PyValueError::new_err(format!("evidence: {e}")))?;
        lab.add_evidence(&e);
    }
    Ok(lab)
}

/// Each resolve record of a batch (export table or JSON lines), counting the others.
fn each_dns_of(
    b: RecordBatch,
    problems: &mut Problems,
    mut f: impl FnMut(DomainDnsView<'_>) -> PyResult<()>,
) -> PyResult<()> {
    match value_lines(&b) {
        Some(lines) => {
            for (i, l) in lines.into_iter().enumerate() {
                let Some(l) = l.filter(|l| !l.trim().is_empty()) else {
                    continue;
                };
                match serde_json::from_str::<DomainDnsView<'_>>(&l) {
                    Ok(d) => f(d)?,
                    Err(e) => problems.add(format!("dns line {}: not a record: {e}", i + 1)),
                }
            }
            Ok(())
        }
        None => each_dns(&batch_source(b), problems, f),
    }
}

/// The batch counts of one batch of resolve records, and its rows that are not records.
fn count_part(
    batch: RecordBatch,
    evidence: &[String],
    psl: Option<String>,
    psl_icann_only: bool,
    companies: Option<String>,
) -> PyResult<(mxinfer_label::BatchCounts, Problems)> {
    let mut lab = labeller_with(
        evidence,
        LabelSettings::default(),
        psl,
        psl_icann_only,
        companies,
    )?;
    let mut problems = Problems::default();
    each_dns_of(batch, &mut problems, |d| {
        lab.count_domain_view(d);
        Ok(())
    })?;
    Ok((lab.export_counts(), problems))
}

/// Phase 2 over one batch of resolve records: the batch counts of its domains as JSON
/// (`BatchCounts`), and its rows that are not records (count, first ones).
#[pyfunction]
#[pyo3(signature = (batch, evidence, *, psl=None, psl_icann_only=false, companies=None))]
fn count_batch(
    batch: PyArrowType<RecordBatch>,
    evidence: Vec<String>,
    psl: Option<String>,
    psl_icann_only: bool,
    companies: Option<String>,
) -> PyResult<(String, u64, Vec<String>)> {
    let (c, problems) = count_part(batch.0, &evidence, psl, psl_icann_only, companies)?;
    let counts = serde_json::to_string(&c).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((counts, problems.count, problems.kept))
}

/// Phase 2 over one batch of resolve records, as rows a runner aggregates itself (Spark:
/// group by `kind` and `key`, sum `n`): `domains` and `dead` (key empty), `ip` (numIP per
/// address), `mx` (numMX per exchanger name), `cert` (numCert per registered domain), and
/// `bad` (a row that is not a record: the problem as key). The claims' domain lists are left
/// out (the labels do not read them).
#[pyfunction]
#[pyo3(signature = (batch, evidence, *, psl=None, psl_icann_only=false, companies=None))]
fn count_rows(
    batch: PyArrowType<RecordBatch>,
    evidence: Vec<String>,
    psl: Option<String>,
    psl_icann_only: bool,
    companies: Option<String>,
) -> PyResult<PyArrowType<RecordBatch>> {
    use arrow_array::Int64Array;
    let (c, problems) = count_part(batch.0, &evidence, psl, psl_icann_only, companies)?;
    let mut rows: Vec<(&str, String, i64)> = vec![
        ("domains", String::new(), c.domains as i64),
        ("dead", String::new(), c.dead_primary_fallbacks as i64),
    ];
    rows.extend(
        c.num_ip
            .iter()
            .map(|(ip, n)| ("ip", ip.to_string(), i64::from(*n))),
    );
    rows.extend(c.num_mx.into_iter().map(|(k, n)| ("mx", k, i64::from(n))));
    rows.extend(
        c.num_cert
            .into_iter()
            .map(|(k, n)| ("cert", k, i64::from(n))),
    );
    let kept = problems.kept.len() as u64;
    rows.extend(problems.kept.into_iter().map(|p| ("bad", p, 1)));
    if problems.count > kept {
        rows.push((
            "bad",
            "(more rows that are not records)".into(),
            (problems.count - kept) as i64,
        ));
    }
    let kind: StringArray = rows.iter().map(|r| Some(r.0)).collect();
    let key: StringArray = rows.iter().map(|r| Some(r.1.as_str())).collect();
    let n: Int64Array = rows.iter().map(|r| Some(r.2)).collect();
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("kind", Arc::new(kind)),
        ("key", Arc::new(key)),
        ("n", Arc::new(n)),
    ];
    RecordBatch::try_from_iter(cols)
        .map(PyArrowType)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The merged counts (JSON, for `label_batch`) from rows of [`count_rows`] summed by kind and
/// key. `mx` rows may be left out where the sum is 1 (see `Labeller::import_counts`).
#[pyfunction]
fn counts_from_rows(rows: Vec<(String, String, i64)>) -> PyResult<String> {
    let mut c = mxinfer_label::BatchCounts::default();
    let n32 = |n: i64, k: &str| {
        u32::try_from(n)
            .map_err(|_| PyValueError::new_err(format!("count {n} of {k:?} out of range")))
    };
    for (kind, key, n) in rows {
        match kind.as_str() {
            "domains" => c.domains += n.max(0) as u64,
            "dead" => c.dead_primary_fallbacks += n.max(0) as u64,
            "ip" => {
                let ip = key.parse().map_err(|_| {
                    PyValueError::new_err(format!("count of {key:?}: not an address"))
                })?;
                c.num_ip.insert(ip, n32(n, &key)?);
            }
            "mx" => {
                let v = n32(n, &key)?;
                c.num_mx.insert(key, v);
            }
            "cert" => {
                let v = n32(n, &key)?;
                c.num_cert.insert(key, v);
            }
            "bad" => {}
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown count kind {other:?}"
                )));
            }
        }
    }
    serde_json::to_string(&c).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Phase 2's merge: the counts of every part (JSON), added up.
#[pyfunction]
fn merge_counts(parts: Vec<String>) -> PyResult<String> {
    let mut merged = mxinfer_label::BatchCounts::default();
    for p in parts {
        let c: mxinfer_label::BatchCounts =
            serde_json::from_str(&p).map_err(|e| PyValueError::new_err(format!("counts: {e}")))?;
        merged.merge(&c);
    }
    serde_json::to_string(&merged).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Phases 3 and 4 over one batch of resolve records: the labels of its domains (the table
/// of `label`), with the whole batch's merged counts.
#[pyfunction]
#[pyo3(signature = (
    batch, evidence, merged_counts, *, approach_name="priority",
    threshold=mxinfer_label::DEFAULT_THRESHOLD, psl=None, psl_icann_only=false, companies=None,
    compact=false
))]
#[allow(clippy::too_many_arguments)]
fn label_batch(
    batch: PyArrowType<RecordBatch>,
    evidence: Vec<String>,
    merged_counts: &str,
    approach_name: &str,
    threshold: u64,
    psl: Option<String>,
    psl_icann_only: bool,
    companies: Option<String>,
    compact: bool,
) -> PyResult<PyArrowType<Table>> {
    let settings = LabelSettings {
        threshold,
        approach: approach(approach_name)?,
        compact,
    };
    let merged: mxinfer_label::BatchCounts = serde_json::from_str(merged_counts)
        .map_err(|e| PyValueError::new_err(format!("counts: {e}")))?;
    let mut lab = labeller_with(&evidence, settings, psl, psl_icann_only, companies)?;
    let b = batch.0;
    let mut problems = Problems::default();
    // This labeller's own count first (it learns the batch's names), then the whole's.
    each_dns_of(b.clone(), &mut problems, |d| {
        lab.count_domain_view(d);
        Ok(())
    })?;
    lab.import_counts(&merged)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    lab.finish();
    let mut out = LabelBatches::new()?;
    each_dns_of(b, &mut Problems::default(), |d| {
        let rec = lab
            .label_view(d)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        out.push(&rec)
    })?;
    Ok(PyArrowType(out.finish()?))
}

/// The embedded data's versions: the PSL's date and the companies table's size.
#[pyfunction]
fn data_versions() -> (Option<String>, usize) {
    (
        Psl::embedded(false).version().map(str::to_string),
        LabelData::embedded().company_count(),
    )
}

#[pymodule]
fn _mxinfer(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(label, m)?)?;
    m.add_function(wrap_pyfunction!(data_versions, m)?)?;
    m.add_function(wrap_pyfunction!(evidence_batch, m)?)?;
    m.add_function(wrap_pyfunction!(count_batch, m)?)?;
    m.add_function(wrap_pyfunction!(merge_counts, m)?)?;
    m.add_function(wrap_pyfunction!(count_rows, m)?)?;
    m.add_function(wrap_pyfunction!(counts_from_rows, m)?)?;
    m.add_function(wrap_pyfunction!(label_batch, m)?)?;
    m.add_function(wrap_pyfunction!(ingest::openintel_facts, m)?)?;
    m.add_function(wrap_pyfunction!(ingest::openintel_records, m)?)?;
    m.add_function(wrap_pyfunction!(ingest::zgrab2_probes, m)?)?;
    Ok(())
}
