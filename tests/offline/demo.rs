//! `mxinfer demo`: a 300-domain world served on loopback, the whole pipeline, the share
//! table and the accuracy against the world's truth on stdout.

#[path = "../common/mod.rs"]
mod common;

use common::mxinfer;

/// The percentages of the accuracy row `name` (columns: mx-only, certificate, banner,
/// priority).
fn row(out: &str, name: &str) -> Vec<f64> {
    let line = out
        .lines()
        .find(|l| {
            l.strip_prefix(name).is_some_and(|r| {
                r.starts_with("  ") && r.trim_start().starts_with(char::is_numeric)
            })
        })
        .unwrap_or_else(|| panic!("no accuracy row {name:?} in:\n{out}"));
    let f: Vec<&str> = line[name.len()..].split_whitespace().collect();
    assert_eq!(f.len(), 5, "{line}");
    f[1..]
        .iter()
        .map(|p| {
            p.strip_suffix('%')
                .unwrap_or_else(|| panic!("{p:?} in {line:?}"))
                .parse::<f64>()
                .unwrap()
        })
        .collect()
}

/// Runs `mxinfer demo --domains 300` into `out_dir`; returns stdout.
fn demo(out_dir: &std::path::Path) -> String {
    let o = mxinfer(
        &[
            "demo",
            "--domains",
            "300",
            "--seed",
            "4",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        None,
    );
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

#[test]
fn demo_prints_the_share_table_and_the_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("d");
    let out = demo(&out_dir);
    // The share table.
    assert!(out.contains("300 domains, "), "{out}");
    let header = out
        .lines()
        .find(|l| l.starts_with("company "))
        .expect("share table header");
    assert!(header.contains("share"), "{header}");
    assert!(out.lines().any(|l| l.starts_with("Google ")), "{out}");
    // The accuracy: a header naming the four approaches, then rows of percentages.
    let acc = out
        .lines()
        .find(|l| l.starts_with("accuracy "))
        .expect("accuracy header");
    for a in ["mx-only", "certificate", "banner", "priority"] {
        assert!(acc.contains(a), "{acc}");
    }
    let all = row(&out, "all");
    let by_company = row(&out, "all (by company)");
    let mut classes = 0;
    for l in out
        .lines()
        .skip_while(|l| !l.starts_with("accuracy "))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
    {
        let name = l.split("  ").next().unwrap();
        let v = row(&out, name);
        assert!(v.iter().all(|x| (0.0..=100.0).contains(x)), "{l}");
        classes += 1;
    }
    assert!(classes >= 10, "rows for the hard-case classes:\n{out}");
    assert!(
        all.iter()
            .chain(&by_company)
            .all(|x| (0.0..=100.0).contains(x))
    );
    // The probe stage's metadata records the command line of the run (the demo's own);
    // the prober was held to loopback.
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("probes.jsonl.meta.json")).unwrap(),
    )
    .unwrap();
    let args = meta["args"].to_string();
    assert!(
        args.contains(r#""run","#) && args.contains(r#""--allow-private","127.0.0.0/8""#),
        "{args}"
    );
    for r in common::read_jsonl(&out_dir.join("probes.jsonl")) {
        let ip: std::net::IpAddr = r["ip"].as_str().unwrap().parse().unwrap();
        assert!(
            ip.is_loopback() || r["status"] == "skipped-ipv6",
            "probed outside 127.0.0.0/8: {r}"
        );
    }
    // The files of the run are kept with --out.
    for f in [
        "world.zone",
        "truth.jsonl",
        "dns.jsonl",
        "probes.jsonl",
        "labels.jsonl",
        "claims.jsonl",
        "report.md",
        "report.json",
        "report.html",
        "eval.md",
    ] {
        assert!(out_dir.join(f).exists(), "{f} missing");
    }
}
