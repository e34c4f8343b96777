//! Hostile SMTP servers (farm personas): each gives the right status, ends by its deadline
//! (plus one second at most), keeps the record bounded, never makes the prober panic or send
//! MAIL/RCPT. Then 10,000 targets of mixed hostile personas in one run: every target gets
//! exactly one record and the prober's peak RSS stays under a stated bound.
//!
//! The binary runs with `MXINFER_LOOPBACK_ONLY=1`; every farm address is in 127.0.0.0/8.

#[path = "../common/mod.rs"]
mod common;

use common::schema::HostProbe;
use mxinfer_sim::farm::{Farm, FarmSpec, Persona, builtin};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Step and session deadlines of the single-persona tests (seconds).
const STEP_S: f64 = 1.0;
const SESSION_S: f64 = 2.0;

/// Largest serialised record accepted: the session byte bound (64 KiB) plus room for the
/// record's own fields (a line of invalid UTF-8 grows when replaced by U+FFFD).
const MAX_RECORD_BYTES: usize = 3 * 64 * 1024;

/// The 10,000-target run holds this exclusively, the single-persona tests share it: their
/// deadlines are behaviour under test, and on two cores the big run beside a dozen others
/// would measure the machine's overload (a deadline timer waiting a second for a core)
/// rather than the prober.
static MACHINE: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn start_farm(hosts: Vec<(IpAddr, Persona, Duration)>, keep_log: bool) -> Farm {
    Farm::start(FarmSpec {
        port: 0,
        hosts,
        keep_log,
        log_file: None,
        threads: 0,
    })
    .unwrap()
}

