//! `mxinfer probe` against the project's SMTP farm: one test per persona, each asserting the
//! record (read back through the strict mirror types), and that the prober never sent MAIL
//! or RCPT. Every farm listens on its own 127.x address; the binary runs with
//! `MXINFER_LOOPBACK_ONLY=1`, so it cannot probe anything else.

#[path = "../common/mod.rs"]
mod common;

use common::schema::{HostProbe, RunMeta};
use mxinfer_sim::farm::{Farm, FarmSpec, builtin};
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary restricted to loopback targets.
fn mxinfer_loopback(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mxinfer"))
        .args(args)
        .arg("--progress")
        .arg("off")
        .env("MXINFER_LOOPBACK_ONLY", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("running mxinfer")
}

struct Run {
    rec: HostProbe,
    farm: Farm,
    ip: IpAddr,
    wall: Duration,
    meta: RunMeta,
}

fn start_farm(persona: &str) -> (Farm, IpAddr) {
    let ip = common::loopback_addr();
    let p = builtin(persona).unwrap();
    let farm = Farm::start(FarmSpec {
        port: 0,
        hosts: vec![(ip, p, Duration::ZERO)],
        keep_log: true,
        log_file: None,
        threads: 0,
    })
    .unwrap();
    (farm, ip)
}

fn run_probe(
    farm: &Farm,
    dir: &Path,
    targets: &str,
    extra: &[&str],
) -> (Vec<HostProbe>, Duration, RunMeta) {
    std::fs::write(dir.join("ca.pem"), &farm.ca_pem).unwrap();
    std::fs::write(dir.join("inter.pem"), &farm.intermediate_pem).unwrap();
    std::fs::write(dir.join("targets.txt"), targets).unwrap();
    let out = dir.join("probes.jsonl");
    let port = farm.port.to_string();
    let mut args = vec![
        "probe",
        dir.join("targets.txt").to_str().unwrap().to_string().leak(),
        "--out",
        out.to_str().unwrap().to_string().leak(),
        "--port",
        port.as_str(),
        "--roots",
        dir.join("ca.pem").to_str().unwrap().to_string().leak(),
        "--ehlo-name",
        "probe.mxinfer-tests.example",
        "--rate-per-ip",
        "50",
    ];
    for (flag, default) in [("--step-timeout", "2"), ("--session-timeout", "4")] {
        if !extra.contains(&flag) {
            args.extend_from_slice(&[flag, default]);
        }
    }
    args.extend_from_slice(extra);
    if !extra.iter().any(|a| a.starts_with("--allow-private")) {
        args.push("--allow-private");
    }
    let t0 = Instant::now();
    let o = mxinfer_loopback(&args);
    let wall = t0.elapsed();
    assert!(
        o.status.success(),
        "mxinfer failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let recs: Vec<HostProbe> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("schema: {e}\n{l}")))
        .collect();
    let meta_text = std::fs::read_to_string(dir.join("probes.jsonl.meta.json")).unwrap();
    let meta: RunMeta = serde_json::from_str(&meta_text).unwrap();
    (recs, wall, meta)
}

fn probe_persona(persona: &str, extra: &[&str]) -> Run {
    let (farm, ip) = start_farm(persona);
    let dir = tempfile::tempdir().unwrap();
    let targets = format!("{ip},{persona}.farm.test\n");
    let (mut recs, wall, meta) = run_probe(&farm, dir.path(), &targets, extra);
    assert_eq!(recs.len(), 1);
    let rec = recs.remove(0);
    assert_eq!(rec.ip, ip.to_string());
    assert_eq!(rec.names, vec![format!("{persona}.farm.test")]);
    assert_no_mail_commands(&farm);
    Run {
        rec,
        farm,
        ip,
        wall,
        meta,
    }
}

fn assert_no_mail_commands(farm: &Farm) {
    for c in farm.commands() {
        let verb = c
            .line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        assert!(
            !["MAIL", "RCPT", "DATA", "VRFY", "EXPN"].contains(&verb.as_str()),
            "the prober sent {:?}",
            c.line
        );
    }
}

fn verbs(farm: &Farm, ip: IpAddr) -> Vec<String> {
    farm.commands()
        .into_iter()
        .filter(|c| c.addr == ip)
        .map(|c| c.line)
        .collect()
}

fn tls(r: &HostProbe) -> &common::schema::TlsInfo {
    r.tls.as_ref().expect("tls recorded")
}

fn verdict(r: &HostProbe) -> &common::schema::ChainVerdict {
    tls(r).verdict.as_ref().expect("verdict recorded")
}

#[test]
fn normal_esmtp_starttls() {
    let r = probe_persona("normal", &[]);
    let rec = &r.rec;
    assert_eq!(rec.status, "ok");
    assert_eq!(rec.step, None);
    assert!(rec.flags.is_empty(), "{:?}", rec.flags);
    assert_eq!(rec.port, r.farm.port);
    let banner = rec.banner.as_ref().unwrap();
    assert_eq!(banner.code, 220);
    assert_eq!(banner.lines, vec!["220 normal.farm.test ESMTP farm"]);
    let ehlo = rec.ehlo.as_ref().unwrap();
    assert_eq!(ehlo.code, 250);
    assert_eq!(ehlo.lines.len(), 5);
    assert_eq!(
        rec.capabilities,
        vec!["PIPELINING", "SIZE 10240000", "STARTTLS", "8BITMIME"]
    );
    assert_eq!(rec.starttls.as_ref().unwrap().code, 220);
    let t = tls(rec);
    assert_eq!(t.stack, "rustls");
    assert!(t.established);
    assert_eq!(t.version.as_deref(), Some("TLSv1.3"));
    assert!(t.cipher.as_deref().unwrap().starts_with("TLS13_"));
    assert_eq!(t.sni.as_deref(), Some("normal.farm.test"));
    assert_eq!(t.chain.len(), 2);
    let leaf = &t.chain[0];
    assert_eq!(leaf.version, 3);
    assert_eq!(leaf.subject_cn.as_deref(), Some("normal.farm.test"));
    assert_eq!(leaf.san_dns, vec!["normal.farm.test"]);
    assert_eq!(leaf.key_type, "ecdsa");
    assert_eq!(leaf.key_bits, Some(256));
    assert!(!leaf.self_signed && !leaf.is_ca);
    assert!(leaf.issuer.contains("mxinfer farm test intermediate"));
    assert!(t.chain[1].is_ca);
    assert_eq!(leaf.sha256.len(), 64);
    let v = verdict(rec);
    assert!(v.trusted, "{v:?}");
    assert_eq!(v.reason, None);
    assert!(v.name_match);
    assert_eq!(v.matched_name.as_deref(), Some("normal.farm.test"));
    assert!(v.roots.ends_with("ca.pem"));
    // EHLO inside TLS, without STARTTLS.
    let inner = t.ehlo.as_ref().unwrap();
    assert_eq!(inner.code, 250);
    assert!(!inner.lines.iter().any(|l| l.contains("STARTTLS")));
    assert_eq!(rec.quit.as_ref().unwrap().code, 221);
    // Exactly the expected dialogue, with our EHLO name.
    assert_eq!(
        verbs(&r.farm, r.ip),
        vec![
            "EHLO probe.mxinfer-tests.example",
            "STARTTLS",
            "EHLO probe.mxinfer-tests.example",
            "QUIT"
        ]
    );
    // Run metadata.
    assert_eq!(r.meta.command, "probe");
    assert_eq!(r.meta.status_counts.get("ok"), Some(&1));
    assert_eq!(r.meta.stage["ehlo_name"], "probe.mxinfer-tests.example");
}

#[test]
fn rsa_leaf() {
    let r = probe_persona("normal-rsa", &[]);
    assert_eq!(r.rec.status, "ok");
    let leaf = &tls(&r.rec).chain[0];
    assert_eq!(leaf.key_type, "rsa");
    assert_eq!(leaf.key_bits, Some(2048));
    assert!(verdict(&r.rec).trusted);
}

#[test]
fn multi_line_banner() {
    let r = probe_persona("multiline-banner", &[]);
    assert_eq!(r.rec.status, "ok");
    let b = r.rec.banner.as_ref().unwrap();
    assert_eq!(b.code, 220);
    assert_eq!(
        b.lines,
        vec![
            "220-multiline-banner.farm.test ESMTP first line",
            "220-second line of the greeting",
            "220 third line"
        ]
    );
    assert!(r.rec.flags.is_empty());
}

#[test]
fn banner_without_esmtp() {
    let r = probe_persona("no-esmtp", &[]);
    assert_eq!(r.rec.status, "ok");
    assert_eq!(r.rec.flags, vec!["no-esmtp-in-banner"]);
}

#[test]
fn starttls_not_offered_keyword_not_substring() {
    let r = probe_persona("no-starttls", &[]);
    assert_eq!(r.rec.status, "starttls-not-offered");
    assert_eq!(r.rec.step, None);
    assert!(r.rec.capabilities.contains(&"X-STARTTLS-LIKE".to_string()));
    assert!(r.rec.tls.is_none() && r.rec.starttls.is_none());
    assert_eq!(r.rec.quit.as_ref().unwrap().code, 221);
    assert!(!verbs(&r.farm, r.ip).contains(&"STARTTLS".to_string()));
}

#[test]
fn ehlo_refused_helo_works() {
    let r = probe_persona("helo-only", &[]);
    assert_eq!(r.rec.status, "starttls-not-offered");
    assert_eq!(r.rec.flags, vec!["helo-fallback"]);
    let e = r.rec.ehlo.as_ref().unwrap();
    assert_eq!(e.lines, vec!["250 helo-only.farm.test"]);
    assert!(r.rec.capabilities.is_empty());
    assert_eq!(
        verbs(&r.farm, r.ip),
        vec![
            "EHLO probe.mxinfer-tests.example",
            "HELO probe.mxinfer-tests.example",
            "QUIT"
        ]
    );
}

#[test]
fn banner_rejected() {
    let r = probe_persona("banner-rejected", &[]);
    assert_eq!(r.rec.status, "banner-rejected");
    assert_eq!(r.rec.step.as_deref(), Some("banner"));
    assert_eq!(r.rec.banner.as_ref().unwrap().code, 554);
    assert!(r.rec.ehlo.is_none());
}

#[test]
fn starttls_refused_keeps_ehlo() {
    let r = probe_persona("starttls-454", &[]);
    assert_eq!(r.rec.status, "starttls-refused");
    assert_eq!(r.rec.step.as_deref(), Some("starttls"));
    assert_eq!(r.rec.starttls.as_ref().unwrap().code, 454);
    assert!(r.rec.ehlo.is_some() && r.rec.banner.is_some());
    assert!(r.rec.tls.is_none());
}

#[test]
fn tls_alert() {
    let r = probe_persona("tls-alert", &[]);
    assert_eq!(r.rec.status, "tls-failed");
    assert_eq!(r.rec.step.as_deref(), Some("tls"));
    let err = r.rec.error.as_deref().unwrap();
    assert!(err.starts_with("alert:handshake-failure"), "{err}");
    let t = tls(&r.rec);
    assert!(!t.established);
    assert!(t.chain.is_empty());
    assert!(r.rec.banner.is_some() && r.rec.ehlo.is_some());
}

#[test]
fn self_signed() {
    let r = probe_persona("self-signed", &[]);
    assert_eq!(r.rec.status, "ok");
    let t = tls(&r.rec);
    assert_eq!(t.chain.len(), 1);
    assert!(t.chain[0].self_signed);
    let v = verdict(&r.rec);
    assert!(!v.trusted);
    assert_eq!(v.reason.as_deref(), Some("self-signed"));
    assert!(v.name_match);
}

#[test]
fn expired() {
    let r = probe_persona("expired", &[]);
    assert_eq!(r.rec.status, "ok");
    let t = tls(&r.rec);
    assert!(t.chain[0].not_after.starts_with("2021-01-01"));
    let v = verdict(&r.rec);
    assert!(!v.trusted);
    assert_eq!(v.reason.as_deref(), Some("expired"));
}

#[test]
fn wrong_name_is_trusted_but_does_not_match() {
    let r = probe_persona("wrong-name", &[]);
    let v = verdict(&r.rec);
    assert!(v.trusted);
    assert!(!v.name_match);
    assert_eq!(v.matched_name, None);
    assert_eq!(tls(&r.rec).chain[0].san_dns, vec!["other-host.wrong.test"]);
}

#[test]
fn cn_only() {
    let r = probe_persona("cn-only", &[]);
    let leaf = &tls(&r.rec).chain[0];
    assert!(leaf.san_dns.is_empty());
    assert_eq!(leaf.subject_cn.as_deref(), Some("cn-only.farm.test"));
    let v = verdict(&r.rec);
    assert!(v.trusted);
    assert!(v.name_match);
}

#[test]
fn incomplete_chain_and_intermediate_pool() {
    let r = probe_persona("leaf-only", &[]);
    assert_eq!(tls(&r.rec).chain.len(), 1);
    let v = verdict(&r.rec);
    assert!(!v.trusted);
    assert_eq!(v.reason.as_deref(), Some("unknown-issuer"));
    // The same server with the intermediate pool: trusted.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pool.pem"), &r.farm.intermediate_pem).unwrap();
    let pool = dir.path().join("pool.pem");
    let targets = format!("{},leaf-only.farm.test\n", r.ip);
    let (recs, _, meta) = run_probe(
        &r.farm,
        dir.path(),
        &targets,
        &["--intermediates", pool.to_str().unwrap()],
    );
    assert!(verdict(&recs[0]).trusted, "{:?}", verdict(&recs[0]));
    assert!(meta.stage["intermediates"].as_str().is_some());
}

#[test]
fn x509_v1_leaf() {
    if !cfg!(feature = "legacy-tls") {
        return; // the v1 persona is built with OpenSSL
    }
    let r = probe_persona("x509-v1", &[]);
    assert_eq!(r.rec.status, "ok", "{:?}", r.rec.error);
    let t = tls(&r.rec);
    assert!(t.established);
    assert_eq!(t.chain[0].version, 1);
    let v = verdict(&r.rec);
    assert!(!v.trusted);
    assert_eq!(v.reason.as_deref(), Some("unsupported-version"));
}

#[test]
fn tls10_only_needs_the_legacy_stack() {
    if !cfg!(feature = "legacy-tls") {
        return;
    }
    let r = probe_persona("tls10", &[]);
    assert_eq!(r.rec.status, "ok", "{:?}", r.rec.error);
    assert_eq!(r.rec.flags, vec!["legacy-tls"]);
    let t = tls(&r.rec);
    assert_eq!(t.stack, "openssl");
    assert!(t.established);
    assert_eq!(t.version.as_deref(), Some("TLSv1"));
    assert_eq!(t.chain.len(), 2);
    assert_eq!(t.chain[0].key_type, "rsa");
    assert!(verdict(&r.rec).trusted);
    assert!(t.ehlo.is_some());
    assert_eq!(r.rec.quit.as_ref().unwrap().code, 221);
    // Without the fallback: tls-failed with the rustls reason.
    let dir = tempfile::tempdir().unwrap();
    let targets = format!("{},tls10.farm.test\n", r.ip);
    let (recs, _, _) = run_probe(&r.farm, dir.path(), &targets, &["--no-legacy-tls"]);
    assert_eq!(recs[0].status, "tls-failed");
    assert!(
        recs[0]
            .error
            .as_deref()
            .unwrap()
            .starts_with("alert:protocol-version"),
        "{:?}",
        recs[0].error
    );
}

/// A version-intolerant TLS 1.0 server hangs up on a modern ClientHello without an alert:
/// the prober retries with the legacy stack offering TLS 1.0 only, gets the whole chain, and
/// the record says which stack got it and why it retried.
#[test]
fn tls10_server_that_hangs_up_on_a_modern_hello_gets_the_legacy_retry() {
    if !cfg!(feature = "legacy-tls") {
        return;
    }
    let r = probe_persona("tls10-intolerant", &[]);
    assert_eq!(r.rec.status, "ok", "{:?}", r.rec.error);
    assert_eq!(r.rec.flags, vec!["legacy-tls"]);
    let t = tls(&r.rec);
    assert_eq!(t.stack, "openssl");
    assert!(t.established);
    assert_eq!(t.version.as_deref(), Some("TLSv1"));
    assert_eq!(t.chain.len(), 2, "leaf and intermediate");
    assert!(verdict(&r.rec).trusted);
    assert_eq!(
        t.legacy_retry.as_deref(),
        Some("eof-after-client-hello; offered TLS 1.0 only")
    );
    assert!(t.ehlo.is_some());
    assert_eq!(r.rec.quit.as_ref().unwrap().code, 221);
    // The plaintext dialogue twice (rustls, then OpenSSL), EHLO once more inside TLS.
    let v = verbs(&r.farm, r.ip);
    assert_eq!(v.iter().filter(|x| *x == "STARTTLS").count(), 2, "{v:?}");
    // Without the fallback: tls-failed, the hang-up named, the chain lost.
    let dir = tempfile::tempdir().unwrap();
    let targets = format!("{},tls10-intolerant.farm.test\n", r.ip);
    let (recs, _, _) = run_probe(&r.farm, dir.path(), &targets, &["--no-legacy-tls"]);
    assert_eq!(recs[0].status, "tls-failed");
    let t = tls(&recs[0]);
    assert!(t.chain.is_empty() && t.legacy_retry.is_none());
    assert!(
        recs[0].error.as_deref().unwrap().contains("eof"),
        "{:?}",
        recs[0].error
    );
    // A server that does answer (TLS 1.0 with an alert) still gets the full-range retry.
    let r = probe_persona("tls10", &[]);
    assert_eq!(
        tls(&r.rec).legacy_retry.as_deref(),
        Some("alert:protocol-version; offered TLS 1.0-1.3")
    );
}

#[test]
fn tarpit_ends_within_its_deadline() {
    let r = probe_persona(
        "tarpit",
        &["--step-timeout", "1.5", "--session-timeout", "3"],
    );
    assert_eq!(r.rec.status, "banner-timeout");
    assert_eq!(r.rec.step.as_deref(), Some("banner"));
    assert!(r.rec.duration_ms <= 4000, "{}", r.rec.duration_ms);
    assert!(r.wall <= Duration::from_secs(4), "{:?}", r.wall);
}

#[test]
fn drip_feed_ends_at_the_session_deadline() {
    // A step deadline longer than the session: the session deadline must cut the drip.
    let r = probe_persona(
        "drip-feed",
        &["--step-timeout", "30", "--session-timeout", "2"],
    );
    assert_eq!(r.rec.status, "session-timeout");
    assert_eq!(r.rec.step.as_deref(), Some("banner"));
    assert!(r.rec.duration_ms <= 3000, "{}", r.rec.duration_ms);
    assert!(r.wall <= Duration::from_secs(3), "{:?}", r.wall);
}

#[test]
fn endless_line_is_bounded() {
    let r = probe_persona("endless-line", &[]);
    assert_eq!(r.rec.status, "reply-too-large");
    assert_eq!(r.rec.step.as_deref(), Some("banner"));
}

#[test]
fn binary_garbage() {
    let r = probe_persona("garbage", &[]);
    assert_eq!(r.rec.status, "protocol-error");
    assert_eq!(r.rec.step.as_deref(), Some("banner"));
    assert!(
        r.rec
            .error
            .as_deref()
            .unwrap()
            .contains("not an SMTP reply line")
    );
}

#[test]
fn reset_after_banner() {
    let r = probe_persona("reset-after-banner", &[]);
    assert_eq!(r.rec.status, "reset");
    assert_eq!(r.rec.step.as_deref(), Some("ehlo"));
    assert_eq!(r.rec.banner.as_ref().unwrap().code, 220);
}

#[test]
fn plaintext_injected_after_starttls() {
    let r = probe_persona("starttls-injection", &[]);
    assert_eq!(r.rec.status, "ok");
    assert_eq!(r.rec.flags, vec!["starttls-injection"]);
    // The injected reply was not taken as the answer to anything.
    let inner = tls(&r.rec).ehlo.as_ref().unwrap();
    assert!(inner.lines[0].starts_with("250-starttls-injection.farm.test"));
}

#[test]
fn refused_port() {
    let ip = common::loopback_addr();
    let port = common::free_port(ip).to_string();
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.txt");
    std::fs::write(&t, format!("{ip}\n")).unwrap();
    let out = dir.path().join("o.jsonl");
    let o = mxinfer_loopback(&[
        "probe",
        t.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--port",
        &port,
        "--allow-private",
    ]);
    assert!(o.status.success());
    let recs: Vec<HostProbe> = common::read_jsonl(&out)
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    assert_eq!(recs[0].status, "refused");
    assert_eq!(recs[0].step.as_deref(), Some("connect"));
}

#[test]
fn skipped_targets_are_records() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.txt");
    let bl = dir.path().join("block.txt");
    // 192.0.2.1 is documentation space (non-public); 8.8.4.4 is public and blocklisted here;
    // 9.9.9.9 is public and not blocklisted, but the loopback-only guard keeps it unprobed.
    std::fs::write(
        &t,
        "# targets\n192.0.2.1,doc.example\n::1,v6.example\n8.8.4.4\n9.9.9.9\nnot-an-ip\n",
    )
    .unwrap();
    std::fs::write(&bl, "# mine\n8.8.4.0/24\n").unwrap();
    let out = dir.path().join("o.jsonl");
    let o = mxinfer_loopback(&[
        "probe",
        t.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--blocklist",
        bl.to_str().unwrap(),
    ]);
    // A rejected line: exit code 3, reported with its line number.
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains(":6: not an IP address"));
    let recs: Vec<HostProbe> = common::read_jsonl(&out)
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    let status = |ip: &str| {
        recs.iter()
            .find(|r| r.ip == ip)
            .map(|r| r.status.clone())
            .unwrap()
    };
    assert_eq!(recs.len(), 4);
    assert_eq!(status("192.0.2.1"), "skipped-private");
    assert_eq!(status("::1"), "skipped-ipv6");
    assert_eq!(status("8.8.4.4"), "skipped-blocklist");
    assert_eq!(status("9.9.9.9"), "skipped-private");
    assert!(
        recs.iter()
            .all(|r| r.duration_ms == 0 && r.banner.is_none())
    );
}

