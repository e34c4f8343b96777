//! `mxinfer run`: resolve, probe and label in one streaming pipeline, then the report.
//!
//! Resolution and probing run at the same time: each resolve record, as it is written, hands
//! the addresses not seen before to the probe stage through a bounded queue (so a slow probe
//! stage slows resolution down instead of queueing without bound). When both are done, the
//! probe records get every exchanger name of their address (the standalone `probe` output
//! has them too), and labelling runs over the complete evidence (the certificate groups and
//! the confidence counts need the whole batch). Then the report, the optional evaluation and
//! `run.json`.
//!
//! Resume (`--resume`): the stage outputs are appended as records complete, so a run that was
//! stopped or killed leaves whole records (and at most one cut line at the end of each file,
//! which is dropped). A resumed run keeps every domain already in `dns.jsonl` and every
//! address already in `probes.jsonl`, probes the addresses of kept domains that have no probe
//! record yet, and resolves the rest of the input. Labels and reports are always recomputed
//! from the complete files.
//!
//! Sharded (`--shard I/N`): the run resolves the domains of shard I and probes every address
//! they lead to, then stops: labels need the whole batch, so they are made once over every
//! shard's `dns.jsonl` and `probes.jsonl` by `mxinfer label`. An address shared by domains
//! of several shards is probed by each of those shards (the label stage keeps one record per
//! address, chosen by content). Where each address must be probed once across machines, run
//! `resolve --shard` on every machine, then `probe --shard` over all shards' resolve output.

use crate::Error;
use crate::error::FileContext;
use crate::jsonl;
use crate::pipeline::{self, LabelRun, LabelSources, ResolveRun, TargetSink};
use crate::probe::plan::{Policy, Target};
use crate::probe::session::Prober;
use crate::progress::{Cancel, Reporter};
use crate::report::eval::Evaluator;
use crate::report::files::{label_groups, write_report_dir};
use crate::report::{ReportOptions, ShareTally, render};
use crate::resolve::DomainResolver;
use futures::StreamExt;
use mxinfer_record::{DomainDns, HostProbe, RunMeta, Truth};
use serde::Serialize;
use sha2::Digest;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Addresses queued between the resolve and the probe stage.
const TARGET_QUEUE: usize = 65_536;

/// The files of a run directory.
pub const DNS: &str = "dns.jsonl";
pub const PROBES: &str = "probes.jsonl";
pub const LABELS: &str = "labels.jsonl";
pub const CLAIMS: &str = "claims.jsonl";
pub const RUN_JSON: &str = "run.json";

/// One data file the run used: embedded in the binary or given on the command line.
#[derive(Debug, Clone, Serialize)]
pub struct DataFile {
    /// What it is (`public_suffix_list.dat`, `--pfx2as`, …).
    pub name: String,
    /// `embedded`, or the path as given.
    pub source: String,
    pub sha256: String,
    pub bytes: u64,
    /// The data's own date: the date of the embedded copy (data/README.md), or the file's
    /// modification time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// One stage in `run.json`.
#[derive(Debug, Clone, Serialize)]
pub struct StageSummary {
    pub duration_s: f64,
    /// Records written by this invocation, per status.
    pub status_counts: BTreeMap<String, u64>,
    /// Records in the stage's output file (with those of earlier invocations when resumed).
    pub records: u64,
}

/// `run.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub tool: String,
    pub version: String,
    pub command: String,
    pub args: Vec<String>,
    pub started_at: String,
    pub finished_at: String,
    pub duration_s: f64,
    /// Whether this invocation continued an earlier run in the same directory.
    pub resumed: bool,
    /// With `resumed`: domains and addresses kept from the earlier run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<Kept>,
    pub interrupted: bool,
    /// Input accounting of the domain list (this invocation).
    pub input: String,
    pub input_counts: mxinfer_record::InputCounts,
    /// `--shard I/N`: the shard this run was; its outputs stop at the probe records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<mxinfer_record::Shard>,
    pub data_files: Vec<DataFile>,
    pub stages: BTreeMap<String, StageSummary>,
    /// Output files of the directory.
    pub outputs: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub domains: u64,
    pub addresses: u64,
    /// Addresses of kept domains that had no probe record yet (probed by this invocation).
    pub addresses_requeued: u64,
}

