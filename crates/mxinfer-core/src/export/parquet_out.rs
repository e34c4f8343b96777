//! Parquet writing of the export tables (feature `parquet`): one Arrow record batch
//! (`mxinfer_tables::to_arrow`) per [`super::BATCH_ROWS`] rows, Snappy-compressed.

use super::ExportError;
use super::TableRow;
use std::path::Path;

/// Writes `rows` to `path` as Parquet (Snappy).
pub fn write_parquet<R: TableRow>(path: &Path, rows: &[R]) -> Result<(), ExportError> {
    use crate::error::FileContext;
    let pq = |source| ExportError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    let schema = R::record_batch(&[]).map_err(ExportError::Arrow)?.schema();
    let f = std::fs::File::create(path).file("creating", path)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("mxinfer {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut w = ArrowWriter::try_new(f, schema, Some(props)).map_err(pq)?;
    for chunk in rows.chunks(super::BATCH_ROWS) {
        w.write(&R::record_batch(chunk).map_err(ExportError::Arrow)?)
            .map_err(pq)?;
    }
    w.close().map_err(pq)?;
    Ok(())
}
