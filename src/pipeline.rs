//! The only module that wires stages together: input -> resolve -> output, with bounded
//! channels, the second pass, ctrl-c handling and the run metadata.

use crate::input::{self, DomainReader, Entry, InputDomain};
use crate::progress::Progress;
use crate::record::{DnsStatus, DomainDns, InputCounts, RunMeta};
use crate::resolve::{DomainResolver, needs_second_pass};
use anyhow::Context;
use futures::StreamExt;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

/// Input lines buffered between the reader thread and the resolvers.
const INPUT_CHANNEL: usize = 4096;

/// Where a stage writes its JSON Lines.
pub fn open_output(path: &str) -> anyhow::Result<Box<dyn Write + Send>> {
    if path == "-" {
        Ok(Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout(),
        )))
    } else {
        let f = std::fs::File::create(path).with_context(|| format!("creating {path}"))?;
        Ok(Box::new(std::io::BufWriter::with_capacity(1 << 16, f)))
    }
}

/// Writes one record as a JSON line.
pub fn write_record<T: Serialize>(out: &mut dyn Write, rec: &T) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, rec)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Reads a domain list on a blocking thread, sends accepted domains, reports bad lines.
fn spawn_reader(
    path: String,
    progress: Arc<Progress>,
    tx: tokio::sync::mpsc::Sender<InputDomain>,
) -> std::thread::JoinHandle<anyhow::Result<InputCounts>> {
    std::thread::spawn(move || {
        let src = input::open(&path).with_context(|| format!("opening {path}"))?;
        let shown = if path == "-" {
            "<stdin>"
        } else {
            path.as_str()
        };
        let mut reader = DomainReader::new(src);
        for e in reader.by_ref() {
            match e.with_context(|| format!("reading {shown}"))? {
                Entry::Domain(d) => {
                    if tx.blocking_send(d).is_err() {
                        break; // the consumer stopped (interrupted)
                    }
                }
                Entry::Rejected(b) => progress.bad_line(shown, &b),
            }
        }
        Ok(reader.counts().clone())
    })
}

/// Summary of a resolve run (also written as metadata).
pub struct ResolveOutcome {
    pub meta: RunMeta,
}

/// Settings of one resolve run.
pub struct ResolveRun {
    pub input: String,
    pub concurrency: usize,
    pub args: Vec<String>,
    /// Settings to record in the metadata (resolver, options).
    pub settings: serde_json::Value,
}

/// Resolves every domain of the input and writes one record per accepted domain to `out`.
pub async fn run_resolve(
    run: ResolveRun,
    resolver: Arc<DomainResolver>,
    out: &mut dyn Write,
    progress: Arc<Progress>,
) -> anyhow::Result<ResolveOutcome> {
    let started_at = crate::util::now_rfc3339();
    let t0 = Instant::now();
    let (tx, rx) = tokio::sync::mpsc::channel::<InputDomain>(INPUT_CHANNEL);
    let reader = spawn_reader(run.input.clone(), progress.clone(), tx);
    let mut counts: BTreeMap<DnsStatus, u64> = BTreeMap::new();
    let mut done: u64 = 0;
    let mut retry: Vec<(InputDomain, DomainDns)> = Vec::new();
    let mut interrupted = false;

    let stream = tokio_stream_from(rx)
        .map(|d| {
            let r = resolver.clone();
            async move {
                let rec = r.resolve(&d, 1).await;
                (d, rec)
            }
        })
        .buffer_unordered(run.concurrency);
    tokio::pin!(stream);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            item = stream.next() => {
                let Some((d, rec)) = item else { break };
                if needs_second_pass(&rec) {
                    retry.push((d, rec));
                    continue;
                }
                emit(out, &rec, &mut counts)?;
                done += 1;
                progress.tick(done, || status_line(&counts));
            }
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                progress.finish("interrupted: finishing domains in flight");
                // Dropping the stream drops the receiver: the reader stops.
                break;
            }
        }
    }
    if !interrupted && !retry.is_empty() {
        // Second pass for transient failures, with the failed shared lookups forgotten.
        resolver.cache().purge_transient();
        let second = futures::stream::iter(retry.drain(..).map(|(d, _)| d))
            .map(|d| {
                let r = resolver.clone();
                async move { r.resolve(&d, 2).await }
            })
            .buffer_unordered(run.concurrency);
        tokio::pin!(second);
        while let Some(rec) = second.next().await {
            emit(out, &rec, &mut counts)?;
            done += 1;
            progress.tick(done, || status_line(&counts));
        }
    } else {
        // Interrupted: what is known is still written (first-pass records).
        for (_, rec) in retry.drain(..) {
            emit(out, &rec, &mut counts)?;
        }
    }
    out.flush().context("writing output")?;
    let input_counts = match reader.join() {
        Ok(r) => r?,
        Err(_) => anyhow::bail!("the input reader thread panicked"),
    };
    let cache = resolver.cache().stats();
    let duration = t0.elapsed().as_secs_f64();
    let mut stage = run.settings.clone();
    if let serde_json::Value::Object(m) = &mut stage {
        m.insert("queries_sent".into(), resolver.queries_sent().into());
        m.insert("exchanger_cache".into(), serde_json::to_value(cache)?);
        m.insert(
            "domains_per_second".into(),
            ((done as f64 / duration.max(1e-9)).round()).into(),
        );
    }
    let meta = RunMeta {
        tool: "mxinfer".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: "resolve".into(),
        args: run.args,
        started_at,
        finished_at: crate::util::now_rfc3339(),
        duration_s: duration,
        input: run.input,
        input_counts,
        status_counts: counts
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), *v))
            .collect(),
        stage,
        interrupted,
    };
    progress.finish(&format!(
        "{} domains in {:.1} s: {}",
        done,
        duration,
        status_line(&counts)
    ));
    Ok(ResolveOutcome { meta })
}

