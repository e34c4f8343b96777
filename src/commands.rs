//! The stage commands (`resolve`, `probe`, `label`): arguments validated into settings, one
//! run through [`crate::pipeline`], the metadata written, the exit code. Shared by the
//! subcommands and by `demo`, so each stage is set up in one place. `argv` is the command
//! line recorded in the run metadata.

use crate::cli::{
    ApproachArg, LabelArgs, LabelOpts, ProbeArgs, ProbeOpts, ResolveArgs, ResolveOpts,
};
use crate::config;
use crate::pipeline::{self, LabelRun, ResolveRun};
use crate::progress::{Progress, ProgressMode};
use crate::resolve::dns::{DnsSettings, HickoryDns};
use crate::resolve::{DomainResolver, ResolveOptions};
use std::path::PathBuf;
use std::sync::Arc;

/// A resolve concurrency checked (1 to 100,000); `flag` names it in the error.
pub fn resolve_concurrency(flag: &str, n: usize) -> anyhow::Result<usize> {
    config::positive(flag, n, 100_000)
}

/// A probe concurrency checked (1 to 1,000,000); `flag` names it in the error.
pub fn probe_concurrency(flag: &str, n: usize) -> anyhow::Result<usize> {
    config::positive(flag, n, 1_000_000)
}

