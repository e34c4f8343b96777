//! # mxinfer-core
//!
//! The engine of mxinfer: every stage that touches the network or a file, and the one module
//! that wires them ([`pipeline`]). It takes typed settings, reports progress through the
//! [`progress::Reporter`] trait and stops when the cancellation future it is given resolves;
//! it never parses flags, never prints and never installs a signal handler (the `mxinfer`
//! binary does those).
//!
//! ```text
//! domains ─► input ─► resolve ─► plan ─► probe ─► (pfx2as) ─► label ─► report
//!            InputDomain DomainDns   Target  HostProbe          DomainLabel  shares / claims
//!    offline: zdns / OpenINTEL ─┘   zgrab2 / Censys ─┘   (ingest)
//! ```
//!
//! - [`input`]: domain lists (plain, Tranco CSV, CSV with a header).
//! - [`resolve`]: MX / A / AAAA / TXT / PTR via hickory-resolver; classification; shared
//!   lookups.
//! - [`probe`]: SMTP banner, EHLO, STARTTLS and the certificate chain of every exchanger
//!   address (sans-IO reply reader, dialogue with deadlines, rustls capture, chain verdict,
//!   OpenSSL legacy fallback), planning of unique targets and skip rules.
//! - [`report`]: market shares, a company's domains, accuracy against ground truth.
//! - [`ingest`]: zdns, OpenINTEL, zgrab2, Censys, CAIDA data converted into stage records.
//! - [`diff`]: provider changes between two label snapshots.
//! - [`export`]: stage records as tables (CSV; Parquet with the `parquet` feature).
//! - [`pipeline`]: the only module that connects stages (`resolve`, `probe`, `label`, `run`).
//! - [`jsonl`]: the one JSON Lines reader and writer.
//! - [`progress`]: the [`progress::Reporter`] trait and the [`progress::Cancel`] future.
//! - [`error`]: the typed errors ([`Error`], [`FileError`]); each module's own (e.g.
//!   `probe::plan::PlanError`, `ingest::IngestError`) converts into [`Error`].
//!
//! Stages do not import each other; they share `mxinfer_record` and small helpers.
//!
//! Embedding: build the stage's settings (the `mxinfer` binary's `settings.rs` shows how
//! each flag maps), give a [`progress::Reporter`] ([`progress::Silent`] drops everything)
//! and a [`progress::Cancel`] ([`progress::Cancel::never`]), and call the stage in
//! [`pipeline`]; labelling alone needs only `mxinfer-label`.

pub mod diff;
pub mod error;
pub mod export;
pub mod ingest;
pub mod input;
pub mod jsonl;
pub mod pipeline;
pub mod probe;
pub mod progress;
pub mod report;
pub mod resolve;
pub mod util;

pub use error::{Error, FileError, Result};
