//! IPv6-only exchangers, probed for real: a network namespace of the test's own with only
//! `lo` up and the world's IPv6-only exchanger addresses (fd00:6d78::/32) on it, the world
//! served inside it (`sim serve --ipv6`), and `mxinfer run --ipv6` inside it. Nothing can
//! leave the namespace: it has no other interface.
//!
//! Needs root and iproute2 (`.ci/run` runs as root and installs it); without them the test
//! fails with what is missing, it never passes silently.

#[path = "../common/mod.rs"]
mod common;

use common::{read_jsonl, require};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A network namespace, deleted on drop (with the processes started in it killed first).
struct Netns {
    name: String,
    children: Vec<Child>,
}

impl Netns {
    fn new(ip: &Path) -> Netns {
        let name = format!("mxinfer-t{}", std::process::id());
        let _ = Command::new(ip).args(["netns", "del", &name]).output();
        let o = Command::new(ip)
            .args(["netns", "add", &name])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "ip netns add (this test needs root): {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let ns = Netns {
            name,
            children: Vec::new(),
        };
        ns.ip(ip, &["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NAME ARGS…`, which must succeed.
    fn ip(&self, ip: &Path, args: &[&str]) {
        let o = Command::new(ip)
            .args(["-n", &self.name])
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "ip -n {} {args:?}: {}",
            self.name,
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// A command run inside the namespace.
    fn command(&self, ip: &Path, program: &str) -> Command {
        let mut c = Command::new(ip);
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

#[test]
fn ipv6_only_exchangers_are_probed_inside_a_network_namespace() {
    let ip = require("ip", "iproute2");
    let bin = env!("CARGO_BIN_EXE_mxinfer");
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w");
    let o = Command::new(bin)
        .args(["sim", "world", "--domains", "1500", "--seed", "9", "--out"])
        .arg(&w)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let truth = read_jsonl(&w.join("truth.jsonl"));
    let mut list = String::new();
    let mut v6_domains = BTreeSet::new();
    for t in &truth {
        let d = t["domain"].as_str().unwrap();
        list.push_str(d);
        list.push('\n');
        if t["classes"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x == "ipv6-only"))
        {
            v6_domains.insert(d.to_string());
        }
    }
    std::fs::write(w.join("domains.txt"), list).unwrap();
    assert!(
        v6_domains.len() >= 10,
        "{} ipv6-only domains",
        v6_domains.len()
    );
    let personas: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.join("personas.json")).unwrap()).unwrap();
    let v6_addrs: BTreeSet<String> = personas
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["addr"].as_str())
        .filter(|a| a.starts_with("fd00:6d78:"))
        .map(str::to_string)
        .collect();
    assert!(v6_addrs.len() >= v6_domains.len());

    let mut ns = Netns::new(&ip);
    // The exchangers' addresses on the namespace's lo (no duplicate detection on lo).
    let batch = dir.path().join("addrs.batch");
    let mut lines = String::new();
    for a in &v6_addrs {
        lines.push_str(&format!("addr add {a}/128 dev lo nodad\n"));
    }
    std::fs::write(&batch, lines).unwrap();
    ns.ip(&ip, &["-batch", batch.to_str().unwrap()]);

    // The world inside the namespace: DNS on its own 127.0.0.1, the farm on loopback and on
    // the IPv6 addresses.
    let mut serve = ns
        .command(&ip, bin)
        .args(["sim", "serve"])
        .arg(&w)
        .args(["--dns", "127.0.0.1:53", "--port", "25", "--ipv6"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = serve.stderr.take().unwrap();
    ns.children.push(serve);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let t0 = Instant::now();
    let mut started = String::new();
    while t0.elapsed() < Duration::from_secs(60) {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            if l.contains("SMTP farm") {
                started = l;
                break;
            }
            assert!(!l.contains("error"), "sim serve: {l}");
        }
    }
    assert!(
        !started.is_empty(),
        "sim serve did not start in the namespace"
    );

    let out = dir.path().join("out");
    let o = ns
        .command(&ip, bin)
        .arg("run")
        .arg(w.join("domains.txt"))
        .arg("--out")
        .arg(&out)
        .args(["--nameserver", "127.0.0.1:53", "--port", "25", "--ipv6"])
        .args(["--allow-private", "127.0.0.0/8", "fd00:6d78::/32"])
        .arg("--roots")
        .arg(w.join("ca.pem"))
        .arg("--pfx2as")
        .arg(w.join("pfx2as.txt"))
        .arg("--psl")
        .arg(w.join("psl.dat"))
        .arg("--truth")
        .arg(w.join("truth.jsonl"))
        .args(["--step-timeout", "3", "--progress", "off"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "run in the namespace: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    // Every IPv6-only exchanger was probed over IPv6: a whole dialogue with STARTTLS and a
    // chain trusted under the world's root.
    let probes = read_jsonl(&out.join("probes.jsonl"));
    let mut seen = BTreeSet::new();
    for p in &probes {
        let a = p["ip"].as_str().unwrap();
        if !a.starts_with("fd00:6d78:") {
            continue;
        }
        seen.insert(a.to_string());
        assert_eq!(p["status"], "ok", "{p}");
        assert!(p["banner"].to_string().contains("ESMTP"), "{p}");
        assert_eq!(p["tls"]["established"], true, "{p}");
        assert_eq!(p["tls"]["verdict"]["trusted"], true, "{p}");
        assert_eq!(p["tls"]["verdict"]["name_match"], true, "{p}");
    }
    assert!(probes.iter().all(|p| p["status"] != "skipped-ipv6"));
    let used: BTreeSet<String> = read_jsonl(&out.join("dns.jsonl"))
        .iter()
        .flat_map(|r| {
            r["exchangers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .flat_map(|x| x["addresses"].as_array().cloned().unwrap_or_default())
                .filter_map(|a| a["ip"].as_str().map(str::to_string))
                .filter(|a| a.starts_with("fd00:6d78:"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(seen, used);
    assert!(seen.len() >= v6_domains.len());

    // Their domains are labelled from the certificate, and correctly.
    for l in read_jsonl(&out.join("labels.jsonl")) {
        let d = l["domain"].as_str().unwrap();
        if !v6_domains.contains(d) {
            continue;
        }
        assert_eq!(l["status"], "labelled", "{l}");
        let ex = &l["approaches"]["priority"]["exchangers"][0];
        assert_eq!(ex["source"], "certificate", "{l}");
        assert_eq!(ex["id"], d, "{l}");
    }
    let e: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval.json")).unwrap()).unwrap();
    let class = e["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == "ipv6-only")
        .unwrap();
    let prio = class["approaches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["approach"] == "priority")
        .unwrap();
    assert_eq!(prio["accuracy"], 1.0, "{class}");
}
