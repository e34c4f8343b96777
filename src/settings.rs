//! Arguments into the engine's settings: every value checked, each error naming its flag;
//! the named defaults of the flags.

use crate::cli::{ApproachArg, GroupByArg, LabelOpts, ProbeOpts, ResolveOpts};
use anyhow::{Context, bail};
use mxinfer_core::pipeline::LabelSources;
use mxinfer_core::resolve::client::UdpDns;
use mxinfer_core::resolve::dns::{DnsSettings, HickoryDns};
use mxinfer_core::resolve::{DomainResolver, ResolveOptions};
use mxinfer_record::{Approach, ResolveSettings};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Domains resolved at once by default.
pub const DEFAULT_RESOLVE_CONCURRENCY: usize = 500;
/// Seconds to wait for one DNS answer by default.
pub const DEFAULT_DNS_TIMEOUT_S: f64 = 3.0;
/// Retries per DNS query in one pass by default (hickory's `attempts`: a query is sent up to
/// N + 1 times). With 20% of the UDP packets lost each way, 4 brings back all but about one in
/// a thousand of the domains hit by loss after the second pass; 2 brought back about 98% and 3
/// about 99.5%, too close to the 99% the tests demand (tests/servers/dns_faults.rs).
pub const DEFAULT_DNS_ATTEMPTS: usize = 4;
/// Shared exchanger lookups kept by default (about 400 bytes of memory each, measured).
pub const DEFAULT_LOOKUP_CACHE: usize = 200_000;

/// EHLO name sent by default (operators should set their own with `--ehlo-name`).
pub const DEFAULT_EHLO_NAME: &str = "mxinfer-scan.invalid";
/// Addresses probed at once by default.
pub const DEFAULT_PROBE_CONCURRENCY: usize = 1000;
/// Seconds to wait for a TCP connection by default.
pub const DEFAULT_CONNECT_TIMEOUT_S: f64 = 5.0;
/// Seconds per dialogue step by default.
pub const DEFAULT_STEP_TIMEOUT_S: f64 = 10.0;
/// Seconds per session by default.
pub const DEFAULT_SESSION_TIMEOUT_S: f64 = 30.0;
/// Connections per second to one address by default.
pub const DEFAULT_RATE_PER_IP: f64 = 1.0;

/// Parses `IP` or `IP:PORT` (IPv6 with a port as `[IP]:PORT`); port 53 by default.
pub fn parse_nameserver(s: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = s.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    bail!("--nameserver {s:?}: expected IP or IP:PORT (IPv6 with a port as [IP]:PORT)")
}

/// Name servers of `/etc/resolv.conf`.
pub fn system_nameservers() -> anyhow::Result<Vec<SocketAddr>> {
    let text = std::fs::read_to_string("/etc/resolv.conf")
        .context("no --nameserver given and /etc/resolv.conf is unreadable")?;
    let v: Vec<SocketAddr> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().split('%').next()?.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect();
    if v.is_empty() {
        bail!("no --nameserver given and /etc/resolv.conf names none");
    }
    Ok(v)
}

/// Checks a timeout in seconds given on the command line.
pub fn seconds(flag: &str, s: f64) -> anyhow::Result<Duration> {
    if !(s.is_finite() && s > 0.0 && s <= 3600.0) {
        bail!("{flag} {s}: expected seconds between 0 and 3600");
    }
    Ok(Duration::from_secs_f64(s))
}

/// Checks a count given on the command line.
pub fn positive(flag: &str, n: usize, max: usize) -> anyhow::Result<usize> {
    if n == 0 || n > max {
        bail!("{flag} {n}: expected 1 to {max}");
    }
    Ok(n)
}

/// A resolve concurrency checked (1 to 100,000); `flag` names it in the error.
pub fn resolve_concurrency(flag: &str, n: usize) -> anyhow::Result<usize> {
    positive(flag, n, 100_000)
}

/// A probe concurrency checked (1 to 1,000,000); `flag` names it in the error.
pub fn probe_concurrency(flag: &str, n: usize) -> anyhow::Result<usize> {
    positive(flag, n, 1_000_000)
}