#[test]
fn resolve_output_as_input_probes_each_address_once() {
    let (farm, ip) = start_farm("normal");
    let dir = tempfile::tempdir().unwrap();
    let rec = |domain: &str, mx: &str| {
        serde_json::json!({
            "domain": domain, "input": {"line": 1}, "status": "ok",
            "mx": [{"preference": 10, "exchange": mx, "ttl": 300}],
            "exchangers": [{"name": mx, "preference": 10,
                "a": {"status": "ok", "values": [ip.to_string()]},
                "aaaa": {"status": "nodata"},
                "addresses": [{"ip": ip.to_string(), "class": "loopback"}]}],
            "config_class": "plain-ipv4-only", "passes": 1,
            "resolved_at": "2026-11-30T12:00:00.000Z"
        })
        .to_string()
    };
    let text = format!(
        "{}\n{}\n{}\n",
        rec("a.example", "normal.farm.test"),
        rec("b.example", "mx.b.example"),
        rec("c.example", "normal.farm.test")
    );
    let (recs, _, meta) = run_probe(&farm, dir.path(), &text, &[]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].names, vec!["mx.b.example", "normal.farm.test"]);
    // SNI is the first name; it does not match the certificate, the second name does.
    let v = verdict(&recs[0]);
    assert_eq!(tls(&recs[0]).sni.as_deref(), Some("mx.b.example"));
    assert!(v.name_match);
    assert_eq!(v.matched_name.as_deref(), Some("normal.farm.test"));
    assert_eq!(meta.stage["input_format"], "dns");
    assert_eq!(meta.input_counts.accepted, 3);
    // One connection: one EHLO in plaintext, one in TLS.
    assert_eq!(
        verbs(&farm, ip)
            .iter()
            .filter(|l| l.starts_with("EHLO"))
            .count(),
        2
    );
}