fn emit(
    out: &mut dyn Write,
    rec: &DomainDns,
    counts: &mut BTreeMap<DnsStatus, u64>,
) -> anyhow::Result<()> {
    write_record(out, rec).context("writing output")?;
    *counts.entry(rec.status).or_default() += 1;
    Ok(())
}

fn status_line(counts: &BTreeMap<DnsStatus, u64>) -> String {
    counts
        .iter()
        .map(|(k, v)| format!("{}={v}", k.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A stream over an mpsc receiver.
fn tokio_stream_from<T: Send + 'static>(
    rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
}

// ---------------------------------------------------------------------------------------------
// Probe stage
// ---------------------------------------------------------------------------------------------

/// Settings of one probe run.
pub struct ProbeRun {
    pub input: String,
    pub format: crate::probe::plan::InputFormat,
    pub concurrency: usize,
    pub policy: crate::probe::plan::Policy,
    pub args: Vec<String>,
    /// Settings to record in the metadata.
    pub settings: serde_json::Value,
}

/// Summary of a probe run (also written as metadata).
pub struct ProbeOutcome {
    pub meta: RunMeta,
}

/// Plans the targets (the resolve stage's address classes for list input), probes each
/// address once, writes one record per target (skipped ones too).
pub async fn run_probe(
    run: ProbeRun,
    prober: Arc<crate::probe::session::Prober>,
    out: &mut dyn Write,
    progress: Arc<Progress>,
) -> anyhow::Result<ProbeOutcome> {
    use crate::probe::plan::{Decision, read_targets};
    use crate::record::ProbeStatus;
    let started_at = crate::util::now_rfc3339();
    let t0 = Instant::now();
    let shown = if run.input == "-" {
        "<stdin>".to_string()
    } else {
        run.input.clone()
    };
    let (targets, tcounts, format) = {
        let src = input::open(&run.input).with_context(|| format!("opening {}", run.input))?;
        let p = progress.clone();
        let shown2 = shown.clone();
        read_targets(
            src,
            run.format,
            &crate::resolve::classify::addr_class,
            move |b| {
                p.bad_line(
                    &shown2,
                    &input::BadLine {
                        line: b.line,
                        reason: b.reason,
                        text: b.text,
                    },
                )
            },
        )
        .with_context(|| format!("reading {shown}"))?
    };
    let port = prober.settings().port;
    let policy = Arc::new(run.policy);
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut done: u64 = 0;
    let mut interrupted = false;
    let total = targets.len();
    let stream = futures::stream::iter(targets)
        .map(|t| {
            let prober = prober.clone();
            let policy = policy.clone();
            async move {
                let names: Vec<String> = t.names.into_iter().collect();
                match policy.decide(t.ip, t.class) {
                    Decision::Probe => prober.probe(t.ip, names).await,
                    Decision::SkipIpv6 => {
                        crate::probe::skipped(t.ip, port, names, ProbeStatus::SkippedIpv6)
                    }
                    Decision::SkipPrivate => {
                        crate::probe::skipped(t.ip, port, names, ProbeStatus::SkippedPrivate)
                    }
                    Decision::SkipBlocklist => {
                        crate::probe::skipped(t.ip, port, names, ProbeStatus::SkippedBlocklist)
                    }
                }
            }
        })
        .buffer_unordered(run.concurrency);
    tokio::pin!(stream);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            item = stream.next() => {
                let Some(rec) = item else { break };
                write_record(out, &rec).context("writing output")?;
                let status = serde_json::to_value(rec.status)?
                    .as_str()
                    .unwrap_or("?")
                    .to_string();
                *counts.entry(status).or_default() += 1;
                done += 1;
                progress.tick(done, || probe_status_line(&counts));
            }
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                progress.finish("interrupted: records of unfinished probes are not written");
                break;
            }
        }
    }
    out.flush().context("writing output")?;
    let duration = t0.elapsed().as_secs_f64();
    let mut stage = run.settings.clone();
    if let serde_json::Value::Object(m) = &mut stage {
        m.insert(
            "input_format".into(),
            format!("{format:?}").to_lowercase().into(),
        );
        m.insert("targets".into(), total.into());
        m.insert(
            "probes_per_second".into(),
            ((done as f64 / duration.max(1e-9)).round()).into(),
        );
    }
    let meta = RunMeta {
        tool: "mxinfer".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: "probe".into(),
        args: run.args,
        started_at,
        finished_at: crate::util::now_rfc3339(),
        duration_s: duration,
        input: run.input,
        input_counts: InputCounts {
            lines: tcounts.lines,
            blank: tcounts.blank,
            comments: tcounts.comments,
            header: 0,
            accepted: tcounts.accepted,
            duplicates: tcounts.duplicates,
            rejected: tcounts.rejected,
        },
        status_counts: counts.clone(),
        stage,
        interrupted,
    };
    progress.finish(&format!(
        "{} addresses in {:.1} s: {}",
        done,
        duration,
        probe_status_line(&counts)
    ));
    Ok(ProbeOutcome { meta })
}

fn probe_status_line(counts: &BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}
