//! The only module that wires stages together: input -> resolve -> output, with bounded
//! channels, the second pass, cancellation and the run metadata; the label and probe stages
//! over their files; and [`run`], all of them streaming into each other.

mod label_pass;
mod parquet_rows;
pub mod run;
pub mod shards;

use crate::Error;
use crate::error::FileContext;
use crate::input::{self, DomainReader, Entry, InputDomain};
use crate::jsonl;
use crate::progress::{Cancel, Reporter};
use crate::resolve::{DomainResolver, needs_second_pass};
use futures::StreamExt;
use mxinfer_record::{
    DnsStatus, DomainDns, InputCounts, LabelStage, ProbeSettings, ProbeStage, ResolveSettings,
    ResolveStage, RunMeta, Shard,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Input lines buffered between the reader thread and the resolvers.
const INPUT_CHANNEL: usize = 4096;

/// How long a finished resolve or probe record may wait in the output buffer before it is
/// written to the file (README "Durable progress"): a killed run loses at most the records
/// finished in this window, and `--resume` redoes only those.
pub const FLUSH_WINDOW: std::time::Duration = std::time::Duration::from_millis(100);

/// When the records written since the last flush must reach the file: [`FLUSH_WINDOW`] after
/// the first of them. The stage loops wait for it beside their work and flush when it comes;
/// one timer per loop, set again only when a record finds nothing waiting (not one per record).
struct FlushClock {
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    pending: bool,
}

impl FlushClock {
    fn new() -> Self {
        // Far enough never to come; the select branch is disabled until a record waits.
        let never = tokio::time::Instant::now() + std::time::Duration::from_secs(86_400 * 365);
        FlushClock {
            sleep: Box::pin(tokio::time::sleep_until(never)),
            pending: false,
        }
    }

    /// A record was written (buffered).
    fn wrote(&mut self) {
        if !self.pending {
            self.pending = true;
            self.sleep
                .as_mut()
                .reset(tokio::time::Instant::now() + FLUSH_WINDOW);
        }
    }

    /// The timer of the next flush (it comes only while [`Self::pending`]).
    fn until_due(&mut self) -> &mut std::pin::Pin<Box<tokio::time::Sleep>> {
        &mut self.sleep
    }

    fn pending(&self) -> bool {
        self.pending
    }

    /// Writes what waits to the file.
    fn flush(&mut self, out: &mut dyn Write) -> crate::Result<()> {
        if std::mem::take(&mut self.pending) {
            out.flush().map_err(Error::Output)?;
        }
        Ok(())
    }
}

/// Reads a domain list on a blocking thread, sends accepted domains, reports bad lines.
fn spawn_reader(
    path: String,
    progress: Arc<dyn Reporter>,
    tx: tokio::sync::mpsc::Sender<InputDomain>,
) -> std::thread::JoinHandle<crate::Result<InputCounts>> {
    std::thread::spawn(move || {
        let src = input::open(&path).file("opening", Path::new(&path))?;
        let shown = if path == "-" {
            "<stdin>"
        } else {
            path.as_str()
        };
        let mut reader = DomainReader::new(src);
        for e in reader.by_ref() {
            match e.file("reading", Path::new(shown))? {
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
    pub meta: RunMeta<ResolveStage>,
    /// The sink of `run`, closed, with every address's names.
    pub targets: Option<TargetSink>,
    /// Input domains skipped as already resolved (`--resume`).
    pub skipped: u64,
}

/// Settings of one resolve run.
pub struct ResolveRun {
    pub input: String,
    pub concurrency: usize,
    pub args: Vec<String>,
    /// Settings to record in the metadata (resolver, options).
    pub settings: ResolveSettings,
    /// `run`: every exchanger address not seen before goes to the probe stage here.
    pub targets: Option<TargetSink>,
    /// `run --resume`: domains already resolved (lower-case, no trailing dot), not redone.
    pub skip: Option<std::collections::HashSet<String>>,
    /// `--shard I/N`: resolve only the domains of this shard (the others are counted as
    /// `other_shards`); every record carries it.
    pub shard: Option<Shard>,
}

/// Hands the probe stage of `run` each exchanger address once, as resolve records are
/// written, and keeps every exchanger name of each address (merged into the probe records
/// at the end).
pub struct TargetSink {
    tx: Option<tokio::sync::mpsc::Sender<crate::probe::plan::Target>>,
    /// Address -> exchanger names (sorted) of every record written.
    pub names: std::collections::HashMap<std::net::IpAddr, std::collections::BTreeSet<String>>,
    /// Addresses that need no probe (already in the probe output: `--resume`).
    done: std::collections::HashSet<std::net::IpAddr>,
    /// Addresses sent to the probe stage.
    pub sent: u64,
}

impl TargetSink {
    pub fn new(
        tx: tokio::sync::mpsc::Sender<crate::probe::plan::Target>,
        done: std::collections::HashSet<std::net::IpAddr>,
    ) -> Self {
        TargetSink {
            tx: Some(tx),
            names: Default::default(),
            done,
            sent: 0,
        }
    }

    /// Records the names of `rec`'s addresses; returns the addresses seen for the first
    /// time that still need a probe.
    pub fn note(&mut self, rec: &DomainDns) -> Vec<crate::probe::plan::Target> {
        let mut new = Vec::new();
        for x in &rec.exchangers {
            for a in &x.addresses {
                match self.names.entry(a.ip) {
                    std::collections::hash_map::Entry::Occupied(mut e) => {
                        if !e.get().contains(&x.name) {
                            e.get_mut().insert(x.name.clone());
                        }
                    }
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert([x.name.clone()].into());
                        if !self.done.contains(&a.ip) {
                            new.push(crate::probe::plan::Target {
                                ip: a.ip,
                                // Classified again here, not taken from the record: the skip
                                // rules must not depend on what a record claims.
                                class: crate::resolve::classify::addr_class(a.ip),
                                names: [x.name.clone()].into(),
                            });
                        }
                    }
                }
            }
        }
        new
    }

    /// Sends the targets to the probe stage (waits while its queue is full). A probe stage
    /// that has stopped (interrupted) is not an error: the resolve records are still written.
    pub async fn send(&mut self, targets: Vec<crate::probe::plan::Target>) {
        for t in targets {
            let Some(tx) = &self.tx else { return };
            if tx.send(t).await.is_err() {
                self.tx = None;
                return;
            }
            self.sent += 1;
        }
    }

    /// Whether sending `n` targets may wait (the probe stage's queue has less room).
    pub fn would_wait(&self, n: usize) -> bool {
        n > 0 && self.tx.as_ref().is_some_and(|tx| tx.capacity() < n)
    }

    /// Ends the stream of targets (the probe stage finishes what it has).
    pub fn close(&mut self) {
        self.tx = None;
    }
}

/// Resolves every domain of the input and writes one record per accepted domain to `out`.
pub async fn run_resolve(
    run: ResolveRun,
    resolver: Arc<DomainResolver>,
    out: &mut dyn Write,
    progress: Arc<dyn Reporter>,
    cancel: Cancel,
) -> crate::Result<ResolveOutcome> {
    let started_at = crate::util::now_rfc3339();
    let t0 = Instant::now();
    let mut run = run;
    let mut sink = run.targets.take();
    let skip = run.skip.take().unwrap_or_default();
    let shard = run.shard;
    let other_shards = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let other_shards2 = other_shards.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<InputDomain>(INPUT_CHANNEL);
    let reader = spawn_reader(run.input.clone(), progress.clone(), tx);
    let skipped = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let skipped2 = skipped.clone();
    let mut counts: BTreeMap<DnsStatus, u64> = BTreeMap::new();
    let mut done: u64 = 0;
    let mut retry: Vec<(InputDomain, DomainDns)> = Vec::new();
    let mut interrupted = false;

    // Each domain is its own task, so resolution spreads over the runtime's worker threads
    // (polled inside this task, all DNS work would share one thread).
    let mut stream = Box::pin(
        tokio_stream_from(rx)
            .filter(move |d| {
                if let Some(s) = shard
                    && !s.holds_domain(&key_of(&d.domain))
                {
                    other_shards2.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return std::future::ready(false);
                }
                let done = !skip.is_empty() && skip.contains(&key_of(&d.domain));
                if done {
                    skipped2.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                std::future::ready(!done)
            })
            .map(|d| {
                let r = resolver.clone();
                tokio::spawn(async move {
                    let rec = r.resolve(&d, 1).await;
                    (d, rec)
                })
            })
            .buffer_unordered(run.concurrency),
    );
    let cancelled = cancel.cancelled();
    tokio::pin!(cancelled);
    let mut clock = FlushClock::new();
    loop {
        tokio::select! {
            item = stream.next() => {
                let Some(joined) = item else { break };
                let (d, mut rec) = joined.map_err(|e| Error::Task("resolver", e))?;
                rec.shard = shard;
                if needs_second_pass(&rec) {
                    retry.push((d, rec));
                    continue;
                }
                emit(out, &rec, &mut counts)?;
                clock.wrote();
                if let Some(s) = &mut sink {
                    let t = s.note(&rec);
                    if s.would_wait(t.len()) {
                        clock.flush(out)?; // nothing waits in the buffer while the send does
                    }
                    s.send(t).await;
                }
                done += 1;
                progress.tick(done, &|| status_line(&counts));
            }
            _ = clock.until_due(), if clock.pending() => clock.flush(out)?,
            _ = &mut cancelled, if !interrupted => {
                interrupted = true;
                progress.finish("interrupted: writing what is known");
                break;
            }
        }
    }
    // Dropping the stream drops the input receiver, so a reader blocked on a full channel
    // stops (after cancellation); domains still in flight are abandoned.
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
        loop {
            tokio::select! {
                item = second.next() => {
                    let Some(joined) = item else { break };
                    let mut rec = joined.map_err(|e| Error::Task("resolver", e))?;
                    rec.shard = shard;
                    emit(out, &rec, &mut counts)?;
                    clock.wrote();
                    if let Some(s) = &mut sink {
                        let t = s.note(&rec);
                        if s.would_wait(t.len()) {
                            clock.flush(out)?;
                        }
                        s.send(t).await;
                    }
                    done += 1;
                    progress.tick(done, &|| status_line(&counts));
                }
                _ = clock.until_due(), if clock.pending() => clock.flush(out)?,
            }
        }
    } else {
        // Interrupted: what is known is still written (first-pass records).
        for (_, rec) in retry.drain(..) {
            emit(out, &rec, &mut counts)?;
            if let Some(s) = &mut sink {
                s.note(&rec);
            }
        }
    }
    if let Some(s) = &mut sink {
        s.close();
    }
    out.flush().map_err(Error::Output)?;
    let mut input_counts = match reader.join() {
        Ok(r) => r?,
        Err(_) => return Err(Error::ReaderPanicked),
    };
    input_counts.other_shards = other_shards.load(std::sync::atomic::Ordering::Relaxed);
    let cache = resolver.cache().stats();
    let duration = t0.elapsed().as_secs_f64();
    let stage = ResolveStage {
        settings: run.settings,
        domains_per_second: (done as f64 / duration.max(1e-9)).round(),
        exchanger_cache: cache,
        queries_sent: resolver.queries_sent(),
    };
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
        shard,
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
    Ok(ResolveOutcome {
        meta,
        targets: sink,
        skipped: skipped.load(std::sync::atomic::Ordering::Relaxed),
    })
}

/// A domain as the records spell it, for matching: lower-case, no trailing dot.
pub fn key_of(domain: &str) -> String {
    domain.trim_end_matches('.').to_ascii_lowercase()
}

fn emit(
    out: &mut dyn Write,
    rec: &DomainDns,
    counts: &mut BTreeMap<DnsStatus, u64>,
) -> crate::Result<()> {
    jsonl::write(out, rec).map_err(Error::Output)?;
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
// Label: probes (+ enrich) -> labeller <- resolve records; then labels and claims
// ---------------------------------------------------------------------------------------------

/// The label stage's data and method settings (paths as given; `None`: the embedded table).
#[derive(Debug, Clone)]
pub struct LabelSources {
    pub pfx2as: Option<std::path::PathBuf>,
    pub companies: Option<std::path::PathBuf>,
    pub psl: Option<std::path::PathBuf>,
    pub psl_icann_only: bool,
    pub settings: mxinfer_label::LabelSettings,
}

/// Settings of one label run.
#[derive(Debug, Clone)]
pub struct LabelRun {
    /// Resolve records: files or directories (their files), read in the order given; the
    /// labels come out in that order (file, then line).
    pub dns: Vec<std::path::PathBuf>,
    /// Probe records: files or directories; their order does not matter (an address seen
    /// twice keeps the record chosen by content).
    pub probes: Vec<std::path::PathBuf>,
    pub sources: LabelSources,
    pub claims: Option<std::path::PathBuf>,
    /// The command line, recorded in the metadata.
    pub args: Vec<String>,
    /// Threads labelling in the second pass (the machine's cores by default:
    /// [`default_threads`]).
    pub threads: usize,
    /// Label a sharded scan even when some shard's output is missing (reported in the
    /// metadata); otherwise that is an error.
    pub allow_missing_shards: bool,
}

/// The threads of the label stage's second pass: the machine's cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Summary of a label run (also written as metadata).
pub struct LabelOutcome {
    pub meta: RunMeta<LabelStage>,
    /// Input lines that were not valid records (reported, skipped).
    pub bad_lines: u64,
    /// The labeller with the whole batch. Handed back rather than dropped inside, so a
    /// command that exits next can skip freeing it (`std::mem::forget`): freeing millions of
    /// small allocations one by one costs several percent of a large run.
    pub labeller: mxinfer_label::Labeller,
}

/// Labels every domain of the resolve output from the probe evidence and writes one record
/// per domain (in input order) to `out`, and the suspicious claims to `run.claims`.
pub fn run_label(
    run: LabelRun,
    out: &mut dyn Write,
    progress: Arc<dyn Reporter>,
) -> crate::Result<LabelOutcome> {
    use mxinfer_label::pfx2as::AsTable;
    use mxinfer_label::{Labeller, data::LabelData, psl::Psl};
    use mxinfer_record::HostProbe;
    let started_at = crate::util::now_rfc3339();
    let t0 = Instant::now();
    let psl = match &run.sources.psl {
        Some(p) => Psl::parse(
            &std::fs::read_to_string(p).file("reading", p)?,
            run.sources.psl_icann_only,
        )
        .map_err(|e| Error::data(format!("parsing {}", p.display()), e))?,
        None => Psl::embedded(run.sources.psl_icann_only),
    };
    let mut data = LabelData::embedded();
    if let Some(p) = &run.sources.companies {
        let text = std::fs::read_to_string(p).file("reading", p)?;
        data = data
            .with_companies(&text)
            .map_err(|e| Error::data(format!("loading {}", p.display()), e))?;
    }
    let (asn, asn_source, asn_stats) = match &run.sources.pfx2as {
        Some(p) => {
            // CAIDA ships pfx2as gzip-compressed: read either.
            let r = jsonl::open(p)?;
            let mut t = AsTable::new();
            let st = t
                .load(r, &p.display().to_string())
                .map_err(|e| Error::data("prefix-to-AS data", e))?;
            (t, p.display().to_string(), Some(st))
        }
        None => (
            AsTable::embedded(),
            "embedded data/asn-companies.csv".to_string(),
            None,
        ),
    };
    let psl_version = psl.version().map(str::to_string);
    let companies = data.company_count();
    let mut lab = Labeller::new(psl, data, run.sources.settings.clone());

    let (probe_files, dns_files) = (jsonl::expand(&run.probes)?, jsonl::expand(&run.dns)?);
    let mut probe_counts = InputCounts::default();
    let mut shards = shards::ShardTally::default();
    for f in &probe_files {
        if jsonl::is_parquet(f) {
            parquet_rows::probes(f, &mut probe_counts, |row| {
                let asns = asn.lookup(row.ip());
                lab.add_evidence(&mxinfer_label::AddressEvidence::from_parts(
                    &row.parts(),
                    asns,
                ));
            })?;
            continue;
        }
        if let Some(m) = jsonl::meta_beside(f) {
            shards.note(shards::Stage::Probes, m.shard, f);
        }
        jsonl::read_counted::<HostProbe>(f, &mut probe_counts, |p| {
            shards.note(shards::Stage::Probes, p.shard, f);
            let asns = asn.lookup(p.ip);
            lab.add_probe(&p, asns);
        })?;
    }
    let t_probes = t0.elapsed().as_secs_f64();
    // First pass over the resolve records: the batch counts (nothing is kept per domain).
    // The label stage's borrowed view of a record: no copy of fields it does not use.
    let mut dns_counts = InputCounts::default();
    let mut counted = 0u64;
    for f in &dns_files {
        if jsonl::is_parquet(f) {
            parquet_rows::dns(f, &mut dns_counts, |d| {
                lab.count_domain_view(d);
                counted += 1;
                if counted.is_multiple_of(65536) {
                    progress.tick(counted, &|| "domains counted".to_string());
                }
            })?;
            continue;
        }
        if let Some(m) = jsonl::meta_beside(f) {
            shards.note(shards::Stage::Dns, m.shard, f);
        }
        jsonl::parse_lines(f, &mut dns_counts, |line| {
            let d = serde_json::from_slice::<mxinfer_record::DomainDnsView<'_>>(line)?;
            shards.note(shards::Stage::Dns, d.shard, f);
            lab.count_domain_view(d);
            counted += 1;
            if counted.is_multiple_of(65536) {
                progress.tick(counted, &|| "domains counted".to_string());
            }
            Ok(())
        })?;
    }
    let t_dns = t0.elapsed().as_secs_f64();
    // Before any label is written: the shards must make one whole scan.
    let shards_seen = shards.finish(run.allow_missing_shards)?;
    if let Some(seen) = &shards_seen {
        for (stage, set) in [("resolve", &seen.dns), ("probe", &seen.probes)] {
            if let Some(set) = set.as_ref().filter(|s| !s.missing.is_empty()) {
                progress.warn(&format!(
                    "labelling without the {stage} output of shards {:?} of {}",
                    set.missing, set.count
                ));
            }
        }
    }
    lab.finish();
    // Second pass: each record labelled with the whole batch's counts, on every core, and
    // written in input order.
    let counts = label_pass::label_files(&lab, &dns_files, out, run.threads, &*progress)?;
    let mut n_claims = 0u64;
    if let Some(p) = &run.claims {
        // Compressed when its name says so, like the labels.
        let mut w = jsonl::create(&p.to_string_lossy())?;
        for c in lab.claims() {
            jsonl::write(&mut w, &c).file("writing", p)?;
            n_claims += 1;
        }
        w.finish()?;
    }
    let duration = t0.elapsed().as_secs_f64();
    let done = counts.values().sum::<u64>();
    let shown = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map_or("embedded".to_string(), |p| p.display().to_string())
    };
    let stage = LabelStage {
        approach: run.sources.settings.approach,
        batch_size: done,
        certificate_groups_joined: lab.joined_groups(),
        claim_count: n_claims,
        claims: run.claims.as_ref().map(|p| p.display().to_string()),
        compact: run.sources.settings.compact,
        companies: shown(&run.sources.companies),
        company_count: companies,
        counts: lab.counts().clone(),
        domains_per_second: (done as f64 / duration.max(1e-9)).round(),
        pfx2as: asn_source,
        pfx2as_load: asn_stats,
        pfx2as_prefixes: asn.len(),
        probe_input_counts: probe_counts.clone(),
        probes: jsonl::shown(&probe_files),
        psl: shown(&run.sources.psl),
        psl_icann_only: run.sources.psl_icann_only,
        psl_version,
        seconds_reading_dns: t_dns - t_probes,
        seconds_reading_probes: t_probes,
        shards: shards_seen,
        threshold: run.sources.settings.threshold,
    };
    let bad_lines = probe_counts.rejected + dns_counts.rejected;
    let meta = RunMeta {
        tool: "mxinfer".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: "label".into(),
        args: run.args,
        started_at,
        finished_at: crate::util::now_rfc3339(),
        duration_s: duration,
        input: jsonl::shown(&dns_files),
        input_counts: dns_counts,
        shard: None,
        status_counts: counts
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), *v))
            .collect(),
        stage,
        interrupted: false,
    };
    progress.finish(&format!(
        "{} domains labelled in {:.1} s: {}",
        done,
        duration,
        counts
            .iter()
            .map(|(k, v)| format!("{}={v}", k.as_str()))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    Ok(LabelOutcome {
        meta,
        bad_lines,
        labeller: lab,
    })
}

// ---------------------------------------------------------------------------------------------
// Probe stage
// ---------------------------------------------------------------------------------------------

/// Settings of one probe run.
pub struct ProbeRun {
    /// Target files or directories (`-`: standard input, alone), read in the order given;
    /// an address in several is one target with all its names.
    pub inputs: Vec<String>,
    /// `--shard I/N`: probe only the addresses of this shard (the others are counted as
    /// `other_shards`); every record carries it.
    pub shard: Option<Shard>,
    pub format: crate::probe::plan::InputFormat,
    pub concurrency: usize,
    pub policy: crate::probe::plan::Policy,
    pub args: Vec<String>,
    /// Settings to record in the metadata.
    pub settings: ProbeSettings,
}

/// Summary of a probe run (also written as metadata).
pub struct ProbeOutcome {
    pub meta: RunMeta<ProbeStage>,
}

/// Plans the targets (the resolve stage's address classes for list input), probes each
/// address once, writes one record per target (skipped ones too).
pub async fn run_probe(
    run: ProbeRun,
    prober: Arc<crate::probe::session::Prober>,
    out: &mut dyn Write,
    progress: Arc<dyn Reporter>,
    cancel: Cancel,
) -> crate::Result<ProbeOutcome> {
    let started_at = crate::util::now_rfc3339();
    let t0 = Instant::now();
    let (mut targets, tcounts, format) = read_all_targets(&run.inputs, run.format, &progress)?;
    let mut other_shards = None;
    if let Some(sh) = run.shard {
        let before = targets.len();
        targets.retain(|t| sh.holds_ip(t.ip));
        other_shards = Some((before - targets.len()) as u64);
    }
    let total = targets.len();
    let policy = Arc::new(run.policy);
    let tally = probe_targets(
        futures::stream::iter(targets),
        Probing {
            prober,
            policy,
            concurrency: run.concurrency,
            shard: run.shard,
        },
        out,
        &*progress,
        cancel,
    )
    .await?;
    let (counts, done, interrupted) = (tally.counts, tally.done, tally.interrupted);
    out.flush().map_err(Error::Output)?;
    let duration = t0.elapsed().as_secs_f64();
    let stage = ProbeStage {
        settings: run.settings,
        input_format: Some(format!("{format:?}").to_lowercase()),
        probes_per_second: Some((done as f64 / duration.max(1e-9)).round()),
        other_shards,
        targets: Some(total as u64),
        ..ProbeStage::default()
    };
    let meta = RunMeta {
        tool: "mxinfer".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: "probe".into(),
        args: run.args,
        started_at,
        finished_at: crate::util::now_rfc3339(),
        duration_s: duration,
        input: run.inputs.join(","),
        input_counts: InputCounts {
            lines: tcounts.lines,
            blank: tcounts.blank,
            comments: tcounts.comments,
            header: 0,
            accepted: tcounts.accepted,
            duplicates: tcounts.duplicates,
            rejected: tcounts.rejected,
            other_shards: 0,
        },
        shard: run.shard,
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

/// Every target of the inputs (files, directories, or `-` alone), each address once in
/// first-appearance order with the names of all inputs merged; bad lines reported with
/// their file and line. The format is decided per file when `Auto`; the one recorded is the
/// first file's.
fn read_all_targets(
    inputs: &[String],
    format: crate::probe::plan::InputFormat,
    progress: &Arc<dyn Reporter>,
) -> crate::Result<(
    Vec<crate::probe::plan::Target>,
    crate::probe::plan::TargetCounts,
    crate::probe::plan::InputFormat,
)> {
    use crate::probe::plan::{TargetCounts, read_targets};
    let files: Vec<String> = if inputs.iter().any(|i| i == "-") {
        if inputs.len() > 1 {
            return Err(Error::Targets {
                input: inputs.join(","),
                source: crate::probe::plan::PlanError::StdinNotAlone,
            });
        }
        vec!["-".to_string()]
    } else {
        let paths: Vec<std::path::PathBuf> = inputs.iter().map(Into::into).collect();
        jsonl::expand(&paths)?
            .iter()
            .map(|p| p.display().to_string())
            .collect()
    };
    let mut all: Vec<crate::probe::plan::Target> = Vec::new();
    let mut index: std::collections::HashMap<std::net::IpAddr, usize> = Default::default();
    let mut counts = TargetCounts::default();
    let mut first_format = None;
    for f in &files {
        let shown = if f == "-" { "<stdin>" } else { f.as_str() };
        let src = input::open(f).file("opening", Path::new(f))?;
        let p = progress.clone();
        let shown2 = shown.to_string();
        let (targets, c, fmt) = read_targets(
            src,
            format,
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
        .map_err(|source| Error::Targets {
            input: shown.to_string(),
            source,
        })?;
        first_format.get_or_insert(fmt);
        counts.absorb(&c);
        for t in targets {
            match index.get(&t.ip) {
                Some(&i) => {
                    all[i].names.extend(t.names);
                    counts.duplicates += 1;
                }
                None => {
                    index.insert(t.ip, all.len());
                    all.push(t);
                }
            }
        }
    }
    Ok((all, counts, first_format.unwrap_or(format)))
}

/// A spawned task that is cancelled when its handle is dropped (an interrupted run leaves no
/// probe going on behind it).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How [`probe_targets`] probes.
pub struct Probing {
    pub prober: Arc<crate::probe::session::Prober>,
    /// Which targets are probed and which get a skip record.
    pub policy: Arc<crate::probe::plan::Policy>,
    /// Probes at once.
    pub concurrency: usize,
    /// Recorded in every record (`--shard`).
    pub shard: Option<Shard>,
}

/// What [`probe_targets`] did.
pub struct ProbeTally {
    /// Records per status.
    pub counts: BTreeMap<String, u64>,
    /// Records written.
    pub done: u64,
    pub interrupted: bool,
}

/// Probes each target of the stream (or writes its skip record, by `policy`), at most
/// `concurrency` at once, writing one record per target to `out` as it completes. Stops
/// when `cancel` resolves (unfinished probes write nothing).
pub async fn probe_targets(
    targets: impl futures::Stream<Item = crate::probe::plan::Target>,
    probing: Probing,
    out: &mut dyn Write,
    progress: &dyn Reporter,
    cancel: Cancel,
) -> crate::Result<ProbeTally> {
    use crate::probe::plan::Decision;
    use mxinfer_record::ProbeStatus;
    let Probing {
        prober,
        policy,
        concurrency,
        shard,
    } = probing;
    let port = prober.settings().port;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut done: u64 = 0;
    let mut interrupted = false;
    // Each probe is a task of its own: the sessions spread over the runtime's workers, and a
    // session's deadline timer fires on time instead of waiting for one task that would poll
    // every session (TLS handshakes and chain checks are CPU work) in turn.
    let stream = targets
        .map(|t| {
            let prober = prober.clone();
            let policy = policy.clone();
            AbortOnDrop(tokio::spawn(async move {
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
            }))
        })
        .buffer_unordered(concurrency);
    tokio::pin!(stream);
    let cancelled = cancel.cancelled();
    tokio::pin!(cancelled);
    let mut clock = FlushClock::new();
    loop {
        tokio::select! {
            item = stream.next() => {
                let Some(joined) = item else { break };
                let mut rec = joined.map_err(|e| Error::Task("probe", e))?;
                rec.shard = shard;
                jsonl::write(out, &rec).map_err(Error::Output)?;
                clock.wrote();
                let status = serde_json::to_value(rec.status)
                    .map_err(|e| Error::json("encoding a probe status", e))?
                    .as_str()
                    .unwrap_or("?")
                    .to_string();
                *counts.entry(status).or_default() += 1;
                done += 1;
                progress.tick(done, &|| probe_status_line(&counts));
            }
            _ = clock.until_due(), if clock.pending() => clock.flush(out)?,
            _ = &mut cancelled, if !interrupted => {
                interrupted = true;
                progress.finish("interrupted: records of unfinished probes are not written");
                break;
            }
        }
    }
    Ok(ProbeTally {
        counts,
        done,
        interrupted,
    })
}

/// `status=count` pairs of probe records, for progress lines.
pub fn probe_status_line(counts: &BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}
