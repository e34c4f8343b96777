//! `mxinfer label` (pure computation: no async runtime).

use super::{meta_path, reporter};
use crate::cli::LabelArgs;
use crate::exit::Exit;
use crate::progress::ProgressMode;
use crate::settings;
use mxinfer_core::pipeline::{self, LabelRun};

/// Settings from the arguments, the run, its metadata; the exit status.
pub fn label(args: LabelArgs, argv: Vec<String>, mode: ProgressMode) -> anyhow::Result<Exit> {
    let meta_path = meta_path(&args.meta, &args.out);
    let run = LabelRun {
        dns: args.dns,
        probes: args.probes,
        sources: settings::label_sources(&args.opts)?,
        claims: args.claims,
        args: argv,
        threads: settings::label_threads(&args.opts)?,
        allow_missing_shards: args.allow_missing_shards,
    };
    let mut out = mxinfer_core::jsonl::create(&args.out)?;
    let outcome = pipeline::run_label(run, &mut out, reporter(mode, "label"))?;
    out.finish()?;
    if let Some(p) = meta_path {
        mxinfer_core::util::write_json_file(&p, &outcome.meta)?;
    }
    let exit = Exit::rejected_if(outcome.bad_lines);
    // The process ends now: leave the batch to the OS instead of freeing it piece by piece.
    std::mem::forget(outcome.labeller);
    Ok(exit)
}
