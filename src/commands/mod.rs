//! One function per subcommand: arguments into settings (`crate::settings`), one call into
//! the engine, what it returns printed or written, the [`Exit`] status.

mod demo;
mod diff;
mod export;
mod ingest;
mod label;
mod probe;
mod report;
mod resolve;
mod run;
mod sim;

use crate::cli::{Cli, Command};
use crate::exit::Exit;
use crate::progress::{Progress, ProgressMode};
use mxinfer_core::progress::{Cancel, Reporter};
use std::path::PathBuf;
use std::sync::Arc;

/// Runs the parsed command line. Commands that need no network run without an async
/// runtime.
pub fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
    let argv: Vec<String> = std::env::args().collect();
    let mode = cli.progress;
    match cli.command {
        Command::Report(a) => report::report(&a),
        Command::Eval(a) => report::eval(&a),
        Command::Ingest(a) => ingest::run(&a, argv),
        Command::Diff(a) => diff::diff(&a),
        Command::Export(a) => export::export(&a),
        Command::Label(a) => label::label(a, argv, mode),
        Command::Resolve(a) => runtime()?.block_on(resolve::resolve(a, argv, mode)),
        Command::Probe(a) => runtime()?.block_on(probe::probe(a, argv, mode, loopback_only())),
        Command::Run(a) => runtime()?.block_on(run::run(a, argv, mode, loopback_only())),
        Command::Demo(a) => runtime()?.block_on(demo::demo(&a, mode)),
        Command::Sim(a) => runtime()?.block_on(sim::sim(a)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}

/// `MXINFER_LOOPBACK_ONLY=1` refuses every probe outside 127.0.0.0/8 and ::1 (tests).
fn loopback_only() -> bool {
    std::env::var_os("MXINFER_LOOPBACK_ONLY").is_some_and(|v| v == "1")
}

/// The run stops at ctrl-c (the signal handler is installed when this is first polled).
fn ctrl_c() -> Cancel {
    Cancel::new(async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No handler could be installed: never cancel rather than cancel at once.
            std::future::pending::<()>().await;
        }
    })
}

/// A stage's reporter on stderr.
fn reporter(mode: ProgressMode, label: &str) -> Arc<dyn Reporter> {
    Arc::new(Progress::new(mode, label))
}

/// The metadata path of a stage: `--meta`, else OUT with `.meta.json` (none for stdout).
fn meta_path(meta: &Option<PathBuf>, out: &str) -> Option<PathBuf> {
    match (meta, out) {
        (Some(p), _) => Some(p.clone()),
        (None, "-") => None,
        (None, out) => Some(PathBuf::from(format!("{out}.meta.json"))),
    }
}

/// Writes `text` to `out` (`-`: standard output).
fn write_out(out: &str, text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let mut w = mxinfer_core::jsonl::create(out)?;
    w.write_all(text.as_bytes())
        .with_context(|| format!("writing {out}"))?;
    Ok(w.finish()?)
}