/// The resolver and the settings to record, from the resolve stage's options.
pub fn resolve_setup(
    opts: &ResolveOpts,
    concurrency: usize,
) -> anyhow::Result<(Arc<DomainResolver>, serde_json::Value)> {
    let nameservers = if opts.nameservers.is_empty() {
        config::system_nameservers()?
    } else {
        opts.nameservers
            .iter()
            .map(|s| config::parse_nameserver(s))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let settings = DnsSettings {
        nameservers,
        timeout: config::seconds("--timeout", opts.timeout)?,
        attempts: config::positive("--attempts", opts.attempts, 10)?,
        edns0: !opts.no_edns,
        // Each domain has at most a few queries in flight at a time.
        max_in_flight: concurrency.saturating_mul(4),
    };
    let cache_size = config::positive("--cache-size", opts.cache_size, 100_000_000)?;
    let dns = Arc::new(HickoryDns::new(&settings)?);
    let ropts = ResolveOptions {
        txt: opts.txt,
        ptr: opts.ptr,
    };
    let resolver = Arc::new(DomainResolver::new(dns, cache_size, ropts));
    let recorded = serde_json::json!({
        "nameservers": settings.nameservers.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "timeout_s": opts.timeout,
        "attempts": settings.attempts,
        "edns0": settings.edns0,
        "concurrency": concurrency,
        "cache_size": cache_size,
        "txt": opts.txt,
        "ptr": opts.ptr,
        "resolver": "hickory-resolver 0.26 (cache off; exchanger lookups shared by mxinfer)",
        "second_pass": "servfail and timeout, after the first pass",
    });
    Ok((resolver, recorded))
}

/// The metadata path of a stage: `--meta`, else OUT with `.meta.json` (none for stdout).
fn meta_path(meta: &Option<PathBuf>, out: &str) -> Option<PathBuf> {
    match (meta, out) {
        (Some(p), _) => Some(p.clone()),
        (None, "-") => None,
        (None, out) => Some(PathBuf::from(format!("{out}.meta.json"))),
    }
}

/// The exit code of a resolve or probe run: 4 interrupted, 3 rejected input lines, else 0.
pub fn stage_code(m: &crate::record::RunMeta) -> u8 {
    if m.interrupted {
        4
    } else if m.input_counts.rejected > 0 {
        3
    } else {
        0
    }
}

/// `mxinfer resolve`: settings from the arguments, the run, its metadata; the exit code.
pub async fn resolve(
    args: ResolveArgs,
    argv: Vec<String>,
    mode: ProgressMode,
) -> anyhow::Result<u8> {
    let concurrency = resolve_concurrency("--concurrency", args.concurrency)?;
    let (resolver, settings) = resolve_setup(&args.opts, concurrency)?;
    let meta_path = meta_path(&args.meta, &args.out);
    let mut out = pipeline::open_output(&args.out)?;
    let progress = Arc::new(Progress::new(mode, "resolve"));
    let run = ResolveRun {
        input: args.file.clone(),
        concurrency,
        args: argv,
        settings,
        targets: None,
        skip: None,
    };
    let outcome = pipeline::run_resolve(run, resolver, &mut *out, progress).await?;
    drop(out);
    if let Some(p) = meta_path {
        crate::util::write_json_file(&p, &outcome.meta)?;
    }
    Ok(stage_code(&outcome.meta))
}

/// The label stage's settings from its options.
pub fn label_settings(opts: &LabelOpts) -> anyhow::Result<crate::label::LabelSettings> {
    use crate::record::Approach;
    if opts.threshold == 0 {
        anyhow::bail!("--threshold 0: expected 1 or more (0 would disable every check)");
    }
    let approach = match opts.approach {
        ApproachArg::Priority => Approach::Priority,
        ApproachArg::MxOnly => Approach::MxOnly,
        ApproachArg::Certificate => Approach::Certificate,
        ApproachArg::Banner => Approach::Banner,
    };
    Ok(crate::label::LabelSettings {
        threshold: opts.threshold,
        approach,
    })
}

/// The label run of `opts` over the given stage outputs.
pub fn label_run(
    opts: &LabelOpts,
    dns: PathBuf,
    probes: PathBuf,
    claims: Option<PathBuf>,
    argv: Vec<String>,
) -> anyhow::Result<LabelRun> {
    Ok(LabelRun {
        dns,
        probes,
        pfx2as: opts.pfx2as.clone(),
        companies: opts.companies.clone(),
        psl: opts.psl.clone(),
        psl_icann_only: opts.psl_icann_only,
        settings: label_settings(opts)?,
        claims,
        args: argv,
    })
}

/// `mxinfer label`: settings from the arguments, the run, its metadata; the exit code.
pub fn label(args: LabelArgs, argv: Vec<String>, mode: ProgressMode) -> anyhow::Result<u8> {
    let meta_path = meta_path(&args.meta, &args.out);
    let run = label_run(&args.opts, args.dns, args.probes, args.claims, argv)?;
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

/// The prober, its address policy and the settings to record, from the probe stage's
/// options. `loopback_only` refuses every address outside 127.0.0.0/8 and ::1 (tests, the
/// demo).
pub fn probe_setup(
    opts: &ProbeOpts,
    concurrency: usize,
    loopback_only: bool,
) -> anyhow::Result<(
    Arc<crate::probe::session::Prober>,
    crate::probe::plan::Policy,
    serde_json::Value,
)> {
    use crate::probe::plan::{DEFAULT_BLOCKLIST, Policy, parse_cidr_list};
    use crate::probe::reply::Limits;
    use crate::probe::session::{ProbeSettings, Prober};
    use crate::probe::verify::ChainJudge;
    // One socket per probe in flight, plus the runtime's own descriptors and the files.
    let open_files = crate::util::ensure_open_files(
        concurrency as u64 + OPEN_FILES_MARGIN,
        &format!("--concurrency {concurrency}"),
    )?;
    let max_bytes = config::positive("--max-reply-bytes", opts.max_reply_bytes, 1 << 30)?;
    if opts.ehlo_name.trim().is_empty() || opts.ehlo_name.contains(char::is_whitespace) {
        anyhow::bail!(
            "--ehlo-name {:?}: expected one non-empty name",
            opts.ehlo_name
        );
    }
    if !(opts.rate_per_ip.is_finite() && opts.rate_per_ip > 0.0) {
        anyhow::bail!(
            "--rate-per-ip {}: expected a positive number",
            opts.rate_per_ip
        );
    }
    let mut blocklist = parse_cidr_list(DEFAULT_BLOCKLIST, "data/probe-blocklist.txt")?;
    let mut user_blocklist = Vec::new();
    for f in &opts.blocklist {
        let text = std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("reading --blocklist {}: {e}", f.display()))?;
        user_blocklist.extend(parse_cidr_list(&text, &f.display().to_string())?);
    }
    blocklist.extend(user_blocklist.iter().copied());
    let allow_private = match &opts.allow_private {
        None => None,
        Some(v) => Some(
            v.iter()
                .map(|c| c.parse())
                .collect::<anyhow::Result<Vec<_>>>()
                .map_err(|e| anyhow::anyhow!("--allow-private: {e:#}"))?,
        ),
    };
    let policy = Policy {
        ipv6: opts.ipv6,
        allow_private,
        blocklist,
        user_blocklist,
        loopback_only,
    };
    let settings = ProbeSettings {
        port: opts.port,
        ehlo_name: opts.ehlo_name.clone(),
        connect_timeout: config::seconds("--connect-timeout", opts.connect_timeout)?,
        step_timeout: config::seconds("--step-timeout", opts.step_timeout)?,
        session_timeout: config::seconds("--session-timeout", opts.session_timeout)?,
        limits: Limits {
            max_bytes,
            ..Limits::default()
        },
        legacy_tls: cfg!(feature = "legacy-tls") && !opts.no_legacy_tls,
        min_interval: std::time::Duration::from_secs_f64(1.0 / opts.rate_per_ip),
    };
    let judge = Arc::new(ChainJudge::new(
        opts.roots.as_deref(),
        opts.intermediates.as_deref(),
    )?);
    let run_settings = serde_json::json!({
        "port": settings.port,
        "ehlo_name": settings.ehlo_name,
        "concurrency": concurrency,
        "connect_timeout_s": opts.connect_timeout,
        "step_timeout_s": opts.step_timeout,
        "session_timeout_s": opts.session_timeout,
        "max_reply_bytes": max_bytes,
        "max_reply_line": settings.limits.max_line,
        "max_reply_lines": settings.limits.max_lines,
        "rate_per_ip": opts.rate_per_ip,
        "ipv6": opts.ipv6,
        "allow_private": opts.allow_private,
        "blocklist_files": opts.blocklist.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "blocklist_prefixes": policy.blocklist.len(),
        "roots": judge.roots_label(),
        "intermediates": opts.intermediates.as_ref().map(|p| p.display().to_string()),
        "legacy_tls": settings.legacy_tls,
        "open_files_limit": open_files,
        "tls": "rustls 0.23 (ring); chain recorded, judged by rustls-webpki 0.103",
    });
    let prober = Arc::new(Prober::new(settings, judge));
    Ok((prober, policy, run_settings))
}

/// `mxinfer probe`: settings from the arguments, the run, its metadata; the exit code.
/// `loopback_only` refuses every address outside 127.0.0.0/8 and ::1 (tests, the demo).
pub async fn probe(
    args: ProbeArgs,
    argv: Vec<String>,
    mode: ProgressMode,
    loopback_only: bool,
) -> anyhow::Result<u8> {
    let concurrency = probe_concurrency("--concurrency", args.concurrency)?;
    let (prober, policy, run_settings) = probe_setup(&args.opts, concurrency, loopback_only)?;
    let meta_path = meta_path(&args.meta, &args.out);
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
    Ok(stage_code(&outcome.meta))
}
