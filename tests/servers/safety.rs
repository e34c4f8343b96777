//! Safety of the prober: non-public addresses are never probed without `--allow-private`
//! (IPv4 and IPv6 classes), the ZMap-format blocklist is honoured (IPv4 and IPv6), the global
//! `--concurrency` and the per-address `--rate-per-ip` hold (the farm counts), the open-file
//! limit is checked at start, and no MAIL, RCPT, DATA, VRFY or EXPN is ever sent.
//!
//! Traffic stays on loopback: the binary runs with `MXINFER_LOOPBACK_ONLY=1`, and the checks
//! of non-loopback addresses run the planner's decision in-process (no connection at all).

#[path = "../common/mod.rs"]
mod common;

use common::schema::{HostProbe, RunMeta};
use mxinfer_core::probe::plan::{Cidr, DEFAULT_BLOCKLIST, Decision, Policy, parse_cidr_list};
use mxinfer_core::resolve::classify::addr_class;
use mxinfer_sim::farm::{Farm, FarmSpec, Persona, builtin, load_personas};
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn start_farm(hosts: Vec<(IpAddr, Persona, Duration)>) -> Farm {
    Farm::start(FarmSpec {
        port: 0,
        hosts,
        keep_log: true,
        log_file: None,
        threads: 0,
    })
    .unwrap()
}

