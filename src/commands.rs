//! The stage commands (`resolve`, `probe`, `label`): arguments validated into settings, one
//! run through [`crate::pipeline`], the metadata written, the exit code. Shared by the
//! subcommands and by `demo`, so each stage is set up in one place. `argv` is the command
//! line recorded in the run metadata.

use crate::cli::{ApproachArg, LabelArgs, ProbeArgs, ResolveArgs};
use crate::config;
use crate::pipeline::{self, LabelRun, ResolveRun};
use crate::progress::{Progress, ProgressMode};
use crate::resolve::dns::{DnsSettings, HickoryDns};
use crate::resolve::{DomainResolver, ResolveOptions};
use std::path::PathBuf;
use std::sync::Arc;

/// `mxinfer resolve`: settings from the arguments, the run, its metadata; the exit code.
pub async fn resolve(
    args: ResolveArgs,
    argv: Vec<String>,
    mode: ProgressMode,
) -> anyhow::Result<u8> {
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
        args: argv,
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
        crate::util::write_json_file(&p, &outcome.meta)?;
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

/// `mxinfer label`: settings from the arguments, the run, its metadata; the exit code.
pub fn label(args: LabelArgs, argv: Vec<String>, mode: ProgressMode) -> anyhow::Result<u8> {
    use crate::record::Approach;
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
        settings: crate::label::LabelSettings {
            threshold: args.threshold,
            approach,
        },
        claims: args.claims,
        args: argv,
    };
    let mut out = pipeline::open_output(&args.out)?;
    let progress = Arc::new(Progress::new(mode, "label"));
    let outcome = pipeline::run_label(run, &mut *out, progress)?;
    drop(out);
    if let Some(p) = meta_path {
        crate::util::write_json_file(&p, &outcome.meta)?;
    }
    let code = if outcome.bad_lines > 0 { 3 } else { 0 };
    // The process ends now: leave the batch to the OS instead of freeing it piece by piece.
    std::mem::forget(outcome.labeller);
    Ok(code)
}

/// Open files a probe run needs beside one socket per probe in flight.
const OPEN_FILES_MARGIN: u64 = 64;

/// `mxinfer probe`: settings from the arguments, the run, its metadata; the exit code.
/// `loopback_only` refuses every address outside 127.0.0.0/8 and ::1 (tests, the demo).
pub async fn probe(
    args: ProbeArgs,
    argv: Vec<String>,
    mode: ProgressMode,
    loopback_only: bool,
) -> anyhow::Result<u8> {
    use crate::probe::plan::{DEFAULT_BLOCKLIST, Policy, parse_cidr_list};
    use crate::probe::reply::Limits;
    use crate::probe::session::{ProbeSettings, Prober};
    use crate::probe::verify::ChainJudge;
    let concurrency = config::positive("--concurrency", args.concurrency, 1_000_000)?;
    // One socket per probe in flight, plus the runtime's own descriptors and the files.
    let open_files = crate::util::ensure_open_files(
        concurrency as u64 + OPEN_FILES_MARGIN,
        &format!("--concurrency {concurrency}"),
    )?;
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
    let mut user_blocklist = Vec::new();
    for f in &args.blocklist {
        let text = std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("reading --blocklist {}: {e}", f.display()))?;
        user_blocklist.extend(parse_cidr_list(&text, &f.display().to_string())?);
    }
    blocklist.extend(user_blocklist.iter().copied());
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
        user_blocklist,
        loopback_only,
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
        "open_files_limit": open_files,
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
        args: argv,
        settings: run_settings,
    };
    let outcome = pipeline::run_probe(run, prober, &mut *out, progress).await?;
    drop(out);
    if let Some(p) = meta_path {
        crate::util::write_json_file(&p, &outcome.meta)?;
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
