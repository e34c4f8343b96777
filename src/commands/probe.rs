//! `mxinfer probe`.

use super::{ctrl_c, meta_path, reporter};
use crate::cli::{InputFormatArg, ProbeArgs};
use crate::exit::Exit;
use crate::progress::ProgressMode;
use crate::settings;
use mxinfer_core::pipeline::{self, ProbeRun};
use mxinfer_core::probe::plan::InputFormat;

/// Settings from the arguments, the run, its metadata; the exit status. `loopback_only`
/// refuses every address outside 127.0.0.0/8 and ::1 (tests).
pub async fn probe(
    args: ProbeArgs,
    argv: Vec<String>,
    mode: ProgressMode,
    loopback_only: bool,
) -> anyhow::Result<Exit> {
    let concurrency = settings::probe_concurrency("--concurrency", args.concurrency)?;
    let (prober, policy, recorded) = settings::probe_setup(&args.opts, concurrency, loopback_only)?;
    let meta_path = meta_path(&args.meta, &args.out);
    let mut out = mxinfer_core::jsonl::create(&args.out)?;
    let run = ProbeRun {
        inputs: args.files.clone(),
        shard: args.shard,
        format: match args.input_format {
            InputFormatArg::Auto => InputFormat::Auto,
            InputFormatArg::Dns => InputFormat::Dns,
            InputFormatArg::List => InputFormat::List,
        },
        concurrency,
        policy,
        args: argv,
        settings: recorded,
    };
    let outcome =
        pipeline::run_probe(run, prober, &mut out, reporter(mode, "probe"), ctrl_c()).await?;
    out.finish()?;
    if let Some(p) = meta_path {
        mxinfer_core::util::write_json_file(&p, &outcome.meta)?;
    }
    Ok(Exit::of_stage(
        outcome.meta.interrupted,
        outcome.meta.input_counts.rejected,
    ))
}
