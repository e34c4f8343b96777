//! `mxinfer ingest`: arguments (clap) and the command.

use super::IngestStats;
use crate::record::RunMeta;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args, Clone)]
pub struct IngestArgs {
    #[command(subcommand)]
    pub what: IngestWhat,
}

#[derive(Debug, Subcommand, Clone)]
pub enum IngestWhat {
    /// DNS datasets (zdns MXLOOKUP, OpenINTEL) -> resolve records (`label --dns`).
    Dns(IngestDnsArgs),
    /// Scan datasets (zgrab2 smtp, Censys) -> probe records (`label --probes`).
    Probes(IngestProbeArgs),
    /// CAIDA AS-to-organisation -> one JSON line per AS; optional audit of the companies table.
    As2org(IngestAsOrgArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DnsFormat {
    /// `.parquet` -> openintel-parquet, `.avro` -> openintel-avro, otherwise zdns.
    Auto,
    /// zdns MXLOOKUP JSON Lines (v1 or v2 shape; gzip accepted).
    Zdns,
    /// OpenINTEL forward DNS, Parquet (feature `parquet`).
    OpenintelParquet,
    /// OpenINTEL forward DNS, Avro (feature `avro`).
    OpenintelAvro,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProbeFormat {
    /// From the first record: `data.smtp` -> zgrab2, `services` or `p25` -> censys.
    Auto,
    /// zgrab2 smtp module JSON Lines (gzip accepted).
    Zgrab2,
    /// Censys host export JSON Lines, legacy `p25.smtp.starttls` or current `services[]`.
    Censys,
}

#[derive(Debug, Args, Clone)]
pub struct IngestDnsArgs {
    /// Input files (read in order; a domain seen in an earlier file wins).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: DnsFormat,
    /// zdns ALOOKUP output (`--ipv4-lookup --ipv6-lookup`) of domains' own names, so
    /// implicit MX applies to zdns domains without MX (repeatable).
    #[arg(long, value_name = "FILE")]
    pub apex: Vec<PathBuf>,
    /// Output (resolve records, JSON Lines); `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
    /// Run-metadata file (default: OUT with `.meta.json`; none when OUT is standard output).
    #[arg(long)]
    pub meta: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct IngestProbeArgs {
    /// Input files (read in order; an address seen in an earlier file wins).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: ProbeFormat,
    /// Output (probe records, JSON Lines); `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
    /// Run-metadata file (default: OUT with `.meta.json`; none when OUT is standard output).
    #[arg(long)]
    pub meta: Option<PathBuf>,
    /// The snapshot's time (RFC 3339 or YYYY-MM-DD): certificate validity is judged then
    /// (default: each record's own timestamp).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Trusted roots (PEM) for chains judged here (default: the shipped Mozilla set); give
    /// the root set of the snapshot's time for old data.
    #[arg(long, value_name = "PEM")]
    pub roots: Option<PathBuf>,
    /// Intermediate certificates (PEM) usable to complete chains.
    #[arg(long, value_name = "PEM")]
    pub intermediates: Option<PathBuf>,
    /// Judge every chain from its raw certificates, ignoring the dataset's verdict.
    #[arg(long)]
    pub recompute_trust: bool,
    /// Port written into the records when the dataset does not say.
    #[arg(long, default_value_t = 25)]
    pub port: u16,
}

#[derive(Debug, Args, Clone)]
pub struct IngestAsOrgArgs {
    /// The AS-to-organisation file (text or JSON Lines layout; gzip accepted).
    pub file: PathBuf,
    /// Output (one JSON line per AS); `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: String,
    /// Write the audit of the companies table against it here (JSON).
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Companies table to audit (default: the embedded one).
    #[arg(long, value_name = "FILE")]
    pub companies: Option<PathBuf>,
}

fn meta_path(meta: &Option<PathBuf>, out: &str) -> Option<PathBuf> {
    match (meta, out) {
        (Some(p), _) => Some(p.clone()),
        (None, "-") => None,
        (None, o) => Some(PathBuf::from(format!("{o}.meta.json"))),
    }
}

/// What the run metadata of one ingest run is made of.
struct MetaParts<'a> {
    path: Option<PathBuf>,
    what: &'a str,
    inputs: &'a [PathBuf],
    argv: Vec<String>,
    started_at: String,
    t0: std::time::Instant,
}

fn write_meta(
    parts: MetaParts<'_>,
    stats: &IngestStats,
    status_counts: BTreeMap<String, u64>,
    stage: serde_json::Value,
) -> anyhow::Result<()> {
    let MetaParts {
        path,
        what,
        inputs,
        argv,
        started_at,
        t0,
    } = parts;
    let Some(p) = path else { return Ok(()) };
    let mut stage = stage;
    stage["ingest"] = serde_json::to_value(stats)?;
    let meta = RunMeta {
        tool: "mxinfer".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: format!("ingest {what}"),
        args: argv,
        started_at,
        finished_at: crate::util::now_rfc3339(),
        duration_s: t0.elapsed().as_secs_f64(),
        input: inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(","),
        input_counts: crate::record::InputCounts {
            lines: stats.rows,
            accepted: stats.records,
            duplicates: stats.duplicates,
            rejected: stats.malformed,
            ..Default::default()
        },
        status_counts,
        stage,
        interrupted: false,
    };
    crate::util::write_json_file(&p, &meta)
}

/// The malformed rows (as kept) and the counts, for stderr.
fn summary(what: &str, s: &IngestStats) -> String {
    let mut out = String::new();
    for p in &s.problems {
        out.push_str(&format!("mxinfer: {p}\n"));
    }
    if s.malformed > s.problems.len() as u64 {
        out.push_str(&format!(
            "mxinfer: … and {} more malformed rows\n",
            s.malformed - s.problems.len() as u64
        ));
    }
    out + &format!(
        "ingest {what}: {} rows, {} records, {} malformed, {} duplicates, {} skipped",
        s.rows, s.records, s.malformed, s.duplicates, s.skipped
    )
}

/// Runs `mxinfer ingest`; returns the exit code (3 when some rows were malformed).
pub fn run(args: &IngestArgs, argv: Vec<String>) -> anyhow::Result<u8> {
    match &args.what {
        IngestWhat::Dns(a) => dns(a, argv),
        IngestWhat::Probes(a) => probes(a, argv),
        IngestWhat::As2org(a) => as2org(a),
    }
}

fn dns_format(f: DnsFormat, p: &Path) -> DnsFormat {
    if f != DnsFormat::Auto {
        return f;
    }
    match p.extension().and_then(|e| e.to_str()) {
        Some("parquet") => DnsFormat::OpenintelParquet,
        Some("avro") => DnsFormat::OpenintelAvro,
        _ => DnsFormat::Zdns,
    }
}

/// `mxinfer ingest dns`.
pub fn dns(a: &IngestDnsArgs, argv: Vec<String>) -> anyhow::Result<u8> {
    let started_at = crate::util::now_rfc3339();
    let t0 = std::time::Instant::now();
    let mut out = crate::pipeline::open_output(&a.out)?;
    let mut stats = IngestStats::default();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    // Mutated only by the readers behind the `parquet` and `avro` features.
    #[allow(unused_mut)]
    let mut oi = super::openintel::Collector::new();
    #[allow(unused_mut)]
    let mut any_oi = false;
    let mut formats = Vec::new();
    let mut apex = std::collections::HashMap::new();
    for f in &a.apex {
        let mut st = IngestStats::default();
        super::zdns::read_apex(f, &mut apex, &mut st)?;
        // Apex rows are not domain records: only their problems and duplicates count.
        stats.malformed += st.malformed;
        stats.problems.extend(st.problems);
    }
    for f in &a.files {
        let fmt = dns_format(a.format, f);
        formats.push(format!("{fmt:?}").to_ascii_lowercase());
        let mut st = IngestStats::default();
        match fmt {
            DnsFormat::Zdns | DnsFormat::Auto => {
                super::zdns::read(f, &apex, &mut seen, &mut st, |r| {
                    *counts.entry(r.status.as_str().to_string()).or_default() += 1;
                    crate::pipeline::write_record(&mut *out, &r)
                })?;
            }
            DnsFormat::OpenintelParquet => {
                #[cfg(feature = "parquet")]
                {
                    any_oi = true;
                    super::openintel::read_parquet(f, &mut oi, &mut st)?;
                }
                #[cfg(not(feature = "parquet"))]
                anyhow::bail!(
                    "{}: reading Parquet needs the `parquet` feature (cargo build --features parquet)",
                    f.display()
                );
            }
            DnsFormat::OpenintelAvro => {
                #[cfg(feature = "avro")]
                {
                    any_oi = true;
                    super::openintel::read_avro(f, &mut oi, &mut st)?;
                }
                #[cfg(not(feature = "avro"))]
                anyhow::bail!(
                    "{}: reading Avro needs the `avro` feature (cargo build --features avro)",
                    f.display()
                );
            }
        }
        stats.absorb(st);
    }
    if any_oi {
        for r in oi.finish() {
            if !seen.insert(r.domain.clone()) {
                stats.duplicates += 1;
                continue;
            }
            stats.records += 1;
            *counts.entry(r.status.as_str().to_string()).or_default() += 1;
            crate::pipeline::write_record(&mut *out, &r)?;
        }
    }
    out.flush().context("writing output")?;
    drop(out);
    eprintln!("{}", summary("dns", &stats));
    write_meta(
        MetaParts {
            path: meta_path(&a.meta, &a.out),
            what: "dns",
            inputs: &a.files,
            argv,
            started_at,
            t0,
        },
        &stats,
        counts,
        serde_json::json!({ "formats": formats }),
    )?;
    Ok(if stats.malformed > 0 { 3 } else { 0 })
}

fn probe_format(f: ProbeFormat, p: &Path) -> anyhow::Result<ProbeFormat> {
    if f != ProbeFormat::Auto {
        return Ok(f);
    }
    use std::io::BufRead;
    let r = super::open_maybe_gz(p)?;
    for line in r.lines() {
        let line = line.with_context(|| format!("reading {}", p.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
            if super::path(&v, "data.smtp").is_some() {
                return Ok(ProbeFormat::Zgrab2);
            }
            if v.get("services").is_some()
                || v.get("p25").is_some()
                || v.as_object()
                    .is_some_and(|o| o.keys().any(|k| k.starts_with("p25.")))
            {
                return Ok(ProbeFormat::Censys);
            }
        }
        anyhow::bail!(
            "{}: cannot tell the format from the first record; give --format",
            p.display()
        );
    }
    Ok(ProbeFormat::Zgrab2)
}

/// `mxinfer ingest probes`.
pub fn probes(a: &IngestProbeArgs, argv: Vec<String>) -> anyhow::Result<u8> {
    let started_at = crate::util::now_rfc3339();
    let t0 = std::time::Instant::now();
    let at = match &a.at {
        Some(s) => Some(
            super::parse_time(s)
                .ok_or_else(|| anyhow::anyhow!("--at {s:?}: expected RFC 3339 or YYYY-MM-DD"))?,
        ),
        None => None,
    };
    let trust = super::trust::TrustSettings {
        judge: crate::probe::verify::ChainJudge::new(
            a.roots.as_deref(),
            a.intermediates.as_deref(),
        )?,
        at,
        recompute: a.recompute_trust,
    };
    let mut out = crate::pipeline::open_output(&a.out)?;
    let mut stats = IngestStats::default();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen = HashSet::new();
    let mut formats = Vec::new();
    for f in &a.files {
        let fmt = probe_format(a.format, f)?;
        formats.push(format!("{fmt:?}").to_ascii_lowercase());
        let mut st = IngestStats::default();
        let mut write = |p: crate::record::HostProbe| {
            let s = serde_json::to_value(p.status)?;
            *counts
                .entry(s.as_str().unwrap_or_default().to_string())
                .or_default() += 1;
            crate::pipeline::write_record(&mut *out, &p)
        };
        match fmt {
            ProbeFormat::Zgrab2 | ProbeFormat::Auto => {
                super::zgrab2::read(f, a.port, &trust, &mut seen, &mut st, &mut write)?
            }
            ProbeFormat::Censys => super::censys::read(f, &trust, &mut seen, &mut st, &mut write)?,
        }
        stats.absorb(st);
    }
    out.flush().context("writing output")?;
    drop(out);
    eprintln!(
        "{}; certificate trust: {} from the dataset, {} computed, {} unknown",
        summary("probes", &stats),
        stats.trust_from_dataset,
        stats.trust_computed,
        stats.trust_unknown
    );
    write_meta(
        MetaParts {
            path: meta_path(&a.meta, &a.out),
            what: "probes",
            inputs: &a.files,
            argv,
            started_at,
            t0,
        },
        &stats,
        counts,
        serde_json::json!({
            "formats": formats,
            "at": at.map(super::rfc3339),
            "roots": trust.judge.roots_label(),
            "recompute_trust": a.recompute_trust,
        }),
    )?;
    Ok(if stats.malformed > 0 { 3 } else { 0 })
}

/// `mxinfer ingest as2org`.
pub fn as2org(a: &IngestAsOrgArgs) -> anyhow::Result<u8> {
    let mut stats = IngestStats::default();
    let ases = super::caida::read(&a.file, &mut stats)?;
    let mut out = crate::pipeline::open_output(&a.out)?;
    for x in &ases {
        crate::pipeline::write_record(&mut *out, x)?;
    }
    out.flush().context("writing output")?;
    drop(out);
    if let Some(p) = &a.audit {
        let mut data = crate::label::data::LabelData::embedded();
        if let Some(c) = &a.companies {
            let text =
                std::fs::read_to_string(c).with_context(|| format!("reading {}", c.display()))?;
            data = data.with_companies(&text)?;
        }
        crate::util::write_json_file(p, &super::caida::audit(&data, &ases))?;
    }
    eprintln!("{}", summary("as2org", &stats));
    Ok(if stats.malformed > 0 { 3 } else { 0 })
}
