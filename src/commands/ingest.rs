//! `mxinfer ingest`: existing datasets through the readers of `mxinfer_core::ingest` into
//! stage records, their metadata, and the account of malformed rows on stderr.

use super::meta_path;
use crate::cli::{
    DnsFormat, IngestArgs, IngestAsOrgArgs, IngestDnsArgs, IngestProbeArgs, IngestWhat, ProbeFormat,
};
use crate::exit::Exit;
use anyhow::Context;
use mxinfer_core::ingest::{self, IngestStats};
use mxinfer_record::RunMeta;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What the run metadata of one ingest run is made of.
struct MetaParts<'a> {
    path: Option<PathBuf>,
    what: &'a str,
    inputs: &'a [PathBuf],
    argv: Vec<String>,
    started_at: String,
    t0: std::time::Instant,
}

fn write_meta<S: serde::Serialize>(
    parts: MetaParts<'_>,
    stats: &IngestStats,
    status_counts: BTreeMap<String, u64>,
    stage: S,
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
    let meta = RunMeta {
        tool: "mxinfer".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: format!("ingest {what}"),
        args: argv,
        started_at,
        finished_at: mxinfer_core::util::now_rfc3339(),
        duration_s: t0.elapsed().as_secs_f64(),
        input: inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(","),
        input_counts: mxinfer_record::InputCounts {
            lines: stats.rows,
            accepted: stats.records,
            duplicates: stats.duplicates,
            rejected: stats.malformed,
            ..Default::default()
        },
        shard: None,
        status_counts,
        stage,
        interrupted: false,
    };
    Ok(mxinfer_core::util::write_json_file(&p, &meta)?)
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
pub fn run(args: &IngestArgs, argv: Vec<String>) -> anyhow::Result<Exit> {
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
pub fn dns(a: &IngestDnsArgs, argv: Vec<String>) -> anyhow::Result<Exit> {
    let started_at = mxinfer_core::util::now_rfc3339();
    let t0 = std::time::Instant::now();
    let mut out = mxinfer_core::jsonl::create(&a.out)?;
    let mut stats = IngestStats::default();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    // Mutated only by the readers behind the `parquet` and `avro` features.
    #[allow(unused_mut)]
    let mut oi = ingest::openintel::Collector::new();
    #[allow(unused_mut)]
    let mut any_oi = false;
    let mut formats = Vec::new();
    let mut apex = std::collections::HashMap::new();
    for f in &a.apex {
        let mut st = IngestStats::default();
        ingest::zdns::read_apex(f, &mut apex, &mut st)?;
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
                ingest::zdns::read(f, &apex, &mut seen, &mut st, |r| {
                    *counts.entry(r.status.as_str().to_string()).or_default() += 1;
                    mxinfer_core::jsonl::write(&mut out, &r)
                })?;
            }
            DnsFormat::OpenintelParquet => {
                #[cfg(feature = "parquet")]
                {
                    any_oi = true;
                    ingest::openintel::read_parquet(f, &mut oi, &mut st)?;
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
                    ingest::openintel::read_avro(f, &mut oi, &mut st)?;
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
            mxinfer_core::jsonl::write(&mut out, &r)?;
        }
    }
    out.flush().context("writing output")?;
    out.finish()?;
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
        ingest::IngestDnsStage {
            formats,
            ingest: stats.clone(),
        },
    )?;
    Ok(Exit::rejected_if(stats.malformed))
}

fn probe_format(f: ProbeFormat, p: &Path) -> anyhow::Result<ProbeFormat> {
    if f != ProbeFormat::Auto {
        return Ok(f);
    }
    use std::io::BufRead;
    let r = mxinfer_core::jsonl::open(p)?;
    for line in r.lines() {
        let line = line.with_context(|| format!("reading {}", p.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
            if ingest::path(&v, "data.smtp").is_some() {
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
pub fn probes(a: &IngestProbeArgs, argv: Vec<String>) -> anyhow::Result<Exit> {
    let started_at = mxinfer_core::util::now_rfc3339();
    let t0 = std::time::Instant::now();
    let at = match &a.at {
        Some(s) => Some(
            ingest::parse_time(s)
                .ok_or_else(|| anyhow::anyhow!("--at {s:?}: expected RFC 3339 or YYYY-MM-DD"))?,
        ),
        None => None,
    };
    let judge = mxinfer_core::probe::verify::ChainJudge::new(
        a.roots.as_deref(),
        a.intermediates.as_deref(),
    )?;
    let trust = ingest::trust::TrustSettings {
        judge: Some(&judge),
        at,
        recompute: a.recompute_trust,
    };
    let mut out = mxinfer_core::jsonl::create(&a.out)?;
    let mut stats = IngestStats::default();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen = HashSet::new();
    let mut formats = Vec::new();
    for f in &a.files {
        let fmt = probe_format(a.format, f)?;
        formats.push(format!("{fmt:?}").to_ascii_lowercase());
        let mut st = IngestStats::default();
        let mut write = |p: mxinfer_record::HostProbe| {
            let s = serde_json::to_value(p.status)?;
            *counts
                .entry(s.as_str().unwrap_or_default().to_string())
                .or_default() += 1;
            mxinfer_core::jsonl::write(&mut out, &p)
        };
        match fmt {
            ProbeFormat::Zgrab2 | ProbeFormat::Auto => {
                ingest::zgrab2::read(f, a.port, &trust, &mut seen, &mut st, &mut write)?
            }
            ProbeFormat::Censys => ingest::censys::read(f, &trust, &mut seen, &mut st, &mut write)?,
        }
        stats.absorb(st);
    }
    out.flush().context("writing output")?;
    out.finish()?;
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
        ingest::IngestProbesStage {
            at: at.map(ingest::rfc3339),
            formats,
            ingest: stats.clone(),
            recompute_trust: a.recompute_trust,
            roots: judge.roots_label().to_string(),
        },
    )?;
    Ok(Exit::rejected_if(stats.malformed))
}

/// `mxinfer ingest as2org`.
pub fn as2org(a: &IngestAsOrgArgs) -> anyhow::Result<Exit> {
    let mut stats = IngestStats::default();
    let ases = ingest::caida::read(&a.file, &mut stats)?;
    let mut out = mxinfer_core::jsonl::create(&a.out)?;
    for x in &ases {
        mxinfer_core::jsonl::write(&mut out, x)?;
    }
    out.flush().context("writing output")?;
    out.finish()?;
    if let Some(p) = &a.audit {
        let mut data = mxinfer_label::data::LabelData::embedded();
        if let Some(c) = &a.companies {
            let text =
                std::fs::read_to_string(c).with_context(|| format!("reading {}", c.display()))?;
            data = data.with_companies(&text)?;
        }
        mxinfer_core::util::write_json_file(p, &ingest::caida::audit(&data, &ases))?;
    }
    eprintln!("{}", summary("as2org", &stats));
    Ok(Exit::rejected_if(stats.malformed))
}
