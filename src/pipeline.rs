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

    // Each domain is its own task, so resolution spreads over the runtime's worker threads
    // (polled inside this task, all DNS work would share one thread).
    let mut stream = Box::pin(
        tokio_stream_from(rx)
            .map(|d| {
                let r = resolver.clone();
                tokio::spawn(async move {
                    let rec = r.resolve(&d, 1).await;
                    (d, rec)
                })
            })
            .buffer_unordered(run.concurrency),
    );
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            item = stream.next() => {
                let Some(joined) = item else { break };
                let (d, rec) = joined.context("a resolver task failed")?;
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
                progress.finish("interrupted: writing what is known");
                break;
            }
        }
    }
    // Dropping the stream drops the input receiver, so a reader blocked on a full channel
    // stops (after ctrl-c); domains still in flight are abandoned.
    drop(stream);
    if !interrupted && !retry.is_empty() {
        // Second pass for transient failures, with the failed shared lookups forgotten.
        resolver.cache().purge_transient();
        let mut second = Box::pin(
            futures::stream::iter(retry.drain(..).map(|(d, _)| d))
                .map(|d| {
                    let r = resolver.clone();
                    tokio::spawn(async move { r.resolve(&d, 2).await })
                })
                .buffer_unordered(run.concurrency),
        );
        while let Some(joined) = second.next().await {
            let rec = joined.context("a resolver task failed")?;
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
