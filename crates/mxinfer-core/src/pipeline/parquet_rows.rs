//! The label stage's Parquet inputs (the `dns` and `probes` tables of `mxinfer export`): rows
//! counted like lines, a row that is not a record reported with its file and row number and
//! counted as rejected, like a bad line of JSON Lines. Without the `parquet` feature, a
//! Parquet input is an error that says how to build with it.

use crate::Error;
use mxinfer_record::{DomainDnsView, InputCounts};
use std::path::Path;

#[cfg(feature = "parquet")]
pub(super) use crate::export::parquet_in::ProbeRowIn;

/// Without the feature there are no rows to hand out.
#[cfg(not(feature = "parquet"))]
pub(super) enum ProbeRowIn {}

#[cfg(not(feature = "parquet"))]
impl ProbeRowIn {
    pub(super) fn ip(&self) -> std::net::IpAddr {
        match *self {}
    }
    pub(super) fn parts(&self) -> mxinfer_label::ProbeParts<'_> {
        match *self {}
    }
}

#[cfg(feature = "parquet")]
fn count<T>(
    path: &Path,
    counts: &mut InputCounts,
    row: u64,
    r: Result<T, String>,
    f: &mut impl FnMut(T),
) {
    counts.lines += 1;
    match r {
        Ok(x) => {
            counts.accepted += 1;
            f(x);
        }
        Err(e) => {
            counts.rejected += 1;
            tracing::warn!("{}: row {row}: not a record: {e}", path.display());
        }
    }
}

/// Without the `parquet` feature: the error that says how to build with it.
#[cfg(not(feature = "parquet"))]
fn no_parquet(path: &Path) -> Error {
    crate::jsonl::JsonlError::Parquet {
        path: path.to_path_buf(),
    }
    .into()
}

/// Each resolve record of an exported `dns` table.
pub(super) fn dns(
    path: &Path,
    counts: &mut InputCounts,
    mut f: impl FnMut(DomainDnsView<'static>),
) -> Result<(), Error> {
    #[cfg(feature = "parquet")]
    return Ok(crate::export::parquet_in::for_each_dns_view(
        path,
        |row, r| count(path, counts, row, r, &mut f),
    )?);
    #[cfg(not(feature = "parquet"))]
    {
        let _ = (counts, &mut f);
        Err(no_parquet(path))
    }
}

/// The views of an exported `dns` table without counting (the second pass: the first
/// counted and reported the rows).
pub(super) fn dns_views(
    path: &Path,
    mut f: impl FnMut(DomainDnsView<'static>),
) -> Result<(), Error> {
    #[cfg(feature = "parquet")]
    return Ok(crate::export::parquet_in::for_each_dns_view(
        path,
        |_, r| {
            if let Ok(d) = r {
                f(d);
            }
        },
    )?);
    #[cfg(not(feature = "parquet"))]
    {
        let _ = &mut f;
        Err(no_parquet(path))
    }
}

/// Each probe row of an exported `probes` table.
pub(super) fn probes(
    path: &Path,
    counts: &mut InputCounts,
    mut f: impl FnMut(ProbeRowIn),
) -> Result<(), Error> {
    #[cfg(feature = "parquet")]
    return Ok(crate::export::parquet_in::for_each_probe_row(
        path,
        |row, r| count(path, counts, row, r, &mut f),
    )?);
    #[cfg(not(feature = "parquet"))]
    {
        let _ = (counts, &mut f);
        Err(no_parquet(path))
    }
}
