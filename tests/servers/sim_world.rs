//! `mxinfer sim world`: the generated zone loads in NSD and resolves with `mxinfer resolve`;
//! the generated personas start in the farm with the world's CA and answer `mxinfer probe`.

#[path = "../common/mod.rs"]
mod common;

use common::{mxinfer, read_jsonl, start_nsd};
use mxinfer_sim::certs::TestCa;
use mxinfer_sim::farm::{Farm, FarmSpec};
use mxinfer_sim::world::{Truth, load_world_personas, world_seed};
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn world(dir: &Path, n: u64, seed: u64) {
    common::sim_world(dir, n, seed);
}

fn truth(dir: &Path) -> Vec<Truth> {
    std::fs::read_to_string(dir.join("truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn same_seed_gives_identical_files() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    world(a.path(), 3000, 5);
    world(b.path(), 3000, 5);
    for f in [
        "world.zone",
        "personas.json",
        "pfx2as.txt",
        "truth.jsonl",
        "ca.pem",
        "intermediate.pem",
        "world.json",
        "psl.dat",
    ] {
        let x = std::fs::read(a.path().join(f)).unwrap();
        let y = std::fs::read(b.path().join(f)).unwrap();
        assert!(x == y, "{f} differs between two runs with the same seed");
    }
}

#[test]
fn the_zone_loads_in_nsd_and_resolves() {
    common::require("nsd", "nsd");
    let dir = tempfile::tempdir().unwrap();
    world(dir.path(), 400, 11);
    let zone = std::fs::read_to_string(dir.path().join("world.zone")).unwrap();
    let nsd = start_nsd(&[(".", zone)]);
    let t = truth(dir.path());
    let find = |pred: &dyn Fn(&Truth) -> bool| t.iter().find(|x| pred(x)).unwrap().domain.clone();
    let google = find(&|x| {
        x.classes.is_empty() && x.providers.len() == 1 && x.providers[0].id == "google.com"
    });
    let ms = find(&|x| x.classes.is_empty() && x.providers.iter().any(|p| p.id == "outlook.com"));
    let null = find(&|x| x.classes.iter().any(|c| c == "null-mx"));
    let implicit = find(&|x| x.classes.iter().any(|c| c == "implicit-mx"));
    let v6 = find(&|x| x.classes.iter().any(|c| c == "ipv6-only"));
    let list = format!("{google}\n{ms}\n{null}\n{implicit}\n{v6}\n");
    let out = dir.path().join("dns.jsonl");
    let o = mxinfer(
        &[
            "resolve",
            "-",
            "--nameserver",
            &nsd.ns(),
            "--out",
            out.to_str().unwrap(),
            "--timeout",
            "2",
        ],
        Some(list.as_bytes()),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let recs = read_jsonl(&out);
    let by = |d: &str| {
        recs.iter()
            .find(|r| r["domain"] == d)
            .unwrap_or_else(|| panic!("no record for {d}"))
            .to_string()
    };
    let g = by(&google);
    assert!(g.contains("aspmx.l.google.com"), "{g}");
    assert!(g.contains("127.160.0.1"), "{g}");
    let m = by(&ms);
    assert!(m.contains(".mail.protection.outlook.com"), "{m}");
    assert!(m.contains("127.161."), "{m}");
    let n = by(&null);
    assert!(n.contains("null"), "{n}");
    let i = by(&implicit);
    assert!(i.contains("implicit"), "{i}");
    assert!(by(&v6).contains("fd00:6d78::"), "{}", by(&v6));
}

#[test]
fn the_personas_start_in_the_farm_and_answer_the_prober() {
    let dir = tempfile::tempdir().unwrap();
    world(dir.path(), 400, 3);
    let t = truth(dir.path());
    // A Google front-end and the server of a plain self-hosted domain.
    let google: IpAddr = "127.160.0.1".parse().unwrap();
    let all = load_world_personas(dir.path(), None).unwrap();
    let selfp = all
        .iter()
        .find(|p| {
            p.name.starts_with("self-")
                && p.cert == mxinfer_sim::certs::CertKind::Ca
                && p.ehlo.iter().any(|l| l.contains("STARTTLS"))
                && p.addr.is_some_and(|a| a.to_string().starts_with("127.64."))
                && t.iter()
                    .any(|x| x.classes.is_empty() && p.name == format!("self-{}", x.domain))
        })
        .expect("a plain self-hosted persona");
    let self_ip = selfp.addr.unwrap();
    let chosen = load_world_personas(dir.path(), Some(&[google, self_ip])).unwrap();
    assert_eq!(chosen.len(), 2);
    let hosts = chosen
        .into_iter()
        .map(|p| (p.addr.unwrap(), p, Duration::ZERO))
        .collect();
    let ca = TestCa::from_seed(world_seed(dir.path()).unwrap()).unwrap();
    let farm = Farm::start_with_ca(
        FarmSpec {
            port: 0,
            hosts,
            keep_log: true,
            log_file: None,
            threads: 1,
        },
        ca,
    )
    .unwrap();
    let targets = dir.path().join("targets.txt");
    std::fs::write(
        &targets,
        format!(
            "{google},aspmx.l.google.com\n{self_ip},{}\n",
            selfp.cert_names[0]
        ),
    )
    .unwrap();
    let out = dir.path().join("probes.jsonl");
    let o = Command::new(env!("CARGO_BIN_EXE_mxinfer"))
        .args([
            "probe",
            targets.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--port",
            &farm.port.to_string(),
            "--roots",
            dir.path().join("ca.pem").to_str().unwrap(),
            "--ehlo-name",
            "probe.mxinfer-tests.example",
            "--allow-private",
            "--step-timeout",
            "3",
            "--progress",
            "off",
        ])
        .env("MXINFER_LOOPBACK_ONLY", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let recs = read_jsonl(&out);
    assert_eq!(recs.len(), 2);
    for r in &recs {
        let s = r.to_string();
        assert_eq!(r["tls"]["established"], true, "{s}");
        let chain = r["tls"]["chain"].as_array().unwrap();
        assert_eq!(chain.len(), 2, "leaf and the world's intermediate: {s}");
        if r["ip"] == google.to_string() {
            assert!(s.contains("220 mx.google.com ESMTP"), "{s}");
            let san = chain[0]["san_dns"].to_string();
            assert!(san.contains("mx.google.com") && san.contains("*.aspmx.l.google.com"));
        } else {
            assert!(
                chain[0]["san_dns"]
                    .to_string()
                    .contains(&selfp.cert_names[0])
            );
        }
        // The chain verifies against the world's CA root written by the generator, and the
        // leaf names the exchanger.
        assert_eq!(r["tls"]["verdict"]["trusted"], true, "{s}");
        assert_eq!(r["tls"]["verdict"]["name_match"], true, "{s}");
    }
    assert!(
        farm.commands()
            .iter()
            .all(|c| !c.line.starts_with("MAIL") && !c.line.starts_with("RCPT"))
    );
}

fn resolve_all(dir: &Path, ns: &str, tag: &str) -> Vec<serde_json::Value> {
    let domains: String = truth(dir).iter().map(|t| t.domain.clone() + "\n").collect();
    let out = dir.join(format!("dns-{tag}.jsonl"));
    let o = mxinfer(
        &[
            "resolve",
            "-",
            "--nameserver",
            ns,
            "--out",
            out.to_str().unwrap(),
            "--timeout",
            "2",
        ],
        Some(domains.as_bytes()),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut v = read_jsonl(&out);
    for r in &mut v {
        r.as_object_mut().unwrap().remove("resolved_at");
    }
    v.sort_by_key(|r| r["domain"].as_str().unwrap().to_string());
    v
}

#[test]
fn the_in_process_dns_answers_like_nsd() {
    common::require("nsd", "nsd");
    let dir = tempfile::tempdir().unwrap();
    world(dir.path(), 600, 21);
    let zone = std::fs::read_to_string(dir.path().join("world.zone")).unwrap();
    let nsd = start_nsd(&[(".", zone.clone())]);
    let ours = mxinfer_sim::dns::DnsServer::start(
        std::net::SocketAddr::new(common::loopback_addr(), 0),
        mxinfer_sim::dns::ZoneDb::parse(&zone).unwrap(),
    )
    .unwrap();
    let a = resolve_all(dir.path(), &nsd.ns(), "nsd");
    let b = resolve_all(dir.path(), &ours.addr.to_string(), "sim");
    assert_eq!(a.len(), 600);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    let st = |s: &str| a.iter().filter(|r| r["status"] == s).count();
    assert!(
        st("ok") > 400 && st("null-mx") > 0,
        "{:?}",
        (st("ok"), st("null-mx"))
    );
}

/// The world's PSL (moved from the sim crate, which must not link the labeller): its suffixes
/// parse as the labeller reads them.
#[test]
fn the_world_psl_lists_its_suffixes() {
    let psl = mxinfer_label::psl::Psl::parse(&mxinfer_sim::world::psl(), true).unwrap();
    assert_eq!(psl.registered("mail.acme1.test"), Some("acme1.test"));
    assert_eq!(psl.registered("mx.pine2.sim"), Some("pine2.sim"));
    assert_eq!(psl.registered("aspmx.l.google.com"), Some("google.com"));
}