/// What the run did, for the caller (`summary.interrupted`, rejected lines, the table).
pub struct RunOutcome {
    pub summary: RunSummary,
    /// Input lines rejected (the domain list's, and lines of the stage files that were not
    /// records).
    pub rejected: u64,
    /// The share table as text (empty when interrupted).
    pub text: String,
}

/// Everything a run needs, checked and built by the caller: the resolver and the prober
/// are ready, every flag was validated before any work.
pub struct RunSettings {
    /// The domain list (as `resolve` reads it); `-` for standard input.
    pub input: String,
    /// The run directory (created if missing).
    pub out: PathBuf,
    /// Continue the run in `out` (see the module documentation).
    pub resume: bool,
    pub resolve_concurrency: usize,
    pub probe_concurrency: usize,
    pub resolver: Arc<DomainResolver>,
    /// The resolve settings recorded in `dns.jsonl.meta.json`.
    pub resolve_recorded: mxinfer_record::ResolveSettings,
    pub prober: Arc<Prober>,
    pub policy: Policy,
    /// The probe settings recorded in `probes.jsonl.meta.json`.
    pub probe_recorded: mxinfer_record::ProbeSettings,
    pub label: LabelSources,
    /// Trusted roots and intermediates given instead of the embedded ones (for `run.json`).
    pub roots: Option<PathBuf>,
    pub intermediates: Option<PathBuf>,
    /// Blocklists given besides the default (for `run.json`).
    pub blocklists: Vec<PathBuf>,
    /// Ground truth: also evaluate.
    pub truth: Option<PathBuf>,
    /// The command line, recorded in the metadata.
    pub args: Vec<String>,
    /// Threads of the label stage's second pass.
    pub label_threads: usize,
    /// `--shard I/N`: this invocation is one machine's share of a sharded scan (see the
    /// module documentation).
    pub shard: Option<mxinfer_record::Shard>,
}

