//! Validated configuration with named defaults.

use anyhow::{Context, bail};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Domains resolved at once by default.
pub const DEFAULT_RESOLVE_CONCURRENCY: usize = 500;
/// Seconds to wait for one DNS answer by default.
pub const DEFAULT_DNS_TIMEOUT_S: f64 = 3.0;
/// Retries per DNS query in one pass by default (hickory's `attempts`: a query is sent up to
/// N + 1 times). With 20% of the UDP packets lost each way, 4 brings back all but about one in
/// a thousand of the domains hit by loss after the second pass; 2 brought back about 98% and 3
/// about 99.5%, too close to the 99% the tests demand (tests/dns_faults.rs).
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
