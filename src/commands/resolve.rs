//! `mxinfer resolve`.

use super::{ctrl_c, meta_path, reporter};
use crate::cli::ResolveArgs;
use crate::exit::Exit;
use crate::progress::ProgressMode;
use crate::settings;
use mxinfer_core::pipeline::{self, ResolveRun};

/// Settings from the arguments, the run, its metadata; the exit status.
pub async fn resolve(
    args: ResolveArgs,
    argv: Vec<String>,
    mode: ProgressMode,
) -> anyhow::Result<Exit> {
    let concurrency = settings::resolve_concurrency("--concurrency", args.concurrency)?;
    // Up to four queries per domain in flight, each on its own socket, and the files.
    mxinfer_core::util::ensure_open_files(
        concurrency as u64 * 4 + 64,
        &format!("--concurrency {concurrency}"),
    )?;
    let (resolver, recorded) = settings::resolve_setup(&args.opts, concurrency)?;
    let meta_path = meta_path(&args.meta, &args.out);
    let mut out = mxinfer_core::jsonl::create(&args.out)?;
    let run = ResolveRun {
        input: args.file.clone(),
        concurrency,
        args: argv,
        settings: recorded,
        targets: None,
        skip: None,
        shard: args.shard,
    };
    let outcome =
        pipeline::run_resolve(run, resolver, &mut out, reporter(mode, "resolve"), ctrl_c()).await?;
    out.finish()?;
    if let Some(p) = meta_path {
        mxinfer_core::util::write_json_file(&p, &outcome.meta)?;
    }
    Ok(Exit::of_stage(
        outcome.meta.interrupted,
        outcome.meta.input_counts.rejected,
    ))
}