/// Runs the pipeline. `reporter` gives the reporter of each stage (`resolve`, `probe`,
/// `label`), asked for when the stage starts; `cancel` stops the resolve and probe stages
/// (the outcome is then `interrupted`, exit code 4).
pub async fn run(
    args: RunSettings,
    reporter: &dyn Fn(&'static str) -> Arc<dyn Reporter>,
    cancel: Cancel,
) -> crate::Result<RunOutcome> {
    let started_at = crate::util::now_rfc3339();
    let t0 = Instant::now();
    let (rc, pc) = (args.resolve_concurrency, args.probe_concurrency);
    let dir = args.out.clone();
    std::fs::create_dir_all(&dir).file("creating", &dir)?;
    let (dns_path, probes_path) = (dir.join(DNS), dir.join(PROBES));
    if !args.resume && (dns_path.exists() || probes_path.exists()) {
        return Err(RunError::Exists { dir }.into());
    }

    // What an earlier invocation left (nothing on a fresh run).
    let probed = if args.resume {
        read_kept_probes(&probes_path)?
    } else {
        HashSet::new()
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Target>(TARGET_QUEUE);
    let mut sink = TargetSink::new(tx, probed.clone());
    let mut skip = HashSet::new();
    let mut requeued: Vec<Target> = Vec::new();
    if args.resume {
        let mut other: Option<Option<mxinfer_record::Shard>> = None;
        read_kept_domains(&dns_path, |rec| {
            if rec.shard != args.shard && other.is_none() {
                other = Some(rec.shard);
            }
            skip.insert(pipeline::key_of(&rec.domain));
            requeued.extend(sink.note(&rec));
        })?;
        if let Some(found) = other {
            return Err(RunError::ShardMismatch {
                dir,
                found,
                asked: args.shard,
            }
            .into());
        }
    }
    let kept = args.resume.then_some(Kept {
        domains: skip.len() as u64,
        addresses: probed.len() as u64,
        addresses_requeued: requeued.len() as u64,
    });

    let mut dns_out = jsonl::append(&dns_path)?;
    let mut probes_out = jsonl::append(&probes_path)?;
    let rprog = reporter("resolve");
    let pprog = reporter("probe");
    let resolve_run = ResolveRun {
        input: args.input.clone(),
        concurrency: rc,
        args: args.args.clone(),
        settings: args.resolve_recorded.clone(),
        targets: Some(sink),
        skip: Some(skip),
        shard: args.shard,
    };
    let t_stream = Instant::now();
    let resolve_fut = async {
        let r = pipeline::run_resolve(
            resolve_run,
            args.resolver.clone(),
            &mut dns_out,
            rprog,
            cancel.clone(),
        )
        .await;
        let t = t_stream.elapsed().as_secs_f64();
        (r, t)
    };
    let policy = Arc::new(args.policy.clone());
    let probe_fut = async {
        let targets = futures::stream::iter(requeued).chain(receiver_stream(rx));
        let r = pipeline::probe_targets(
            targets,
            pipeline::Probing {
                prober: args.prober.clone(),
                policy,
                concurrency: pc,
                shard: args.shard,
            },
            &mut probes_out,
            &*pprog,
            cancel.clone(),
        )
        .await;
        let t = t_stream.elapsed().as_secs_f64();
        (r, t)
    };
    let ((resolved, t_resolve), (probed_now, t_probe)) = tokio::join!(resolve_fut, probe_fut);
    let resolved = resolved?;
    let probed_now = probed_now?;
    dns_out.flush().file("writing", &dns_path)?;
    probes_out.flush().file("writing", &probes_path)?;
    drop(dns_out);
    drop(probes_out);
    pprog.finish(&format!(
        "{} addresses in {:.1} s: {}",
        probed_now.done,
        t_probe,
        pipeline::probe_status_line(&probed_now.counts)
    ));
    let interrupted = resolved.meta.interrupted || probed_now.interrupted;
    let mut stages = BTreeMap::new();
    let dns_records = jsonl::count_lines(&dns_path)?;
    stages.insert(
        "resolve".to_string(),
        StageSummary {
            duration_s: t_resolve,
            status_counts: resolved.meta.status_counts.clone(),
            records: dns_records,
        },
    );
    let mut sink = resolved.targets.ok_or(RunError::NoNames)?;
    crate::util::write_json_file(&meta_of(&dns_path), &resolved.meta)?;

    // The probe metadata of this invocation.
    let pstage = mxinfer_record::ProbeStage {
        settings: args.probe_recorded.clone(),
        streamed_from: Some("the resolve stage of the same run".into()),
        targets_sent: Some(sink.sent),
        ..Default::default()
    };
    let probe_meta = RunMeta {
        tool: "mxinfer".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: "run (probe stage)".into(),
        args: args.args.clone(),
        started_at: started_at.clone(),
        finished_at: crate::util::now_rfc3339(),
        duration_s: t_probe,
        input: dns_path.display().to_string(),
        input_counts: Default::default(),
        shard: args.shard,
        status_counts: probed_now.counts.clone(),
        stage: pstage,
        interrupted: probed_now.interrupted,
    };
    crate::util::write_json_file(&meta_of(&probes_path), &probe_meta)?;

    let mut summary = RunSummary {
        tool: "mxinfer".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: "run".into(),
        args: args.args.clone(),
        started_at,
        finished_at: String::new(),
        duration_s: 0.0,
        resumed: args.resume,
        kept,
        interrupted,
        input: args.input.clone(),
        input_counts: resolved.meta.input_counts.clone(),
        shard: args.shard,
        data_files: data_files(&args)?,
        stages,
        outputs: Vec::new(),
    };
    if interrupted {
        summary.stages.insert(
            "probe".into(),
            StageSummary {
                duration_s: t_probe,
                status_counts: probed_now.counts,
                records: jsonl::count_lines(&probes_path)?,
            },
        );
        summary.outputs = vec![DNS.into(), PROBES.into()];
        summary.finished_at = crate::util::now_rfc3339();
        summary.duration_s = t0.elapsed().as_secs_f64();
        crate::util::write_json_file(&dir.join(RUN_JSON), &summary)?;
        let rejected = summary.input_counts.rejected;
        return Ok(RunOutcome {
            summary,
            rejected,
            text: String::new(),
        });
    }

    // Every exchanger name of each address into its probe record.
    let t = Instant::now();
    let probe_records = merge_names(&probes_path, &mut sink)?;
    summary.stages.insert(
        "probe".into(),
        StageSummary {
            duration_s: t_probe + t.elapsed().as_secs_f64(),
            status_counts: probed_now.counts,
            records: probe_records,
        },
    );
    drop(sink);
    if let Some(shard) = args.shard {
        // One shard's evidence gives no labels: the batch counts need every shard.
        summary.outputs = vec![DNS.into(), PROBES.into()];
        summary.finished_at = crate::util::now_rfc3339();
        summary.duration_s = t0.elapsed().as_secs_f64();
        crate::util::write_json_file(&dir.join(RUN_JSON), &summary)?;
        let rejected = summary.input_counts.rejected;
        let text = format!(
            "shard {shard} done: {} domains, {probe_records} probe records in {}.\n\
             Label once every shard is done: mxinfer label --dns <each shard's {DNS}> \
             --probes <each shard's {PROBES}>\n",
            dns_records,
            dir.display()
        );
        return Ok(RunOutcome {
            summary,
            rejected,
            text,
        });
    }

    // Label over the complete evidence.
    let t = Instant::now();
    let labels_path = dir.join(LABELS);
    let lrun = LabelRun {
        dns: vec![dns_path.clone()],
        probes: vec![probes_path.clone()],
        sources: args.label.clone(),
        claims: Some(dir.join(CLAIMS)),
        args: args.args.clone(),
        threads: args.label_threads,
        allow_missing_shards: false,
    };
    let mut lout = jsonl::create(&path_str(&labels_path)?)?;
    let lprog = reporter("label");
    let labelled = pipeline::run_label(lrun, &mut lout, lprog)?;
    lout.finish()?;
    crate::util::write_json_file(&meta_of(&labels_path), &labelled.meta)?;
    let label_bad = labelled.bad_lines;
    let label_counts = labelled.meta.status_counts.clone();
    drop(labelled);
    summary.stages.insert(
        "label".into(),
        StageSummary {
            duration_s: t.elapsed().as_secs_f64(),
            status_counts: label_counts,
            records: jsonl::count_lines(&labels_path)?,
        },
    );

    // Report (and evaluation).
    let t = Instant::now();
    let mut tally = ShareTally::new(ReportOptions::default());
    let mut eval = match &args.truth {
        Some(p) => {
            let mut truth: Vec<Truth> = Vec::new();
            let bad = jsonl::read::<Truth>(p, |t| truth.push(t))?;
            if bad > 0 {
                return Err(Error::BadRecords {
                    path: p.clone(),
                    bad,
                    what: "truth",
                    hint: "",
                });
            }
            let groups = label_groups(&meta_of(&labels_path))?;
            Some(Evaluator::new(truth, 1000).with_groups(&groups))
        }
        None => None,
    };
    let mut missing = None;
    let bad = jsonl::read::<mxinfer_record::DomainLabel>(&labels_path, |l| {
        if let Err(e) = tally.add(&l) {
            missing.get_or_insert(e);
        }
        if let Some(e) = &mut eval {
            e.add(&l);
        }
    })?;
    if bad > 0 {
        return Err(Error::BadRecords {
            path: labels_path,
            bad,
            what: "label",
            hint: "",
        });
    }
    if let Some(e) = missing {
        return Err(e.into());
    }
    let report = tally.finish();
    write_report_dir(&dir, &report)?;
    let mut outputs: Vec<String> = [
        DNS,
        PROBES,
        LABELS,
        CLAIMS,
        "report.md",
        "report.json",
        "report.html",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut text = render::report_text(&report);
    if let Some(e) = eval {
        let ev = e.finish();
        std::fs::write(dir.join("eval.md"), render::eval_markdown(&ev))
            .file("writing", &dir.join("eval.md"))?;
        std::fs::write(dir.join("eval.json"), render::eval_json(&ev))
            .file("writing", &dir.join("eval.json"))?;
        outputs.extend(["eval.md".to_string(), "eval.json".to_string()]);
        text.push('\n');
        text.push_str(&render::accuracy_text(&ev));
    }
    summary.stages.insert(
        "report".into(),
        StageSummary {
            duration_s: t.elapsed().as_secs_f64(),
            status_counts: BTreeMap::new(),
            records: 0,
        },
    );
    outputs.push(RUN_JSON.into());
    summary.outputs = outputs;
    summary.finished_at = crate::util::now_rfc3339();
    summary.duration_s = t0.elapsed().as_secs_f64();
    crate::util::write_json_file(&dir.join(RUN_JSON), &summary)?;
    let rejected = summary.input_counts.rejected + label_bad;
    Ok(RunOutcome {
        summary,
        rejected,
        text,
    })
}

fn meta_of(p: &Path) -> PathBuf {
    PathBuf::from(format!("{}.meta.json", p.display()))
}

fn path_str(p: &Path) -> Result<String, RunError> {
    p.to_str()
        .map(str::to_string)
        .ok_or_else(|| RunError::NotUtf8 { path: p.into() })
}

/// A run that cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The directory holds an earlier run and resuming was not asked for.
    #[error("{} already holds a run ({DNS} or {PROBES}): resume it, or use another directory", dir.display())]
    Exists { dir: PathBuf },
    /// `--resume` with another `--shard` than the run being resumed.
    #[error("{} holds the run of {}, not of {}: resume it with the same --shard", dir.display(), shown_shard(*found), shown_shard(*asked))]
    ShardMismatch {
        dir: PathBuf,
        found: Option<mxinfer_record::Shard>,
        asked: Option<mxinfer_record::Shard>,
    },
    /// The resolve stage handed back no address names (a bug, not an input problem).
    #[error("the resolve stage kept no address names")]
    NoNames,
    #[error("{} is not valid UTF-8", path.display())]
    NotUtf8 { path: PathBuf },
}

fn shown_shard(s: Option<mxinfer_record::Shard>) -> String {
    s.map_or("an unsharded scan".to_string(), |s| format!("shard {s}"))
}

/// The addresses of the probe records an earlier invocation left in `p`.
fn read_kept_probes(p: &Path) -> crate::Result<HashSet<IpAddr>> {
    let cut = jsonl::drop_cut_line(p)?;
    if cut > 0 {
        tracing::warn!("{}: dropped a cut last record ({cut} bytes)", p.display());
    }
    let mut set = HashSet::new();
    if !p.exists() {
        return Ok(set);
    }
    let bad = jsonl::read::<HostProbe>(p, |r| {
        set.insert(r.ip);
    })?;
    if bad > 0 {
        return Err(Error::BadRecords {
            path: p.into(),
            bad,
            what: "probe",
            hint: "; not resuming over a damaged file",
        });
    }
    Ok(set)
}

/// The resolve records an earlier invocation left in `p`.
fn read_kept_domains(p: &Path, f: impl FnMut(DomainDns)) -> crate::Result<()> {
    let cut = jsonl::drop_cut_line(p)?;
    if cut > 0 {
        tracing::warn!("{}: dropped a cut last record ({cut} bytes)", p.display());
    }
    if !p.exists() {
        return Ok(());
    }
    let bad = jsonl::read::<DomainDns>(p, f)?;
    if bad > 0 {
        return Err(Error::BadRecords {
            path: p.into(),
            bad,
            what: "resolve",
            hint: "; not resuming over a damaged file",
        });
    }
    Ok(())
}

/// Rewrites the probe records with every exchanger name of their address (sorted), one
/// record per address (a repeated address keeps its first record). Atomic: a new file
/// renamed over the old. Returns the records written.
fn merge_names(p: &Path, sink: &mut TargetSink) -> crate::Result<u64> {
    let tmp = p.with_extension("jsonl.tmp");
    let mut w = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(&tmp).file("creating", &tmp)?,
    );
    let mut seen: HashSet<IpAddr> = HashSet::new();
    let mut n = 0u64;
    let mut err: Option<std::io::Error> = None;
    let bad = jsonl::read::<HostProbe>(p, |mut r| {
        if err.is_some() || !seen.insert(r.ip) {
            return;
        }
        if let Some(names) = sink.names.remove(&r.ip) {
            r.names = names.into_iter().collect();
        }
        match jsonl::write(&mut w, &r) {
            Ok(()) => n += 1,
            Err(e) => err = Some(e),
        }
    })?;
    if let Some(e) = err {
        return Err(crate::FileError {
            op: "writing",
            path: tmp,
            source: e,
        }
        .into());
    }
    if bad > 0 {
        return Err(Error::BadRecords {
            path: p.into(),
            bad,
            what: "probe",
            hint: "",
        });
    }
    w.flush().file("writing", &tmp)?;
    drop(w);
    std::fs::rename(&tmp, p).file("renaming to", p)?;
    Ok(n)
}

/// A stream over an mpsc receiver.
fn receiver_stream<T: Send + 'static>(
    rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The embedded data files with the date of each copy (data/README.md).
const EMBEDDED: &[(&str, &str, &str)] = &[
    (
        "public_suffix_list.dat",
        mxinfer_label::psl::EMBEDDED,
        "2026-10-22",
    ),
    (
        "companies.toml",
        mxinfer_label::data::EMBEDDED_COMPANIES,
        "2026-11-30",
    ),
    (
        "banner-aliases.toml",
        mxinfer_label::data::EMBEDDED_ALIASES,
        "2026-11-30",
    ),
    (
        "dnsbl-operators.txt",
        mxinfer_label::data::EMBEDDED_DNSBL,
        "2026-11-30",
    ),
    (
        "asn-companies.csv",
        mxinfer_label::pfx2as::EMBEDDED_COMPANY_RANGES,
        "2026-06-17",
    ),
    (
        "probe-blocklist.txt",
        crate::probe::plan::DEFAULT_BLOCKLIST,
        "2026-11-30",
    ),
];

fn file_entry(name: &str, p: &Path) -> Result<DataFile, crate::FileError> {
    let bytes = std::fs::read(p).file("reading", p)?;
    let date = std::fs::metadata(p)
        .and_then(|m| m.modified())
        .ok()
        .map(|t| {
            let t: time::OffsetDateTime = t.into();
            let fmt =
                time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
            t.format(&fmt).unwrap_or_default()
        });
    Ok(DataFile {
        name: name.to_string(),
        source: p.display().to_string(),
        sha256: sha256_hex(&bytes),
        bytes: bytes.len() as u64,
        date,
    })
}

/// Every data file the run used: the embedded ones it did not replace, and those given.
fn data_files(args: &RunSettings) -> Result<Vec<DataFile>, crate::FileError> {
    let replaced = |name: &str| match name {
        "public_suffix_list.dat" => args.label.psl.is_some(),
        "companies.toml" => args.label.companies.is_some(),
        "asn-companies.csv" => args.label.pfx2as.is_some(),
        _ => false,
    };
    let mut out: Vec<DataFile> = EMBEDDED
        .iter()
        .filter(|(n, _, _)| !replaced(n))
        .map(|(name, text, date)| DataFile {
            name: name.to_string(),
            source: "embedded".into(),
            sha256: sha256_hex(text.as_bytes()),
            bytes: text.len() as u64,
            date: Some(date.to_string()),
        })
        .collect();
    if args.roots.is_none() {
        // The anchors as compiled in: each subject and public key, in order.
        let mut anchors: Vec<u8> = Vec::new();
        for a in webpki_roots::TLS_SERVER_ROOTS {
            anchors.extend_from_slice(a.subject.as_ref());
            anchors.extend_from_slice(a.subject_public_key_info.as_ref());
        }
        out.push(DataFile {
            name: format!(
                "roots ({} Mozilla roots, webpki-roots)",
                webpki_roots::TLS_SERVER_ROOTS.len()
            ),
            source: "embedded".into(),
            sha256: sha256_hex(&anchors),
            bytes: anchors.len() as u64,
            date: None,
        });
    }
    let given: [(&str, &Option<PathBuf>); 6] = [
        ("--psl", &args.label.psl),
        ("--companies", &args.label.companies),
        ("--pfx2as", &args.label.pfx2as),
        ("--roots", &args.roots),
        ("--intermediates", &args.intermediates),
        ("--truth", &args.truth),
    ];
    for (flag, p) in given {
        if let Some(p) = p {
            out.push(file_entry(flag, p)?);
        }
    }
    for p in &args.blocklists {
        out.push(file_entry("--blocklist", p)?);
    }
    if args.input != "-" {
        out.push(file_entry("domains", Path::new(&args.input))?);
    }
    Ok(out)
}
