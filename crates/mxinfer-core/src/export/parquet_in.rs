//! Reading back the `dns` and `probes` tables of `mxinfer export` (feature `parquet`) as the
//! label stage's input: the files' record batches, each row converted by
//! [`mxinfer_tables::from_arrow`] (which says what the tables do not carry).

use arrow_array::RecordBatch;
use mxinfer_record::DomainDnsView;
use std::path::{Path, PathBuf};

pub use mxinfer_tables::from_arrow::ProbeRowIn;

/// A Parquet input that cannot be read as an export table.
#[derive(Debug, thiserror::Error)]
pub enum ParquetInError {
    #[error("opening {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a readable Parquet file", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("{}: reading a record batch", path.display())]
    Batch {
        path: PathBuf,
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// A column the table must have is missing or of another type.
    #[error("{}: {source}", path.display())]
    Column {
        path: PathBuf,
        source: mxinfer_tables::from_arrow::ColumnError,
    },
}

/// Each record batch of the file.
fn batches(
    path: &Path,
    mut f: impl FnMut(&RecordBatch) -> Result<(), ParquetInError>,
) -> Result<(), ParquetInError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).map_err(|source| ParquetInError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let read = |source| ParquetInError::Read {
        path: path.to_path_buf(),
        source,
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(read)?
        .with_batch_size(8192)
        .build()
        .map_err(read)?;
    for b in reader {
        let b = b.map_err(|source| ParquetInError::Batch {
            path: path.to_path_buf(),
            source,
        })?;
        f(&b)?;
    }
    Ok(())
}

fn column(path: &Path) -> impl Fn(mxinfer_tables::from_arrow::ColumnError) -> ParquetInError {
    move |source| ParquetInError::Column {
        path: path.to_path_buf(),
        source,
    }
}

/// Calls `f` with each row of an exported `dns` table (1-based row number), as the label
/// stage's view of a resolve record, or why the row is not one.
pub fn for_each_dns_view(
    path: &Path,
    mut f: impl FnMut(u64, Result<DomainDnsView<'static>, String>),
) -> Result<(), ParquetInError> {
    let mut row = 0u64;
    batches(path, |b: &RecordBatch| {
        mxinfer_tables::from_arrow::dns_views(b, &mut row, &mut f).map_err(column(path))
    })
}

/// Calls `f` with each row of an exported `probes` table (1-based row number), or why the
/// row is not a probe record.
pub fn for_each_probe_row(
    path: &Path,
    mut f: impl FnMut(u64, Result<ProbeRowIn, String>),
) -> Result<(), ParquetInError> {
    let mut row = 0u64;
    batches(path, |b: &RecordBatch| {
        mxinfer_tables::from_arrow::probe_rows(b, &mut row, &mut f).map_err(column(path))
    })
}