/// `mxinfer probe FILE --out DIR/o.jsonl --port P ...extra`, loopback only, optionally under
/// a wrapper command (prlimit).
fn probe(
    dir: &Path,
    targets: &str,
    port: u16,
    extra: &[&str],
    wrapper: &[&str],
) -> (Output, Vec<HostProbe>) {
    let t = dir.join("targets.txt");
    std::fs::write(&t, targets).unwrap();
    let out = dir.join("o.jsonl");
    let _ = std::fs::remove_file(&out);
    let bin = env!("CARGO_BIN_EXE_mxinfer");
    let mut cmd = if wrapper.is_empty() {
        Command::new(bin)
    } else {
        let mut c = Command::new(wrapper[0]);
        c.args(&wrapper[1..]).arg(bin);
        c
    };
    let o = cmd
        .arg("probe")
        .arg(&t)
        .arg("--out")
        .arg(&out)
        .args(["--port", &port.to_string(), "--progress", "off"])
        .args(extra)
        .env("MXINFER_LOOPBACK_ONLY", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("running mxinfer");
    let recs = if out.exists() {
        common::read_jsonl(&out)
            .into_iter()
            .map(|v| serde_json::from_value(v).unwrap())
            .collect()
    } else {
        Vec::new()
    };
    (o, recs)
}

fn status_of(recs: &[HostProbe], ip: &str) -> String {
    recs.iter()
        .find(|r| r.ip == ip)
        .unwrap_or_else(|| panic!("no record for {ip}"))
        .status
        .clone()
}

#[test]
fn every_non_public_class_is_skipped_without_allow_private() {
    // The decision alone, in-process: these addresses are never dialled by any test.
    let non_public = [
        "0.1.2.3",
        "10.1.2.3",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.1",
        "127.255.0.9",
        "169.254.10.20",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.88.99.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:10.0.0.1",
        "::ffff:8.8.8.8",
        "::10.0.0.1",
        "64:ff9b::a00:1",
        "64:ff9b:1::1",
        "100::1",
        "2001::1",
        "2001:2::1",
        "2001:db8::25",
        "2002:a00:1::1",
        "2002:7f00:1::1",
        "2002:c0a8:101::1",
        "3fff::1",
        "5f00::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
    ];
    // Without the default blocklist, so the classifier alone must catch every one; and with
    // it (the real configuration), the result is the same.
    let bare = Policy {
        ipv6: true,
        ..Policy::default()
    };
    let real = Policy {
        ipv6: true,
        blocklist: parse_cidr_list(DEFAULT_BLOCKLIST, "default").unwrap(),
        ..Policy::default()
    };
    for a in non_public {
        let ip: IpAddr = a.parse().unwrap();
        let class = addr_class(ip);
        assert!(!class.is_public(), "{a} classified public");
        assert_eq!(bare.decide(ip, class), Decision::SkipPrivate, "{a}");
        assert_eq!(real.decide(ip, class), Decision::SkipPrivate, "{a}");
        // A class claimed wrongly as public is still caught by the default blocklist.
        assert_ne!(
            real.decide(ip, mxinfer_record::AddrClass::Public),
            Decision::Probe,
            "{a} with a wrong class"
        );
    }
    for a in [
        "8.8.8.8",
        "1.1.1.1",
        "2a00:1450:4001::1a",
        "2002:808:808::1",
    ] {
        let ip: IpAddr = a.parse().unwrap();
        assert_eq!(real.decide(ip, addr_class(ip)), Decision::Probe, "{a}");
    }
}

#[test]
fn a_resolve_record_claiming_public_for_loopback_does_not_get_it_probed() {
    let ip = common::loopback_addr();
    let farm = start_farm(vec![(ip, builtin("normal").unwrap(), Duration::ZERO)]);
    let rec = serde_json::json!({
        "domain": "liar.example", "input": {"line": 1}, "status": "ok",
        "mx": [{"preference": 10, "exchange": "mx.liar.example", "ttl": 300}],
        "exchangers": [{"name": "mx.liar.example", "preference": 10,
            "a": {"status": "ok", "values": [ip.to_string()]},
            "aaaa": {"status": "nodata"},
            "addresses": [{"ip": ip.to_string(), "class": "public"}]}],
        "config_class": "plain-ipv4-only", "passes": 1,
        "resolved_at": "2026-11-30T12:00:00.000Z"
    });
    let dir = tempfile::tempdir().unwrap();
    let (o, recs) = probe(dir.path(), &format!("{rec}\n"), farm.port, &[], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(status_of(&recs, &ip.to_string()), "skipped-private");
    assert_eq!(farm.connection_count(), 0);
}

#[test]
fn zmap_blocklist_holds_for_ipv4_and_ipv6_and_for_allowed_private_addresses() {
    let blocked = common::loopback_addr();
    let free = common::loopback_addr();
    let farm = start_farm(vec![
        (blocked, builtin("normal").unwrap(), Duration::ZERO),
        (free, builtin("normal").unwrap(), Duration::ZERO),
    ]);
    let dir = tempfile::tempdir().unwrap();
    // ZMap's format: a CIDR or an address per line, `#` comments (whole line or after).
    let bl = dir.path().join("blocklist.conf");
    std::fs::write(
        &bl,
        format!(
            "# opt-outs\n\n{blocked}/32   # asked by mail\n9.9.9.0/24\n   2a00:1450::/32 # v6\n\
             2606:4700:4700::1111\n"
        ),
    )
    .unwrap();
    let targets = format!(
        "{blocked},a.example\n{free},b.example\n9.9.9.9\n2a00:1450:4001::1a\n\
         2606:4700:4700::1111\n2606:4700:4700::1001\n"
    );
    let (o, recs) = probe(
        dir.path(),
        &targets,
        farm.port,
        &[
            "--blocklist",
            bl.to_str().unwrap(),
            "--ipv6",
            "--step-timeout",
            "2",
            "--allow-private",
            "127.0.0.0/8",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(recs.len(), 6);
    assert_eq!(status_of(&recs, &blocked.to_string()), "skipped-blocklist");
    assert_eq!(status_of(&recs, &free.to_string()), "ok");
    assert_eq!(status_of(&recs, "9.9.9.9"), "skipped-blocklist");
    assert_eq!(status_of(&recs, "2a00:1450:4001::1a"), "skipped-blocklist");
    assert_eq!(
        status_of(&recs, "2606:4700:4700::1111"),
        "skipped-blocklist"
    );
    // Not in the list: the test's loopback-only guard keeps it unprobed.
    assert_eq!(status_of(&recs, "2606:4700:4700::1001"), "skipped-private");
    assert!(farm.connections(blocked).is_empty());
    assert_eq!(farm.connections(free).len(), 1);
    // The same decisions in-process, without the loopback guard.
    let text = std::fs::read_to_string(&bl).unwrap();
    let user = parse_cidr_list(&text, "bl").unwrap();
    let mut all = parse_cidr_list(DEFAULT_BLOCKLIST, "default").unwrap();
    all.extend(user.iter().copied());
    let p = Policy {
        ipv6: true,
        blocklist: all,
        user_blocklist: user,
        ..Policy::default()
    };
    let d = |a: &str| {
        let ip: IpAddr = a.parse().unwrap();
        p.decide(ip, addr_class(ip))
    };
    assert_eq!(d("2a00:1450:4001::1a"), Decision::SkipBlocklist);
    assert_eq!(d("2606:4700:4700::1111"), Decision::SkipBlocklist);
    assert_eq!(d("2606:4700:4700::1001"), Decision::Probe);
    assert_eq!(d("9.9.9.200"), Decision::SkipBlocklist);
    assert_eq!(d("9.9.10.1"), Decision::Probe);
    assert!("2a00:1450::/33".parse::<Cidr>().is_ok());
}

#[test]
fn global_concurrency_is_honoured() {
    // The server ends each session itself (421 after 300 ms, then close), so the farm's count
    // of open sessions never outlasts the prober's: the farm's maximum is a lower bound of
    // the prober's true concurrency and must stay within --concurrency.
    let mut p = builtin("greeting-421").unwrap();
    p.delay_ms = 300;
    let hosts: Vec<(IpAddr, Persona, Duration)> = (0..24)
        .map(|_| (common::loopback_addr(), p.clone(), Duration::ZERO))
        .collect();
    let targets: String = hosts.iter().map(|h| format!("{}\n", h.0)).collect();
    let farm = start_farm(hosts.clone());
    let dir = tempfile::tempdir().unwrap();
    let (o, recs) = probe(
        dir.path(),
        &targets,
        farm.port,
        &["--concurrency", "4", "--allow-private"],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(recs.len(), 24);
    assert!(recs.iter().all(|r| r.status == "banner-rejected"));
    let max = farm.max_concurrent();
    assert!((2..=4).contains(&max), "max concurrent sessions {max}");
    for (ip, _, _) in &hosts {
        assert_eq!(farm.connections(*ip).len(), 1, "{ip}");
    }
}

/// Needs the default legacy-tls feature: only the OpenSSL fallback connects twice.
#[cfg(feature = "legacy-tls")]
#[test]
fn rate_per_ip_spaces_the_second_connection_to_an_address() {
    // A TLS 1.0-only server: rustls fails, the OpenSSL fallback connects a second time.
    let ip = common::loopback_addr();
    let farm = start_farm(vec![(ip, builtin("tls10").unwrap(), Duration::ZERO)]);
    let dir = tempfile::tempdir().unwrap();
    let (o, recs) = probe(
        dir.path(),
        &format!("{ip},tls10.farm.test\n"),
        farm.port,
        &[
            "--rate-per-ip",
            "0.5",
            "--session-timeout",
            "10",
            "--allow-private",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(recs[0].status, "ok", "{:?}", recs[0].error);
    assert_eq!(recs[0].flags, vec!["legacy-tls"]);
    let c = farm.connections(ip);
    assert_eq!(c.len(), 2);
    let gap = c[1] - c[0];
    // 0.5 connections per second: 2 s apart (less the accept-time jitter of the first).
    assert!(gap >= Duration::from_millis(1950), "{gap:?}");
}

#[test]
fn a_low_open_file_limit_is_raised_or_named_with_the_flag() {
    let prlimit = common::require("prlimit", "util-linux");
    let ip = common::loopback_addr();
    let farm = start_farm(vec![(ip, builtin("normal").unwrap(), Duration::ZERO)]);
    let dir = tempfile::tempdir().unwrap();
    let targets = format!("{ip},normal.farm.test\n");
    // Hard limit too low for --concurrency 1000: a clear error naming both, nothing probed.
    let (o, recs) = probe(
        dir.path(),
        &targets,
        farm.port,
        &["--concurrency", "1000", "--allow-private"],
        &[prlimit.to_str().unwrap(), "--nofile=200:200"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("--concurrency 1000"), "{err}");
    assert!(err.contains("ulimit -n"), "{err}");
    assert!(err.contains("is 200 (hard limit 200)"), "{err}");
    assert!(recs.is_empty());
    assert_eq!(farm.connection_count(), 0);
    // Soft limit low, hard limit high enough: raised, and the run goes ahead.
    let (o, recs) = probe(
        dir.path(),
        &targets,
        farm.port,
        &["--concurrency", "1000", "--allow-private"],
        &[prlimit.to_str().unwrap(), "--nofile=200:4096"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(recs[0].status, "ok");
    let meta: RunMeta = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("o.jsonl.meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta.stage["open_files_limit"], 4096);
}

#[test]
fn no_mail_or_rcpt_is_sent_to_any_persona() {
    let all = load_personas(mxinfer_sim::farm::BUILTIN_PERSONAS).unwrap();
    let hosts: Vec<(IpAddr, Persona, Duration)> = all
        .into_iter()
        .filter(|p| !(p.name.starts_with("drip") || p.name == "tarpit"))
        .map(|p| (common::loopback_addr(), p, Duration::ZERO))
        .collect();
    let targets: String = hosts
        .iter()
        .map(|(ip, p, _)| format!("{ip},{}\n", p.host_name()))
        .collect();
    let farm = start_farm(hosts.clone());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &farm.ca_pem).unwrap();
    let ca = dir.path().join("ca.pem");
    let (o, recs) = probe(
        dir.path(),
        &targets,
        farm.port,
        &[
            "--roots",
            ca.to_str().unwrap(),
            "--step-timeout",
            "1",
            "--session-timeout",
            "3",
            "--allow-private",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(recs.len(), hosts.len());
    assert_eq!(farm.forbidden_commands(), 0);
    let cmds = farm.commands();
    assert!(!cmds.is_empty());
    for c in cmds {
        let verb = c.line.split(' ').next().unwrap_or("").to_ascii_uppercase();
        assert!(
            ["EHLO", "HELO", "STARTTLS", "QUIT"].contains(&verb.as_str()),
            "{}: sent {:?}",
            c.addr,
            c.line
        );
    }
}
