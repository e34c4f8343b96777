//! `mxinfer run` against simulated worlds served on loopback: the outputs and run.json, the
//! accuracy targets of issue 5 on a 10,000-domain world, the same labels whether the world's
//! zone is served in-process or by NSD, and resume after `kill -9` at random points.

#[path = "../common/mod.rs"]
mod common;

use common::{read_jsonl, start_nsd};
use mxinfer_sim::dns::DnsServer;
use mxinfer_sim::farm::Farm;
use mxinfer_sim::world::ServeSettings;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The tests of this file each run whole pipelines with hundreds of concurrent sessions; run
/// side by side on two cores, the farm's answers would be late enough to hit the step
/// timeouts and differ from run to run. One at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A world with its domain list (`domains.txt`, the truth's domains).
fn world(dir: &Path, n: u64, seed: u64) {
    common::sim_world(dir, n, seed);
    let mut list = String::new();
    for t in read_jsonl(&dir.join("truth.jsonl")) {
        list.push_str(t["domain"].as_str().unwrap());
        list.push('\n');
    }
    std::fs::write(dir.join("domains.txt"), list).unwrap();
}

/// The world's zone on a free 127.0.0.1 port and its personas on a free port.
fn serve(dir: &Path, command_log: Option<PathBuf>) -> (DnsServer, Farm) {
    let (dns, farm, _) = mxinfer_sim::world::serve(&ServeSettings {
        dir: dir.to_path_buf(),
        dns: "127.0.0.1:0".parse().unwrap(),
        no_farm: false,
        port: 0,
        command_log,
        no_dns: false,
        shard: None,
        ipv6: false,
        threads: 2,
        keep_log: true,
    })
    .unwrap();
    (dns.unwrap(), farm.unwrap())
}

