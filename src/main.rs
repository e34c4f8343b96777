//! The `mxinfer` command: parse, validate, run, map the outcome to an exit code.
//!
//! Exit codes: 0 complete; 1 fatal error (nothing or not everything written); 2 usage error;
//! 3 complete, but some input lines were rejected; 4 interrupted (outputs partial).

use clap::Parser;
use mxinfer::cli::{ApproachArg, Cli, Command, LabelArgs, ResolveArgs};
use mxinfer::config;
use mxinfer::pipeline::{self, LabelRun, ResolveRun};
use mxinfer::progress::Progress;
use mxinfer::resolve::dns::{DnsSettings, HickoryDns};
use mxinfer::resolve::{DomainResolver, ResolveOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let label_args = match &cli.command {
        Command::Label(a) => Some(a.clone()),
        _ => None,
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MXINFER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Some(args) = label_args {
        // Pure computation: no async runtime needed.
        return match label(args, cli.progress) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("mxinfer: error: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mxinfer: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Resolve(args) => resolve(args, cli.progress).await,
            Command::Label(_) => unreachable!("handled above"),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("mxinfer: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn resolve(args: ResolveArgs, mode: mxinfer::progress::ProgressMode) -> anyhow::Result<u8> {
    let nameservers = if args.nameservers.is_empty() {
        config::system_nameservers()?
    } else {
        args.nameservers
            .iter()
            .map(|s| config::parse_nameserver(s))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let settings = DnsSettings {
        nameservers,
        timeout: config::seconds("--timeout", args.timeout)?,
        attempts: config::positive("--attempts", args.attempts, 10)?,
        edns0: !args.no_edns,
    };
    let concurrency = config::positive("--concurrency", args.concurrency, 100_000)?;
    let cache_size = config::positive("--cache-size", args.cache_size, 100_000_000)?;
    let meta_path: Option<PathBuf> = match (&args.meta, args.out.as_str()) {
        (Some(p), _) => Some(p.clone()),
        (None, "-") => None,
        (None, out) => Some(PathBuf::from(format!("{out}.meta.json"))),
    };
    let dns = Arc::new(HickoryDns::new(&settings)?);
    let opts = ResolveOptions {
        txt: args.txt,
        ptr: args.ptr,
    };
    let resolver = Arc::new(DomainResolver::new(dns, cache_size, opts));
    let mut out = pipeline::open_output(&args.out)?;
    let progress = Arc::new(Progress::new(mode, "resolve"));
    let run = ResolveRun {
        input: args.file.clone(),
        concurrency,
        args: std::env::args().collect(),
        settings: serde_json::json!({
            "nameservers": settings.nameservers.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "timeout_s": args.timeout,
            "attempts": settings.attempts,
            "edns0": settings.edns0,
            "concurrency": concurrency,
            "txt": args.txt,
            "ptr": args.ptr,
            "resolver": "hickory-resolver 0.26 (cache off; exchanger lookups shared by mxinfer)",
            "second_pass": "servfail and timeout, after the first pass",
        }),
    };
    let outcome = pipeline::run_resolve(run, resolver, &mut *out, progress).await?;
    drop(out);
    if let Some(p) = meta_path {
        mxinfer::util::write_json_file(&p, &outcome.meta)?;
    }
    let m = &outcome.meta;
    Ok(if m.interrupted {
        4
    } else if m.input_counts.rejected > 0 {
        3
    } else {
        0
    })
}

fn label(args: LabelArgs, mode: mxinfer::progress::ProgressMode) -> anyhow::Result<u8> {
    use mxinfer::record::Approach;
    let meta_path: Option<PathBuf> = match (&args.meta, args.out.as_str()) {
        (Some(p), _) => Some(p.clone()),
        (None, "-") => None,
        (None, out) => Some(PathBuf::from(format!("{out}.meta.json"))),
    };
    if args.threshold == 0 {
        anyhow::bail!("--threshold 0: expected 1 or more (0 would disable every check)");
    }
    let approach = match args.approach {
        ApproachArg::Priority => Approach::Priority,
        ApproachArg::MxOnly => Approach::MxOnly,
        ApproachArg::Certificate => Approach::Certificate,
        ApproachArg::Banner => Approach::Banner,
    };
    let run = LabelRun {
        dns: args.dns,
        probes: args.probes,
        pfx2as: args.pfx2as,
        companies: args.companies,
        psl: args.psl,
        psl_icann_only: args.psl_icann_only,
        settings: mxinfer::label::LabelSettings {
            threshold: args.threshold,
            approach,
        },
        claims: args.claims,
        args: std::env::args().collect(),
    };
    let mut out = pipeline::open_output(&args.out)?;
    let progress = Arc::new(Progress::new(mode, "label"));
    let outcome = pipeline::run_label(run, &mut *out, progress)?;
    drop(out);
    if let Some(p) = meta_path {
        mxinfer::util::write_json_file(&p, &outcome.meta)?;
    }
    let code = if outcome.bad_lines > 0 { 3 } else { 0 };
    // The process ends now: leave the batch to the OS instead of freeing it piece by piece.
    std::mem::forget(outcome.labeller);
    Ok(code)
}
