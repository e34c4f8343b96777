//! The errors of the label crate: a data table that cannot be used. Each says which table
//! and what is wrong with it; the source error (TOML, IO) is chained, not repeated.

/// A data table (PSL, companies, aliases, prefix-to-AS) that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A rule of the Public Suffix List that is not a domain name.
    #[error("public suffix list: bad rule {rule:?}")]
    PslRule { rule: String },
    /// A Public Suffix List without a single rule.
    #[error("public suffix list: no rules found")]
    PslEmpty,
    /// A TOML table that does not parse (`table`: companies, banner-alias).
    #[error("{table} table")]
    Toml {
        table: &'static str,
        #[source]
        source: toml::de::Error,
    },
    /// A companies table whose content is inconsistent (the message names the entry).
    #[error("companies table: {0}")]
    Companies(String),
    /// Reading prefix-to-AS data failed (`what` names the source).
    #[error("reading {what}")]
    Read {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// Prefix-to-AS data that is still gzip-compressed.
    #[error("{what} is gzip-compressed: decompress it first (gunzip)")]
    Compressed { what: String },
    /// Prefix-to-AS data without one usable line.
    #[error("{what}: no prefix-to-AS data found ({lines} lines)")]
    NoPrefixes { what: String, lines: u64 },
    /// One prefix-to-AS entry that is not valid.
    #[error(transparent)]
    Entry(#[from] EntryError),
}

/// One prefix-to-AS entry (a line of pfx2as, pyasn or range CSV) that is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("prefix length {len} > {max}")]
    PrefixLength { len: u8, max: u8 },
    #[error("bad AS number {0:?}")]
    AsNumber(String),
    #[error("no AS number")]
    NoAsNumber,
    #[error("bad address or prefix length {0:?}")]
    Address(String),
    #[error("range mixes IPv4 and IPv6")]
    MixedRange,
}
