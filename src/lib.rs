//! # mxinfer
//!
//! Who runs this domain's mail? mxinfer resolves each domain's MX records, probes every mail
//! exchanger address on port 25 and labels the domain with its mail provider by the
//! priority-based method of "Who's Got Your Mail?" (IMC 2021).
//!
//! ## The pipeline (one direction, typed records)
//!
//! ```text
//! domains ─► input ─► resolve ─► plan ─► probe ─► enrich ─► label ─► report
//!            InputDomain DomainDns   Target  HostProbe  (AS)  DomainLabel  shares / claims
//! ```
//!
//! ## Module map
//!
//! - [`record`]: the schema, every record type of every stage (serde; JSON Lines).
//! - [`input`]: domain lists (plain, Tranco CSV, CSV with a header).
//! - [`resolve`]: MX / A / AAAA / TXT / PTR via hickory-resolver; classification; shared lookups.
//! - [`enrich`]: origin AS of an address by longest-prefix match (CAIDA pfx2as, pyasn, range CSV).
//! - [`label`]: the provider inference of METHOD.md 2-9 (primary set, certificate grouping,
//!   banner/EHLO parsing, MX names, scores, checks, split, companies, suspicious claims).
//! - [`probe`]: SMTP banner, EHLO, STARTTLS and the certificate chain of every exchanger
//!   address (sans-IO reply reader, dialogue with deadlines, rustls capture, chain verdict,
//!   OpenSSL legacy fallback), planning of unique targets and skip rules.
//! - [`sim`]: the simulated Internet for tests and benchmarks (the SMTP farm and its personas).
//! - [`report`]: market shares by company or provider, a company's domains, and accuracy
//!   of the four approaches against ground truth (Markdown, JSON, HTML with an SVG chart).
//! - [`ingest`]: existing datasets (zdns, OpenINTEL, zgrab2, Censys, CAIDA) converted into
//!   the stage records, so `label` runs on them unchanged.
//! - [`diff`]: provider changes between two label snapshots (from-to matrix, migrations).
//! - [`export`]: stage records as tables: CSV, and Parquet (feature `parquet`) partitioned
//!   by snapshot.
//! - [`pipeline`]: the only module that connects stages.
//! - [`run`]: `mxinfer run`, resolve and probe streaming into each other, then label,
//!   report and `run.json`, with `--resume`.
//! - [`progress`]: the single stderr reporter; the rest of the library never prints.
//! - [`cli`], [`config`]: command-line definitions and validated settings with named defaults.
//!
//! Stages do not import each other; they share [`record`] and small helpers.
//!
//! ## A resolve record (one JSON line, shown wrapped)
//!
//! ```json
//! {"domain":"example.org","input":{"line":1},"status":"ok",
//!  "mx":[{"preference":10,"exchange":"mx.example.net","ttl":3600}],"mx_ttl":3600,
//!  "exchangers":[{"name":"mx.example.net","preference":10,
//!    "a":{"status":"ok","ttl":300,"values":["192.0.2.25"]},"aaaa":{"status":"nodata","ttl":300},
//!    "addresses":[{"ip":"192.0.2.25","class":"documentation"}],
//!    "flags":["non-public-address"]}],
//!  "config_class":"plain-ipv4-only","passes":1,"resolved_at":"2026-11-30T12:00:00.000Z"}
//! ```

//! ## A label record (abridged: `approaches` also holds `mx_only`, `certificate`, `banner`)
//!
//! ```json
//! {"domain":"example.org","input":{"line":1},"status":"labelled","approach":"priority",
//!  "dns_status":"ok","registered_domain":"example.org","primary_preference":10,
//!  "exchangers":[{"name":"mx.example.net","preference":10,"live":["192.0.2.25"]}],
//!  "providers":[{"id":"example.net","weight":1.0,"credit":"example.net"}],
//!  "approaches":{"priority":{"status":"labelled","exchangers":[{"id":"example.net",
//!    "source":"banner","trail":["certificate:no-trusted-name","banner:ok"],"score":1,
//!    "checked":true,"weight":1.0}],
//!    "providers":[{"id":"example.net","weight":1.0,"credit":"example.net"}]}}}
//! ```

pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod diff;
pub mod enrich;
pub mod export;
pub mod ingest;
pub mod input;
pub mod label;
pub mod pipeline;
pub mod probe;
pub mod progress;
pub mod record;
pub mod report;
pub mod resolve;
pub mod run;
pub mod sim;
pub mod util;