#[test]
fn allow_private_cidr_limits_probing() {
    let (farm, ip) = start_farm("normal");
    let dir = tempfile::tempdir().unwrap();
    let targets = format!("{ip},normal.farm.test\n");
    // A CIDR that does not contain the farm address: skipped, never contacted.
    let (recs, _, _) = run_probe(
        &farm,
        dir.path(),
        &targets,
        &["--allow-private", "10.0.0.0/8"],
    );
    assert_eq!(recs[0].status, "skipped-private");
    assert!(farm.commands().is_empty());
    let (recs, _, _) = run_probe(
        &farm,
        dir.path(),
        &targets,
        &["--allow-private", "127.0.0.0/8"],
    );
    assert_eq!(recs[0].status, "ok");
}

#[test]
fn ehlo_and_helo_refused() {
    let r = probe_persona("ehlo-failed", &[]);
    assert_eq!(r.rec.status, "ehlo-failed");
    assert_eq!(r.rec.step.as_deref(), Some("ehlo"));
    assert_eq!(r.rec.ehlo.as_ref().unwrap().code, 500);
    assert!(r.rec.error.as_deref().unwrap().contains("550"));
    assert!(r.rec.flags.is_empty());
}

#[test]
fn one_farm_many_addresses_persona_by_address() {
    let names = ["normal", "self-signed", "starttls-454", "no-esmtp"];
    let hosts: Vec<(IpAddr, mxinfer_sim::farm::Persona, Duration)> = names
        .iter()
        .map(|n| (common::loopback_addr(), builtin(n).unwrap(), Duration::ZERO))
        .collect();
    let targets: String = hosts
        .iter()
        .map(|(ip, p, _)| format!("{ip},{}\n", p.host_name()))
        .collect();
    let farm = Farm::start(FarmSpec {
        port: 0,
        hosts: hosts.clone(),
        keep_log: true,
        log_file: None,
        threads: 0,
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (recs, _, meta) = run_probe(&farm, dir.path(), &targets, &["--concurrency", "2"]);
    assert_eq!(recs.len(), 4);
    let by = |n: &str| {
        let ip = hosts.iter().find(|h| h.1.name == n).unwrap().0.to_string();
        recs.iter().find(|r| r.ip == ip).unwrap().clone()
    };
    assert_eq!(by("normal").status, "ok");
    assert!(verdict(&by("normal")).trusted);
    assert_eq!(
        verdict(&by("self-signed")).reason.as_deref(),
        Some("self-signed")
    );
    assert_eq!(by("starttls-454").status, "starttls-refused");
    assert_eq!(by("no-esmtp").flags, vec!["no-esmtp-in-banner"]);
    assert_eq!(meta.status_counts.values().sum::<u64>(), 4);
    assert_no_mail_commands(&farm);
}

#[test]
fn ipv6_loopback_only_with_the_flag() {
    let ip: IpAddr = "::1".parse().unwrap();
    let farm = match Farm::start(FarmSpec {
        port: 0,
        hosts: vec![(ip, builtin("normal").unwrap(), Duration::ZERO)],
        keep_log: true,
        log_file: None,
        threads: 0,
    }) {
        Ok(f) => f,
        Err(e) => panic!("IPv6 loopback is needed for this test: {e:#}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let targets = "::1,normal.farm.test\n";
    let (recs, _, _) = run_probe(&farm, dir.path(), targets, &[]);
    assert_eq!(recs[0].status, "skipped-ipv6");
    assert!(farm.commands().is_empty());
    let (recs, _, _) = run_probe(&farm, dir.path(), targets, &["--ipv6"]);
    assert_eq!(recs[0].status, "ok");
    assert!(verdict(&recs[0]).trusted);
}

#[test]
fn slow_ehlo_is_a_step_timeout_with_the_banner_kept() {
    let r = probe_persona(
        "slow-ehlo",
        &["--step-timeout", "1", "--session-timeout", "5"],
    );
    assert_eq!(r.rec.status, "step-timeout");
    assert_eq!(r.rec.step.as_deref(), Some("ehlo"));
    assert_eq!(r.rec.banner.as_ref().unwrap().code, 220);
    assert!(r.rec.ehlo.is_none());
    assert!(r.rec.duration_ms < 3000, "{}", r.rec.duration_ms);
}

#[test]
fn handshake_timeout_keeps_banner_and_ehlo() {
    let r = probe_persona(
        "starttls-stall",
        &["--step-timeout", "1", "--session-timeout", "5"],
    );
    assert_eq!(r.rec.status, "step-timeout");
    assert_eq!(r.rec.step.as_deref(), Some("tls"));
    assert!(r.rec.banner.is_some());
    assert!(r.rec.ehlo.is_some());
    assert!(r.rec.capabilities.contains(&"STARTTLS".to_string()));
    assert_eq!(r.rec.starttls.as_ref().unwrap().code, 220);
    let t = tls(&r.rec);
    assert!(!t.established);
    assert!(t.chain.is_empty());
}

#[test]
fn session_byte_bound() {
    // The three-line greeting is 111 bytes: a 60-byte session bound stops it.
    let r = probe_persona("multiline-banner", &["--max-reply-bytes", "60"]);
    assert_eq!(r.rec.status, "reply-too-large");
    assert_eq!(r.rec.step.as_deref(), Some("banner"));
    assert!(r.rec.error.as_deref().unwrap().contains("session bytes"));
}

#[test]
fn silent_syn_is_a_connect_timeout() {
    // A listener whose accept queue is full: Linux drops further SYNs, as a filtered port does.
    let ip = common::loopback_addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind(std::net::SocketAddr::new(ip, 0)).unwrap();
        s.listen(0).unwrap()
    });
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        if let Ok(c) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            held.push(c);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.txt");
    std::fs::write(&t, format!("{ip}\n")).unwrap();
    let out = dir.path().join("o.jsonl");
    let port = addr.port().to_string();
    let o = mxinfer_loopback(&[
        "probe",
        t.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--port",
        &port,
        "--allow-private",
        "--connect-timeout",
        "1",
    ]);
    assert!(o.status.success());
    let recs: Vec<HostProbe> = common::read_jsonl(&out)
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    assert_eq!(recs[0].status, "connect-timeout", "{:?}", recs[0]);
    assert_eq!(recs[0].step.as_deref(), Some("connect"));
    assert!(
        (900..2000).contains(&recs[0].duration_ms),
        "{}",
        recs[0].duration_ms
    );
    drop(held);
    drop(listener);
}

/// Finished probe records reach the file within the flush window while the run goes on
/// (README "Durable progress"), not only when the stage ends or a 64 KiB buffer fills: a
/// killed run loses at most the window. Twelve slow sessions one after the other; when the
/// farm has seen the fifth QUIT, every session that ended more than the window (plus a
/// margin for the prober to read the reply) before the file is read is in it.
#[test]
fn finished_records_reach_the_file_within_the_flush_window() {
    let mut p = builtin("normal").unwrap();
    p.step_delay_ms.insert("EHLO".into(), 150);
    let ips: Vec<IpAddr> = (0..12).map(|_| common::loopback_addr()).collect();
    let farm = Farm::start(FarmSpec {
        port: 0,
        hosts: ips
            .iter()
            .map(|ip| (*ip, p.clone(), Duration::ZERO))
            .collect(),
        keep_log: true,
        log_file: None,
        threads: 0,
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &farm.ca_pem).unwrap();
    let targets: String = ips
        .iter()
        .map(|ip| format!("{ip},normal.farm.test\n"))
        .collect();
    std::fs::write(dir.path().join("targets.txt"), targets).unwrap();
    let out = dir.path().join("probes.jsonl");
    let port = farm.port.to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxinfer"))
        .args(["probe", dir.path().join("targets.txt").to_str().unwrap()])
        .args(["--out", out.to_str().unwrap(), "--port", &port])
        .args(["--roots", dir.path().join("ca.pem").to_str().unwrap()])
        .args(["--allow-private", "--concurrency", "1", "--progress", "off"])
        .env("MXINFER_LOOPBACK_ONLY", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let quits = |farm: &Farm| -> Vec<(IpAddr, Instant)> {
        farm.commands()
            .into_iter()
            .filter(|c| c.line.eq_ignore_ascii_case("QUIT"))
            .map(|c| (c.addr, c.at))
            .collect()
    };
    let t0 = Instant::now();
    while quits(&farm).len() < 5 && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(mxinfer_core::pipeline::FLUSH_WINDOW + Duration::from_millis(300));
    let read_at = Instant::now();
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let still_running = child.try_wait().unwrap().is_none();
    let written: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<HostProbe>(l).unwrap().ip)
        .collect();
    let due: Vec<IpAddr> = quits(&farm)
        .into_iter()
        .filter(|(_, at)| {
            *at + mxinfer_core::pipeline::FLUSH_WINDOW + Duration::from_millis(250) < read_at
        })
        .map(|(ip, _)| ip)
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        still_running,
        "the run ended before the check: sessions too fast"
    );
    assert!(due.len() >= 5, "{due:?}");
    for ip in &due {
        assert!(
            written.contains(&ip.to_string()),
            "{ip} ended its session more than the window ago and is not in the file \
             (written: {written:?})"
        );
    }
}
