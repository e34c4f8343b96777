//! The `mxinfer` command: parse, validate, run, map the outcome to an exit code.
//!
//! Exit codes: 0 complete; 1 fatal error (nothing or not everything written); 2 usage error;
//! 3 complete, but some input lines were rejected; 4 interrupted (outputs partial).

use clap::Parser;
use mxinfer::cli::{ApproachArg, Cli, Command, LabelArgs, ProbeArgs, ResolveArgs, SimCommand};
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
    let pure = match &cli.command {
        Command::Report(a) => Some(mxinfer::report::files::report_command(a)),
        Command::Eval(a) => Some(mxinfer::report::files::eval_command(a)),
        _ => None,
    };
    if let Some(r) = pure {
        return match r {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("mxinfer: error: {e:#}");
                ExitCode::from(1)
            }
        };
    }
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
            Command::Label(_) | Command::Report(_) | Command::Eval(_) => {
                unreachable!("handled above")
            }
            Command::Probe(args) => probe(args, cli.progress).await,
            Command::Sim(args) => match args.command {
                SimCommand::Farm(f) => sim_farm(f).await,
                SimCommand::World(w) => {
                    let s = mxinfer::sim::world::write_world(&w.out, w.domains, w.seed)?;
                    eprintln!(
                        "world: {} domains, {} personas in {}",
                        s.domains,
                        s.personas,
                        w.out.display()
                    );
                    Ok(0)
                }
                SimCommand::Serve(a) => {
                    let (_dns, _farm, msg) = mxinfer::sim::world::serve(&a)?;
                    eprintln!("{msg}");
                    tokio::signal::ctrl_c().await?;
                    Ok(0)
                }
            },
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
    let concurrency = config::positive("--concurrency", args.concurrency, 100_000)?;
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
        // Each domain has at most a few queries in flight at a time.
        max_in_flight: concurrency.saturating_mul(4),
    };
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

async fn probe(args: ProbeArgs, mode: mxinfer::progress::ProgressMode) -> anyhow::Result<u8> {
    use mxinfer::probe::plan::{DEFAULT_BLOCKLIST, Policy, parse_cidr_list};
    use mxinfer::probe::reply::Limits;
    use mxinfer::probe::session::{ProbeSettings, Prober};
    use mxinfer::probe::verify::ChainJudge;
    let concurrency = config::positive("--concurrency", args.concurrency, 1_000_000)?;
    let max_bytes = config::positive("--max-reply-bytes", args.max_reply_bytes, 1 << 30)?;
    if args.ehlo_name.trim().is_empty() || args.ehlo_name.contains(char::is_whitespace) {
        anyhow::bail!(
            "--ehlo-name {:?}: expected one non-empty name",
            args.ehlo_name
        );
    }
    if !(args.rate_per_ip.is_finite() && args.rate_per_ip > 0.0) {
        anyhow::bail!(
            "--rate-per-ip {}: expected a positive number",
            args.rate_per_ip
        );
    }
    let mut blocklist = parse_cidr_list(DEFAULT_BLOCKLIST, "data/probe-blocklist.txt")?;
    for f in &args.blocklist {
        let text = std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("reading --blocklist {}: {e}", f.display()))?;
        blocklist.extend(parse_cidr_list(&text, &f.display().to_string())?);
    }
    let allow_private = match &args.allow_private {
        None => None,
        Some(v) => Some(
            v.iter()
                .map(|c| c.parse())
                .collect::<anyhow::Result<Vec<_>>>()
                .map_err(|e| anyhow::anyhow!("--allow-private: {e:#}"))?,
        ),
    };
    let policy = Policy {
        ipv6: args.ipv6,
        allow_private,
        blocklist,
        loopback_only: std::env::var_os("MXINFER_LOOPBACK_ONLY").is_some_and(|v| v == "1"),
    };
    let settings = ProbeSettings {
        port: args.port,
        ehlo_name: args.ehlo_name.clone(),
        connect_timeout: config::seconds("--connect-timeout", args.connect_timeout)?,
        step_timeout: config::seconds("--step-timeout", args.step_timeout)?,
        session_timeout: config::seconds("--session-timeout", args.session_timeout)?,
        limits: Limits {
            max_bytes,
            ..Limits::default()
        },
        legacy_tls: cfg!(feature = "legacy-tls") && !args.no_legacy_tls,
        min_interval: std::time::Duration::from_secs_f64(1.0 / args.rate_per_ip),
    };
    let judge = Arc::new(ChainJudge::new(
        args.roots.as_deref(),
        args.intermediates.as_deref(),
    )?);
    let meta_path: Option<PathBuf> = match (&args.meta, args.out.as_str()) {
        (Some(p), _) => Some(p.clone()),
        (None, "-") => None,
        (None, out) => Some(PathBuf::from(format!("{out}.meta.json"))),
    };
    let run_settings = serde_json::json!({
        "port": settings.port,
        "ehlo_name": settings.ehlo_name,
        "concurrency": concurrency,
        "connect_timeout_s": args.connect_timeout,
        "step_timeout_s": args.step_timeout,
        "session_timeout_s": args.session_timeout,
        "max_reply_bytes": max_bytes,
        "max_reply_line": settings.limits.max_line,
        "max_reply_lines": settings.limits.max_lines,
        "rate_per_ip": args.rate_per_ip,
        "ipv6": args.ipv6,
        "allow_private": args.allow_private,
        "blocklist_files": args.blocklist.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "blocklist_prefixes": policy.blocklist.len(),
        "roots": judge.roots_label(),
        "intermediates": args.intermediates.as_ref().map(|p| p.display().to_string()),
        "legacy_tls": settings.legacy_tls,
        "tls": "rustls 0.23 (ring); chain recorded, judged by rustls-webpki 0.103",
    });
    let prober = Arc::new(Prober::new(settings, judge));
    let mut out = pipeline::open_output(&args.out)?;
    let progress = Arc::new(Progress::new(mode, "probe"));
    let run = pipeline::ProbeRun {
        input: args.file.clone(),
        format: args.input_format,
        concurrency,
        policy,
        args: std::env::args().collect(),
        settings: run_settings,
    };
    let outcome = pipeline::run_probe(run, prober, &mut *out, progress).await?;
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

/// `mxinfer sim farm`: serves until ctrl-c.
async fn sim_farm(args: mxinfer::cli::FarmArgs) -> anyhow::Result<u8> {
    let (farm, msg) = mxinfer::sim::farm::start_cli(args).await?;
    eprintln!("{msg}");
    tokio::signal::ctrl_c().await?;
    drop(farm);
    Ok(0)
}
