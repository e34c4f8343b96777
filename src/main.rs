//! The `mxinfer` command: parse, validate, run, map the outcome to an exit code.
//!
//! Exit codes: 0 complete; 1 fatal error (nothing or not everything written); 2 usage error;
//! 3 complete, but some input lines were rejected; 4 interrupted (outputs partial).

use clap::Parser;
use mxinfer::cli::{Cli, Command, ResolveArgs};
use mxinfer::config;
use mxinfer::pipeline::{self, ResolveRun};
use mxinfer::progress::Progress;
use mxinfer::resolve::dns::{DnsSettings, HickoryDns};
use mxinfer::resolve::{DomainResolver, ResolveOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MXINFER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
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