/// Runs `mxinfer probe` on `targets` against `farm`; returns the raw lines, the wall time
/// and stderr.
fn run_probe(
    farm: &Farm,
    dir: &Path,
    targets: &str,
    extra: &[&str],
    wrapper: Option<&[&str]>,
) -> (Vec<String>, Duration, String, std::process::ExitStatus) {
    std::fs::write(dir.join("targets.txt"), targets).unwrap();
    std::fs::write(dir.join("ca.pem"), &farm.ca_pem).unwrap();
    let out = dir.join("probes.jsonl");
    let bin = env!("CARGO_BIN_EXE_mxinfer");
    let mut cmd = match wrapper {
        Some(w) => {
            let mut c = Command::new(w[0]);
            c.args(&w[1..]).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.arg("probe")
        .arg(dir.join("targets.txt"))
        .arg("--out")
        .arg(&out)
        .args(["--port", &farm.port.to_string()])
        .arg("--roots")
        .arg(dir.join("ca.pem"))
        .args(["--progress", "off", "--rate-per-ip", "50"])
        .args(extra)
        .arg("--allow-private")
        .env("MXINFER_LOOPBACK_ONLY", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let t0 = Instant::now();
    let o = cmd.output().expect("running mxinfer");
    let wall = t0.elapsed();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        !stderr.contains("panicked"),
        "the prober panicked: {stderr}"
    );
    let lines = std::fs::read_to_string(&out)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    (lines, wall, stderr, o.status)
}

fn parse(line: &str) -> HostProbe {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("schema: {e}\n{line}"))
}

/// Bounded record: size, lines per reply, characters per line.
fn assert_bounded(line: &str, rec: &HostProbe) {
    assert!(
        line.len() <= MAX_RECORD_BYTES,
        "record of {} bytes",
        line.len()
    );
    let replies = [&rec.banner, &rec.ehlo, &rec.starttls, &rec.quit];
    for r in replies.into_iter().flatten() {
        assert!(r.lines.len() <= 100, "{} lines", r.lines.len());
        for l in &r.lines {
            assert!(
                l.chars().count() <= 2048,
                "line of {} chars",
                l.chars().count()
            );
            assert!(!l.contains('\0'), "NUL kept in {l:?}");
        }
    }
}

struct Hostile {
    rec: HostProbe,
    farm: Farm,
    ip: IpAddr,
}

/// One persona on one address, probed with the deadlines above; checks the common
/// properties (deadline, bounded record, no forbidden command, exit 0).
fn hostile(persona: &str) -> Hostile {
    let _shared = MACHINE.read().unwrap_or_else(|e| e.into_inner());
    let ip = common::loopback_addr();
    let farm = start_farm(vec![(ip, builtin(persona).unwrap(), Duration::ZERO)], true);
    let dir = tempfile::tempdir().unwrap();
    let (lines, wall, stderr, status) = run_probe(
        &farm,
        dir.path(),
        &format!("{ip},{persona}.farm.test\n"),
        &[
            "--connect-timeout",
            "1",
            "--step-timeout",
            &STEP_S.to_string(),
            "--session-timeout",
            &SESSION_S.to_string(),
        ],
        None,
    );
    assert!(status.success(), "{stderr}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let rec = parse(&lines[0]);
    assert_eq!(rec.ip, ip.to_string());
    assert_bounded(&lines[0], &rec);
    let limit = Duration::from_secs_f64(SESSION_S + 1.0);
    assert!(
        Duration::from_millis(rec.duration_ms) <= limit,
        "{persona}: {} ms",
        rec.duration_ms
    );
    assert!(wall <= limit, "{persona}: the run took {wall:?}");
    assert_eq!(farm.forbidden_commands(), 0);
    Hostile { rec, farm, ip }
}

#[test]
fn tarpit_is_a_banner_timeout_at_the_step_deadline() {
    let h = hostile("tarpit");
    assert_eq!(h.rec.status, "banner-timeout");
    assert_eq!(h.rec.step.as_deref(), Some("banner"));
    assert!(h.rec.duration_ms < 1900, "{}", h.rec.duration_ms);
    assert!(h.rec.banner.is_none());
}

#[test]
fn one_byte_per_second_forever_cannot_stretch_the_step() {
    let h = hostile("drip-slow");
    assert_eq!(h.rec.status, "banner-timeout");
    assert_eq!(h.rec.step.as_deref(), Some("banner"));
    assert!(h.rec.duration_ms < 1900, "{}", h.rec.duration_ms);
}

#[test]
fn fast_drip_of_an_endless_greeting_hits_a_bound_or_the_deadline() {
    let h = hostile("drip-feed");
    // 10 bytes a second: the step deadline comes before any byte bound.
    assert_eq!(h.rec.status, "banner-timeout");
    assert_eq!(h.rec.step.as_deref(), Some("banner"));
}

#[test]
fn endless_line_is_cut_at_the_line_bound() {
    let h = hostile("endless-line");
    assert_eq!(h.rec.status, "reply-too-large");
    assert_eq!(h.rec.step.as_deref(), Some("banner"));
    assert!(h.rec.error.as_deref().unwrap().contains("line length"));
}

#[test]
fn ten_thousand_line_ehlo_is_cut_at_the_line_count_bound() {
    let h = hostile("ehlo-10000-lines");
    assert_eq!(h.rec.status, "reply-too-large");
    assert_eq!(h.rec.step.as_deref(), Some("ehlo"));
    assert_eq!(h.rec.banner.as_ref().unwrap().code, 220);
    let e = h.rec.error.as_deref().unwrap();
    assert!(e.contains("reply too large"), "{e}");
    // The lines read before the bound are kept, within the bound.
    let ehlo = h.rec.ehlo.as_ref().unwrap();
    assert!(!ehlo.lines.is_empty() && ehlo.lines.len() <= 100);
    assert!(h.rec.tls.is_none());
}

#[test]
fn nul_bytes_and_invalid_utf8_are_replaced_not_fatal() {
    let h = hostile("nul-invalid-utf8");
    assert_eq!(h.rec.status, "ok", "{:?}", h.rec.error);
    let b = &h.rec.banner.as_ref().unwrap().lines[0];
    assert!(b.starts_with("220 nul-invalid-utf8.farm.test ESMTP"), "{b}");
    assert!(b.contains('\u{FFFD}'), "{b:?}");
    let e = h.rec.ehlo.as_ref().unwrap();
    assert!(
        e.lines
            .iter()
            .any(|l| l.starts_with("250-X-ODD") && l.contains('\u{FFFD}')),
        "{e:?}"
    );
    assert!(h.rec.capabilities.contains(&"STARTTLS".to_string()));
    assert!(h.rec.tls.as_ref().unwrap().established);
}

#[test]
fn binary_greeting_is_a_protocol_error() {
    let h = hostile("garbage");
    assert_eq!(h.rec.status, "protocol-error");
    assert_eq!(h.rec.step.as_deref(), Some("banner"));
}

#[test]
fn garbage_after_starttls_fails_the_handshake_and_keeps_the_plaintext_evidence() {
    let h = hostile("starttls-garbage");
    assert_eq!(h.rec.status, "tls-failed", "{:?}", h.rec.error);
    assert_eq!(h.rec.step.as_deref(), Some("tls"));
    assert!(h.rec.banner.is_some() && h.rec.ehlo.is_some());
    assert_eq!(h.rec.starttls.as_ref().unwrap().code, 220);
    let t = h.rec.tls.as_ref().unwrap();
    assert!(!t.established && t.chain.is_empty());
    assert!(t.error.is_some());
}

#[test]
fn reset_mid_handshake_is_a_reset_at_the_tls_step() {
    let h = hostile("reset-mid-handshake");
    assert_eq!(h.rec.status, "reset", "{:?}", h.rec.error);
    assert_eq!(h.rec.step.as_deref(), Some("tls"));
    assert!(h.rec.banner.is_some() && h.rec.ehlo.is_some());
    assert!(!h.rec.tls.as_ref().unwrap().established);
}

#[test]
fn reset_after_the_greeting_keeps_the_greeting() {
    let h = hostile("reset-after-banner");
    assert_eq!(h.rec.status, "reset");
    assert_eq!(h.rec.step.as_deref(), Some("ehlo"));
    assert_eq!(h.rec.banner.as_ref().unwrap().code, 220);
}

#[test]
fn half_close_after_the_greeting_ends_at_once() {
    let h = hostile("half-close");
    assert_eq!(h.rec.status, "protocol-error");
    assert_eq!(h.rec.step.as_deref(), Some("ehlo"));
    assert_eq!(
        h.rec.error.as_deref(),
        Some("connection closed by the server")
    );
    assert_eq!(h.rec.banner.as_ref().unwrap().code, 220);
    // No deadline was needed: the FIN ends the session.
    assert!(h.rec.duration_ms < 900, "{}", h.rec.duration_ms);
    // The server saw our EHLO before its read side closed.
    let cmds: Vec<String> = h
        .farm
        .commands()
        .into_iter()
        .filter(|c| c.addr == h.ip)
        .map(|c| c.line)
        .collect();
    assert!(
        cmds.iter().all(|c| c.starts_with("EHLO") || c == "QUIT"),
        "{cmds:?}"
    );
}

#[test]
fn greeting_421_then_close_is_banner_rejected() {
    let h = hostile("greeting-421");
    assert_eq!(h.rec.status, "banner-rejected");
    assert_eq!(h.rec.step.as_deref(), Some("banner"));
    let b = h.rec.banner.as_ref().unwrap();
    assert_eq!(b.code, 421);
    assert!(h.rec.ehlo.is_none());
    assert!(h.rec.duration_ms < 900, "{}", h.rec.duration_ms);
}

#[test]
fn handshake_that_never_starts_is_a_step_timeout() {
    let h = hostile("starttls-stall");
    assert_eq!(h.rec.status, "step-timeout");
    assert_eq!(h.rec.step.as_deref(), Some("tls"));
    assert!(h.rec.ehlo.is_some());
}

#[test]
fn handshake_stalled_inside_a_record_is_a_step_timeout() {
    let h = hostile("tls-stall-mid-handshake");
    assert_eq!(h.rec.status, "step-timeout", "{:?}", h.rec.error);
    assert_eq!(h.rec.step.as_deref(), Some("tls"));
    assert!(h.rec.ehlo.is_some());
    assert!(!h.rec.tls.as_ref().unwrap().established);
}

/// Peak RSS (kB) allowed for the prober over 10,000 hostile targets at concurrency 1,000
/// (about 60 MB measured, debug build).
const MAX_RSS_KB: u64 = 200 * 1024;

#[test]
fn ten_thousand_hostile_targets_one_record_each_bounded_memory() {
    let _alone = MACHINE.write().unwrap_or_else(|e| e.into_inner());
    let time = common::require("time", "time");
    let names = [
        "tarpit",
        "drip-slow",
        "drip-feed",
        "endless-line",
        "ehlo-10000-lines",
        "nul-invalid-utf8",
        "garbage",
        "starttls-garbage",
        "reset-after-banner",
        "reset-mid-handshake",
        "half-close",
        "greeting-421",
        "starttls-stall",
        "tls-stall-mid-handshake",
        "normal",
    ];
    let personas: Vec<Persona> = names.iter().map(|n| builtin(n).unwrap()).collect();
    // 10,000 addresses of their own: 127.(200 + pid % 50).0.1 onward (the other tests use
    // 127.100-199.x.x).
    let base = u32::from(Ipv4Addr::new(
        127,
        200 + (std::process::id() % 50) as u8,
        0,
        1,
    ));
    let n = 10_000u32;
    let hosts: Vec<(IpAddr, Persona, Duration)> = (0..n)
        .map(|i| {
            (
                IpAddr::V4(Ipv4Addr::from(base + i)),
                personas[i as usize % personas.len()].clone(),
                Duration::ZERO,
            )
        })
        .collect();
    let targets: String = hosts
        .iter()
        .map(|(ip, p, _)| format!("{ip},{}\n", p.host_name()))
        .collect();
    let expected: HashMap<String, String> = hosts
        .iter()
        .map(|(ip, p, _)| (ip.to_string(), p.name.clone()))
        .collect();
    // One listening socket per address in this process (the soft limit may be 1024).
    mxinfer_core::util::ensure_open_files(n as u64 + 2048, "the 10,000-address farm").unwrap();
    let farm = start_farm(hosts, false);
    let dir = tempfile::tempdir().unwrap();
    let time_out = dir.path().join("rss.txt");
    let time_out_s = time_out.to_str().unwrap().to_string();
    let wrapper = [
        time.to_str().unwrap(),
        "-f",
        "%M",
        "-o",
        time_out_s.as_str(),
    ];
    let (lines, wall, stderr, status) = run_probe(
        &farm,
        dir.path(),
        &targets,
        // 500 sessions at once keep the debug-build prober below saturation on two cores:
        // saturated, a session whose deadline has passed waits in the run queue behind the
        // others, and that queueing (not the prober's deadline) would be what the bound
        // below measures.
        &[
            "--concurrency",
            "500",
            "--connect-timeout",
            "1",
            "--step-timeout",
            "0.5",
            "--session-timeout",
            "1",
        ],
        Some(&wrapper),
    );
    assert!(status.success(), "{stderr}");
    // Every target exactly once.
    assert_eq!(lines.len(), n as usize);
    let mut seen: HashMap<String, HostProbe> = HashMap::new();
    for l in &lines {
        let r = parse(l);
        assert_bounded(l, &r);
        // The session deadline (1 s) plus 1 s, for every session of the mix. (It was 3 s
        // while each legacy retry built an OpenSSL context of its own: see legacy.rs.)
        assert!(r.duration_ms <= 2000, "{} took {} ms", r.ip, r.duration_ms);
        assert!(expected.contains_key(&r.ip), "unknown address {}", r.ip);
        let ip = r.ip.clone();
        assert!(seen.insert(ip.clone(), r).is_none(), "{ip} twice");
    }
    assert_eq!(seen.len(), n as usize);
    eprintln!(
        "longest session: {} ms (deadline 1,000 ms; 2,000 ms allowed)",
        seen.values().map(|r| r.duration_ms).max().unwrap_or(0)
    );
    // Statuses by persona: every one of a persona's targets ends the same way, except the
    // ones that may meet the deadline at slightly different points under load.
    let mut by_persona: HashMap<&str, HashMap<String, usize>> = HashMap::new();
    for (ip, r) in &seen {
        *by_persona
            .entry(expected[ip].as_str())
            .or_default()
            .entry(r.status.clone())
            .or_default() += 1;
    }
    // Under load (a busy machine, the farm in this test process) any session may run into
    // its deadline; every other outcome must be the persona's own, and seen at least once.
    let timeouts = ["banner-timeout", "step-timeout", "session-timeout"];
    let must = |p: &str, own: &str| {
        let got = &by_persona[p];
        assert!(
            got.keys()
                .all(|s| s == own || timeouts.contains(&s.as_str())),
            "{p}: {got:?}"
        );
        assert!(own.is_empty() || got.contains_key(own), "{p}: {got:?}");
    };
    must("tarpit", "");
    must("drip-slow", "");
    must("greeting-421", "banner-rejected");
    must("garbage", "protocol-error");
    must("endless-line", "reply-too-large");
    must("ehlo-10000-lines", "reply-too-large");
    must("half-close", "protocol-error");
    must("reset-after-banner", "reset");
    assert!(farm.connection_count() >= (n as usize) * 9 / 10);
    assert_eq!(farm.forbidden_commands(), 0);
    let rss_kb: u64 = std::fs::read_to_string(&time_out)
        .unwrap()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("GNU time's %M");
    eprintln!("10,000 hostile targets: {wall:?}, peak RSS {rss_kb} kB, {by_persona:?}");
    assert!(
        rss_kb <= MAX_RSS_KB,
        "peak RSS {rss_kb} kB over the bound {MAX_RSS_KB} kB"
    );
}