/// The arguments of `mxinfer run` over the world in `w` into `out`.
fn run_args(w: &Path, out: &Path, ns: &str, port: u16) -> Vec<String> {
    let p = |f: &str| w.join(f).to_str().unwrap().to_string();
    [
        "run",
        &p("domains.txt"),
        "--out",
        out.to_str().unwrap(),
        "--nameserver",
        ns,
        "--timeout",
        "2",
        "--port",
        &port.to_string(),
        "--roots",
        &p("ca.pem"),
        "--allow-private",
        "127.0.0.0/8",
        "--step-timeout",
        "2",
        "--pfx2as",
        &p("pfx2as.txt"),
        "--psl",
        &p("psl.dat"),
        "--truth",
        &p("truth.jsonl"),
        "--progress",
        "off",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run(args: &[String]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_mxinfer"))
        .args(args)
        .env("MXINFER_LOOPBACK_ONLY", "1")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "mxinfer {args:?}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn sorted_lines(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// Each domain's count in a JSON Lines file.
fn domain_counts(p: &Path) -> BTreeMap<String, u32> {
    let mut m = BTreeMap::new();
    for r in read_jsonl(p) {
        *m.entry(r["domain"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    m
}

fn domains_of(w: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(w.join("domains.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The accuracy of each approach in eval.json.
fn accuracy(out: &Path) -> HashMap<String, f64> {
    let e: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval.json")).unwrap()).unwrap();
    e["approaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["approach"].as_str().unwrap().to_string(),
                a["accuracy"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn run_writes_every_output_once_per_domain_and_a_complete_run_json() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w");
    world(&w, 400, 3);
    let (dns, farm) = serve(&w, None);
    let out = dir.path().join("out");
    let args = run_args(&w, &out, &dns.addr.to_string(), farm.port);
    let o = run(&args);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("400 domains, "), "{stdout}");
    assert!(stdout.contains("accuracy "), "{stdout}");

    for f in [
        "dns.jsonl",
        "dns.jsonl.meta.json",
        "probes.jsonl",
        "probes.jsonl.meta.json",
        "labels.jsonl",
        "labels.jsonl.meta.json",
        "claims.jsonl",
        "report.md",
        "report.json",
        "report.html",
        "eval.md",
        "eval.json",
        "run.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let all = domains_of(&w);
    for f in ["dns.jsonl", "labels.jsonl"] {
        let c = domain_counts(&out.join(f));
        assert_eq!(c.keys().cloned().collect::<BTreeSet<_>>(), all, "{f}");
        assert!(c.values().all(|&n| n == 1), "{f}: a domain twice");
    }

    // Every address of the resolve output is probed once, and its record names every
    // exchanger that led to it (as the standalone probe stage writes them).
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in read_jsonl(&out.join("dns.jsonl")) {
        for x in r["exchangers"].as_array().into_iter().flatten() {
            for a in x["addresses"].as_array().into_iter().flatten() {
                names
                    .entry(a["ip"].as_str().unwrap().to_string())
                    .or_default()
                    .insert(x["name"].as_str().unwrap().to_string());
            }
        }
    }
    let probes = read_jsonl(&out.join("probes.jsonl"));
    assert_eq!(probes.len(), names.len());
    for p in &probes {
        let ip = p["ip"].as_str().unwrap();
        let got: BTreeSet<String> = p["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect();
        assert_eq!(Some(&got), names.get(ip), "{ip}");
        let ipa: std::net::IpAddr = ip.parse().unwrap();
        assert!(ipa.is_loopback() || p["status"] == "skipped-ipv6", "{p}");
    }
    // Shared addresses really are shared (the merge is exercised).
    assert!(names.values().any(|n| n.len() > 1));

    // run.json: the command, the data files with their SHA-256, counts per status per stage.
    let rj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(rj["command"], "run");
    assert_eq!(rj["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(rj["resumed"], false);
    assert_eq!(rj["interrupted"], false);
    assert_eq!(rj["input_counts"]["accepted"], 400);
    assert_eq!(rj["args"][1], "run");
    let files = rj["data_files"].as_array().unwrap();
    let psl = files.iter().find(|f| f["name"] == "--psl").unwrap();
    let bytes = std::fs::read(w.join("psl.dat")).unwrap();
    use sha2::Digest;
    assert_eq!(
        psl["sha256"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(&bytes))
    );
    assert!(psl["date"].is_string());
    let companies = files
        .iter()
        .find(|f| f["name"] == "companies.toml")
        .unwrap();
    assert_eq!(companies["source"], "embedded");
    assert_eq!(
        companies["sha256"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(
            mxinfer_label::data::EMBEDDED_COMPANIES.as_bytes()
        ))
    );
    assert!(companies["date"].is_string());
    for stage in ["resolve", "probe", "label"] {
        let s = &rj["stages"][stage];
        let sum: u64 = s["status_counts"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(sum, s["records"].as_u64().unwrap(), "{stage}");
        assert!(s["duration_s"].as_f64().unwrap() >= 0.0);
    }
    assert_eq!(rj["stages"]["resolve"]["records"], 400);
    assert_eq!(rj["stages"]["probe"]["records"], names.len());
    assert_eq!(rj["stages"]["label"]["records"], 400);

    // The report: an SVG chart, no scripts.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("<script"));

    // A directory that holds a run is not overwritten without --resume.
    let o = Command::new(env!("CARGO_BIN_EXE_mxinfer"))
        .args(&args)
        .env("MXINFER_LOOPBACK_ONLY", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--resume"));
}

#[test]
fn run_on_a_10k_world_meets_the_accuracy_targets_and_nsd_gives_the_same_labels() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w");
    world(&w, 10_000, 11);
    let (dns, farm) = serve(&w, None);

    // Timeouts far above loopback latency, so that a busy machine does not turn a late
    // answer into a different record between the two runs (the silent servers of the world
    // then cost 10 s once, all in parallel).
    let slow = |mut v: Vec<String>| {
        for (flag, val) in [("--timeout", "5"), ("--step-timeout", "10")] {
            let i = v.iter().position(|x| x == flag).unwrap();
            v[i + 1] = val.to_string();
        }
        v
    };
    // In-process DNS.
    let a = dir.path().join("a");
    run(&slow(run_args(&w, &a, &dns.addr.to_string(), farm.port)));
    let acc = accuracy(&a);
    let (mx, cert, banner, prio) = (
        acc["mx-only"],
        acc["certificate"],
        acc["banner"],
        acc["priority"],
    );
    assert!(prio >= 0.995, "priority {prio} < 99.5%: {acc:?}");
    // The paper's ordering: MX-only lowest, priority highest.
    assert!(mx < cert && mx < banner && mx < prio, "{acc:?}");
    assert!(prio >= cert && prio >= banner, "{acc:?}");
    // Every hard class is in the world, each at least 1%.
    let e: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("eval.json")).unwrap()).unwrap();
    let classes = e["classes"].as_array().unwrap();
    assert!(classes.len() >= 15, "{classes:?}");
    for c in classes {
        assert!(c["domains"].as_u64().unwrap() >= 100, "{c}");
    }

    // The same world's zone loaded into NSD: the same labels, byte for byte.
    let zone = std::fs::read_to_string(w.join("world.zone")).unwrap();
    let nsd = start_nsd(&[(".", zone)]);
    let b = dir.path().join("b");
    run(&slow(run_args(&w, &b, &nsd.ns(), farm.port)));
    let (la, lb) = (
        sorted_lines(&a.join("labels.jsonl")),
        sorted_lines(&b.join("labels.jsonl")),
    );
    assert_eq!(la.len(), 10_000);
    if la != lb {
        // Say whether DNS or probing differed.
        let status = |d: &Path| -> BTreeMap<String, String> {
            read_jsonl(&d.join("probes.jsonl"))
                .into_iter()
                .map(|r| {
                    (
                        r["ip"].as_str().unwrap().to_string(),
                        format!("{} {}", r["status"], r["error"]),
                    )
                })
                .collect()
        };
        let (pa, pb) = (status(&a), status(&b));
        let probe_diff: Vec<_> = pa
            .iter()
            .filter(|(k, v)| pb.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: {v} / {:?}", pb.get(k)))
            .take(5)
            .collect();
        let dns = |d: &Path| -> BTreeMap<String, serde_json::Value> {
            read_jsonl(&d.join("dns.jsonl"))
                .into_iter()
                .map(|mut r| {
                    r.as_object_mut().unwrap().remove("resolved_at");
                    (r["domain"].as_str().unwrap().to_string(), r)
                })
                .collect()
        };
        let (da, db) = (dns(&a), dns(&b));
        let dns_diff: Vec<_> = da
            .iter()
            .filter(|(k, v)| db.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: {v} / {:?}", db.get(k)))
            .take(3)
            .collect();
        let n = la.iter().zip(&lb).filter(|(x, y)| x != y).count();
        panic!(
            "{n} labels differ between in-process DNS and NSD;\nresolve records differing: {dns_diff:#?}\nprobe records differing: {probe_diff:#?}"
        );
    }
}

/// Addresses that received an EHLO, from a farm command log (`ADDR\tCOMMAND` lines).
fn ehlo_addresses(log: &Path) -> BTreeMap<String, u32> {
    let mut m = BTreeMap::new();
    for l in std::fs::read_to_string(log).unwrap_or_default().lines() {
        if let Some((addr, cmd)) = l.split_once('\t')
            && cmd.to_ascii_uppercase().starts_with("EHLO")
        {
            *m.entry(addr.to_string()).or_default() += 1;
        }
    }
    m
}

/// Scheduling slack beside the flush window: the prober reads QUIT's reply and its writer
/// loop runs after the farm logged the command (a loaded two-core machine, debug build).
const KILL_MARGIN: Duration = Duration::from_millis(400);

#[test]
fn resume_after_kill_9_at_random_points_gives_each_domain_once_and_reprobes_nothing() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w");
    world(&w, 1500, 5);
    let all = domains_of(&w);
    // Kill points from a fixed seed, spread over the run (early resolve to after labels).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut points = Vec::new();
    for _ in 0..4 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        points.push(50 + x % 2500);
    }
    for (i, ms) in points.into_iter().enumerate() {
        let out = dir.path().join(format!("out{i}"));
        let log1 = dir.path().join(format!("log{i}-1.txt"));
        let log2 = dir.path().join(format!("log{i}-2.txt"));
        // The addresses whose session ended (QUIT received by the farm) long enough before
        // the kill that their records must be in the file: the flush window, and a margin
        // for the prober to read the reply and its loop to run under a loaded machine.
        let must_be_kept: BTreeSet<String>;
        {
            let (dns, farm) = serve(&w, Some(log1.clone()));
            let args = run_args(&w, &out, &dns.addr.to_string(), farm.port);
            let mut child = Command::new(env!("CARGO_BIN_EXE_mxinfer"))
                .args(&args)
                .env("MXINFER_LOOPBACK_ONLY", "1")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(ms));
            let killed_at = std::time::Instant::now();
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            let before = killed_at - mxinfer_core::pipeline::FLUSH_WINDOW - KILL_MARGIN;
            must_be_kept = farm
                .commands()
                .into_iter()
                .filter(|c| c.line.eq_ignore_ascii_case("QUIT") && c.at < before)
                .map(|c| c.addr.to_string())
                .collect();
        }
        // What the killed run left: whole probe records of these addresses.
        let kept_records: Vec<serde_json::Value> =
            std::fs::read_to_string(out.join("probes.jsonl"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .collect();
        let kept: BTreeSet<String> = kept_records
            .iter()
            .map(|r| r["ip"].as_str().unwrap().to_string())
            .collect();
        let lost: Vec<&String> = must_be_kept.difference(&kept).collect();
        assert!(
            lost.is_empty(),
            "kill at {ms} ms: {} of {} sessions that ended before the flush window have no \
             record: {:?}",
            lost.len(),
            must_be_kept.len(),
            &lost[..lost.len().min(5)]
        );
        {
            let (dns, farm) = serve(&w, Some(log2.clone()));
            let mut args = run_args(&w, &out, &dns.addr.to_string(), farm.port);
            args.push("--resume".into());
            run(&args);
        }
        for f in ["dns.jsonl", "labels.jsonl"] {
            let c = domain_counts(&out.join(f));
            assert_eq!(
                c.keys().cloned().collect::<BTreeSet<_>>(),
                all,
                "kill at {ms} ms: {f}"
            );
            assert!(c.values().all(|&n| n == 1), "kill at {ms} ms: {f}");
        }
        let probes = read_jsonl(&out.join("probes.jsonl"));
        let ips: BTreeSet<String> = probes
            .iter()
            .map(|r| r["ip"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ips.len(), probes.len(), "kill at {ms} ms: an address twice");
        let again = ehlo_addresses(&log2);
        let reprobed: Vec<&String> = kept.iter().filter(|ip| again.contains_key(*ip)).collect();
        assert!(
            reprobed.is_empty(),
            "kill at {ms} ms: {} addresses probed again after resume: {:?}",
            reprobed.len(),
            &reprobed[..reprobed.len().min(5)]
        );
        let rj: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
        assert_eq!(rj["resumed"], true);
        assert_eq!(rj["kept"]["addresses"], kept.len());
        // The kept records are real: each completed dialogue of the killed run is in its
        // farm's log.
        let first = ehlo_addresses(&log1);
        for r in kept_records.iter().filter(|r| r["status"] == "ok") {
            assert!(first.contains_key(r["ip"].as_str().unwrap()), "{r}");
        }
    }
}

#[test]
fn ctrl_c_ends_a_run_with_exit_code_4_and_resume_completes_it() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w");
    world(&w, 3000, 8);
    let (dns, farm) = serve(&w, None);
    let out = dir.path().join("out");
    let args = run_args(&w, &out, &dns.addr.to_string(), farm.port);
    let child = Command::new(env!("CARGO_BIN_EXE_mxinfer"))
        .args(&args)
        .env("MXINFER_LOOPBACK_ONLY", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the run is under way (its output directory has resolve records).
    let t0 = std::time::Instant::now();
    while std::fs::metadata(out.join("dns.jsonl")).map_or(0, |m| m.len()) == 0
        && t0.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let rj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    eprintln!("run ended with {:?} after the signal", o.status.code());
    if o.status.code() == Some(4) {
        // Interrupted: run.json says so and names the way on.
        assert_eq!(rj["interrupted"], true, "{rj}");
        assert!(stderr.contains("--resume"), "{stderr}");
        assert!(!out.join("labels.jsonl").exists());
    } else {
        // The machine was fast enough to finish before the signal arrived.
        assert_eq!(o.status.code(), Some(0), "{stderr}");
    }
    let mut args = args;
    args.push("--resume".into());
    run(&args);
    let all = domains_of(&w);
    for f in ["dns.jsonl", "labels.jsonl"] {
        let c = domain_counts(&out.join(f));
        assert_eq!(c.keys().cloned().collect::<BTreeSet<_>>(), all, "{f}");
        assert!(c.values().all(|&n| n == 1), "{f}");
    }
    let rj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(rj["interrupted"], false);
    assert_eq!(rj["resumed"], true);
}