/// The resolver and the settings to record, from the resolve stage's options.
pub fn resolve_setup(
    opts: &ResolveOpts,
    concurrency: usize,
) -> anyhow::Result<(Arc<DomainResolver>, ResolveSettings)> {
    let nameservers = if opts.nameservers.is_empty() {
        system_nameservers()?
    } else {
        opts.nameservers
            .iter()
            .map(|s| parse_nameserver(s))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let settings = DnsSettings {
        nameservers,
        timeout: seconds("--timeout", opts.timeout)?,
        attempts: positive("--attempts", opts.attempts, 10)?,
        edns0: !opts.no_edns,
        // Each domain has at most a few queries in flight at a time.
        max_in_flight: concurrency.saturating_mul(4),
        window: positive("--dns-window", opts.dns_window, 65_535)?,
    };
    let cache_size = positive("--cache-size", opts.cache_size, 100_000_000)?;
    let (dns, resolver_name): (Arc<dyn mxinfer_core::resolve::dns::Dns>, String) =
        match opts.dns_client {
            crate::cli::DnsClientArg::Own => (
                Arc::new(UdpDns::new(&settings)?),
                format!(
                    "mxinfer (a pool of {} UDP sockets, random IDs and ports, answers checked \
                     against the question, a window of queries in flight per server from {} \
                     up to {}, TCP on truncation; exchanger lookups shared by mxinfer)",
                    mxinfer_core::resolve::client::SOCKETS,
                    mxinfer_core::resolve::client::WINDOW_START.min(settings.window),
                    settings.window
                ),
            ),
            crate::cli::DnsClientArg::Hickory => (
                Arc::new(HickoryDns::new(&settings)?),
                "hickory-resolver 0.26 (cache off; exchanger lookups shared by mxinfer)".into(),
            ),
        };
    let ropts = ResolveOptions {
        txt: opts.txt,
        ptr: opts.ptr,
    };
    let resolver = Arc::new(DomainResolver::new(dns, cache_size, ropts));
    let recorded = ResolveSettings {
        attempts: settings.attempts,
        cache_size,
        concurrency,
        edns0: settings.edns0,
        nameservers: settings.nameservers.iter().map(|s| s.to_string()).collect(),
        ptr: opts.ptr,
        resolver: resolver_name,
        second_pass: "servfail and timeout, after the first pass".into(),
        timeout_s: opts.timeout,
        txt: opts.txt,
    };
    Ok((resolver, recorded))
}

/// The label stage's settings from its options.
pub fn label_settings(opts: &LabelOpts) -> anyhow::Result<mxinfer_label::LabelSettings> {
    if opts.threshold == 0 {
        anyhow::bail!("--threshold 0: expected 1 or more (0 would disable every check)");
    }
    Ok(mxinfer_label::LabelSettings {
        threshold: opts.threshold,
        approach: approach(opts.approach),
        compact: opts.compact,
    })
}

/// The approach named by `--approach`.
pub fn approach(a: ApproachArg) -> Approach {
    match a {
        ApproachArg::Priority => Approach::Priority,
        ApproachArg::MxOnly => Approach::MxOnly,
        ApproachArg::Certificate => Approach::Certificate,
        ApproachArg::Banner => Approach::Banner,
    }
}

/// The report grouping named by `--by`.
pub fn group_by(g: GroupByArg) -> mxinfer_core::report::GroupBy {
    match g {
        GroupByArg::Company => mxinfer_core::report::GroupBy::Company,
        GroupByArg::Provider => mxinfer_core::report::GroupBy::Provider,
    }
}

/// The label stage's threads: `--label-threads`, else the machine's cores.
pub fn label_threads(opts: &LabelOpts) -> anyhow::Result<usize> {
    match opts.label_threads {
        Some(n) => positive("--label-threads", n, 1024),
        None => Ok(mxinfer_core::pipeline::default_threads()),
    }
}

/// The label stage's data and method settings from its options.
pub fn label_sources(opts: &LabelOpts) -> anyhow::Result<LabelSources> {
    Ok(LabelSources {
        pfx2as: opts.pfx2as.clone(),
        companies: opts.companies.clone(),
        psl: opts.psl.clone(),
        psl_icann_only: opts.psl_icann_only,
        settings: label_settings(opts)?,
    })
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
    Arc<mxinfer_core::probe::session::Prober>,
    mxinfer_core::probe::plan::Policy,
    mxinfer_record::ProbeSettings,
)> {
    use mxinfer_core::probe::plan::{DEFAULT_BLOCKLIST, Policy, parse_cidr_list};
    use mxinfer_core::probe::reply::Limits;
    use mxinfer_core::probe::session::{ProbeSettings, Prober};
    use mxinfer_core::probe::verify::ChainJudge;
    // One socket per probe in flight, plus the runtime's own descriptors and the files.
    let open_files = mxinfer_core::util::ensure_open_files(
        concurrency as u64 + OPEN_FILES_MARGIN,
        &format!("--concurrency {concurrency}"),
    )?;
    let max_bytes = positive("--max-reply-bytes", opts.max_reply_bytes, 1 << 30)?;
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
                .map(|c| c.parse::<mxinfer_core::probe::plan::Cidr>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("--allow-private: {e}"))?,
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
        connect_timeout: seconds("--connect-timeout", opts.connect_timeout)?,
        step_timeout: seconds("--step-timeout", opts.step_timeout)?,
        session_timeout: seconds("--session-timeout", opts.session_timeout)?,
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
    let run_settings = mxinfer_record::ProbeSettings {
        allow_private: opts.allow_private.clone(),
        blocklist_files: opts
            .blocklist
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        blocklist_prefixes: policy.blocklist.len(),
        concurrency,
        connect_timeout_s: opts.connect_timeout,
        ehlo_name: settings.ehlo_name.clone(),
        intermediates: opts.intermediates.as_ref().map(|p| p.display().to_string()),
        ipv6: opts.ipv6,
        legacy_tls: settings.legacy_tls,
        max_reply_bytes: max_bytes,
        max_reply_line: settings.limits.max_line,
        max_reply_lines: settings.limits.max_lines,
        open_files_limit: open_files,
        port: settings.port,
        rate_per_ip: opts.rate_per_ip,
        roots: judge.roots_label().to_string(),
        session_timeout_s: opts.session_timeout,
        step_timeout_s: opts.step_timeout,
        tls: "rustls 0.23 (ring); chain recorded, judged by rustls-webpki 0.103".into(),
    };
    let prober = Arc::new(Prober::new(settings, judge));
    Ok((prober, policy, run_settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameserver_forms() {
        assert_eq!(
            parse_nameserver("127.0.0.1").unwrap(),
            "127.0.0.1:53".parse().unwrap()
        );
        assert_eq!(
            parse_nameserver("127.0.0.2:5353").unwrap(),
            "127.0.0.2:5353".parse().unwrap()
        );
        assert_eq!(
            parse_nameserver("::1").unwrap(),
            "[::1]:53".parse().unwrap()
        );
        assert_eq!(
            parse_nameserver("[::1]:5300").unwrap(),
            "[::1]:5300".parse().unwrap()
        );
        assert!(parse_nameserver("ns.example").is_err());
    }
}
