//! The export tables of mxinfer (`labels`, `dns`, `probes`), apart from any I/O: the rows
//! made from the stage records and their CSV fields ([`rows`]), and with the `arrow` feature
//! the rows as Arrow record batches ([`to_arrow`]) and Arrow record batches read back as
//! the label stage's input ([`from_arrow`]).
//!
//! Shared by `mxinfer-core` (which writes the files: CSV, Parquet) and the Python package
//! (which exchanges the tables with pyarrow), so a column is defined once. Depends on the
//! schema and the labeller only: no network stack, no file formats.

pub mod rows;

#[cfg(feature = "arrow")]
pub mod from_arrow;
#[cfg(feature = "arrow")]
pub mod to_arrow;
