//! `mxinfer run`.

use super::ctrl_c;
use crate::cli::RunArgs;
use crate::exit::Exit;
use crate::progress::{Progress, ProgressMode};
use crate::settings;
use anyhow::bail;
use mxinfer_core::pipeline::run::{RunError, RunOutcome, RunSettings};
use mxinfer_core::progress::Reporter;
use std::sync::Arc;

/// Every setting checked before any work, then the pipeline; prints the share table (or,
/// interrupted, how to continue).
pub async fn run(
    args: RunArgs,
    argv: Vec<String>,
    mode: ProgressMode,
    loopback_only: bool,
) -> anyhow::Result<Exit> {
    let o = run_quiet(args, argv, mode, loopback_only).await?;
    let exit = exit_of(&o);
    if exit == Exit::Interrupted {
        eprintln!(
            "mxinfer run: interrupted; the outputs so far are kept: continue with the same command and --resume"
        );
    } else {
        print!("{}", o.text);
    }
    Ok(exit)
}

/// The exit status of a run.
pub fn exit_of(o: &RunOutcome) -> Exit {
    Exit::of_stage(o.summary.interrupted, o.rejected)
}

/// The run without printing its result (also the demo's).
pub async fn run_quiet(
    args: RunArgs,
    argv: Vec<String>,
    mode: ProgressMode,
    loopback_only: bool,
) -> anyhow::Result<RunOutcome> {
    let rc = settings::resolve_concurrency("--resolve-concurrency", args.resolve_concurrency)?;
    let pc = settings::probe_concurrency("--probe-concurrency", args.probe_concurrency)?;
    // Sockets: up to four DNS queries per domain in flight, one per probe, and the files.
    mxinfer_core::util::ensure_open_files(
        rc as u64 * 4 + pc as u64 + 64,
        &format!("--resolve-concurrency {rc} with --probe-concurrency {pc}"),
    )?;
    let (resolver, resolve_recorded) = settings::resolve_setup(&args.resolve, rc)?;
    let (prober, policy, probe_recorded) = settings::probe_setup(&args.probe, pc, loopback_only)?;
    let label = settings::label_sources(&args.label)?;
    let label_threads = settings::label_threads(&args.label)?;
    let run = RunSettings {
        input: args.file,
        out: args.out,
        resume: args.resume,
        resolve_concurrency: rc,
        probe_concurrency: pc,
        resolver,
        resolve_recorded,
        prober,
        policy,
        probe_recorded,
        label,
        roots: args.probe.roots,
        intermediates: args.probe.intermediates,
        blocklists: args.probe.blocklist,
        truth: args.truth,
        args: argv,
        label_threads,
        shard: args.shard,
    };
    // The two streaming stages draw one bar each, together.
    let multi = indicatif::MultiProgress::new();
    let reporter = |stage: &'static str| -> Arc<dyn Reporter> {
        match stage {
            "resolve" | "probe" => Arc::new(Progress::new(mode, stage).attach(&multi)),
            _ => Arc::new(Progress::new(mode, stage)),
        }
    };
    match mxinfer_core::pipeline::run::run(run, &reporter, ctrl_c()).await {
        Err(mxinfer_core::Error::Run(RunError::Exists { dir })) => bail!(
            "{} already holds a run (dns.jsonl or probes.jsonl): continue it with --resume, or give another --out",
            dir.display()
        ),
        r => Ok(r?),
    }
}
