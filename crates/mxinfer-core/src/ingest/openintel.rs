//! OpenINTEL forward-DNS files (Parquet; older archives Avro, same column names) ->
//! resolve records: the file readers; rows, facts and records are
//! `mxinfer_ingest::openintel`.

pub use mxinfer_ingest::openintel::*;

#[cfg(any(feature = "parquet", feature = "avro"))]
use super::IngestStats;

/// Reads OpenINTEL Parquet files (feature `parquet`).
#[cfg(feature = "parquet")]
pub fn read_parquet(
    path: &std::path::Path,
    c: &mut Collector,
    stats: &mut IngestStats,
) -> Result<(), super::IngestError> {
    use super::IngestError;
    use crate::error::FileContext;
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
    let mut row = 0u64;
    for batch in reader {
        let b = batch.map_err(|source| IngestError::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
        for r in rows_of_batch(&b) {
            row += 1;
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
