//! The errors of the engine. Failures of one domain or address are data (a record with a
//! status), never an `Err`; these are the fatal ones: a file that cannot be read or written,
//! a data file that is not what it should be, a run directory that cannot be resumed. Each
//! says what failed and where (file, line, field, address); the underlying error is chained
//! as the source, not repeated in the message, so `{:#}` in anyhow or a walk of
//! `Error::source()` prints "reading x.pem: No such file or directory".

use std::path::{Path, PathBuf};

/// An operation on a named file failed.
#[derive(Debug, thiserror::Error)]
#[error("{op} {}", path.display())]
pub struct FileError {
    /// What was done: `opening`, `reading`, `creating`, `writing`, `renaming to`, …
    pub op: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Names the file of an IO error: `result.file("reading", path)?`.
pub trait FileContext<T> {
    fn file(self, op: &'static str, path: &Path) -> Result<T, FileError>;
}

impl<T> FileContext<T> for Result<T, std::io::Error> {
    fn file(self, op: &'static str, path: &Path) -> Result<T, FileError> {
        self.map_err(|source| FileError {
            op,
            path: path.to_path_buf(),
            source,
        })
    }
}

/// A fatal error of an engine function.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Jsonl(#[from] crate::jsonl::JsonlError),
    /// A data table of the labeller (PSL, companies, prefix-to-AS).
    #[error("{what}")]
    Data {
        /// The table and where it came from (`reading X`, `parsing X`, `loading X`).
        what: String,
        #[source]
        source: Box<mxinfer_label::DataError>,
    },
    /// Writing a stage's output (standard output or a file) failed.
    #[error("writing output")]
    Output(#[source] std::io::Error),
    /// A JSON document (metadata, report) could not be encoded or decoded.
    #[error("{what}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// Lines of a file that had to be whole records were not (`what`: the record kind).
    #[error("{}: {bad} lines are not {what} records{hint}", path.display())]
    BadRecords {
        path: PathBuf,
        bad: u64,
        what: &'static str,
        /// Why they matter here (empty, or a clause starting with `; `).
        hint: &'static str,
    },
    /// A task of the runtime panicked or was cancelled.
    #[error("a {0} task failed")]
    Task(&'static str, #[source] tokio::task::JoinError),
    /// The input reader thread panicked.
    #[error("the input reader thread panicked")]
    ReaderPanicked,
    /// The label stage's second read of the resolve records met one the first did not.
    #[error(transparent)]
    Unseen(#[from] mxinfer_label::UnseenDomain),
    #[error(transparent)]
    Plan(#[from] crate::probe::plan::PlanError),
    /// A probe target file that cannot be read (`input`: its name, `<stdin>` for `-`).
    #[error("reading {input}")]
    Targets {
        input: String,
        #[source]
        source: crate::probe::plan::PlanError,
    },
    #[error(transparent)]
    Roots(#[from] crate::probe::verify::RootsError),
    #[error(transparent)]
    Dns(#[from] crate::resolve::dns::DnsSetupError),
    #[error(transparent)]
    Limits(#[from] crate::util::LimitError),
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error(transparent)]
    Run(#[from] crate::pipeline::run::RunError),
    #[error(transparent)]
    Shards(#[from] crate::pipeline::shards::ShardError),
    /// A Parquet input of `label` that is not an export table.
    #[cfg(feature = "parquet")]
    #[error(transparent)]
    ParquetIn(#[from] crate::export::parquet_in::ParquetInError),
    /// A label record without the approach a reader asked for (a compact record).
    #[error(transparent)]
    Approach(#[from] mxinfer_record::MissingApproach),
}

impl Error {
    /// A labeller data table that could not be loaded, with where it came from.
    pub fn data(what: impl Into<String>, source: mxinfer_label::DataError) -> Error {
        Error::Data {
            what: what.into(),
            source: Box::new(source),
        }
    }

    pub fn json(what: impl Into<String>, source: serde_json::Error) -> Error {
        Error::Json {
            what: what.into(),
            source,
        }
    }
}

/// The result of an engine function.
pub type Result<T, E = Error> = std::result::Result<T, E>;
