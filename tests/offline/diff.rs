//! `mxinfer diff` through the real binary, on two snapshots labelled from the real zdns and
//! zgrab2 output of tests/fixtures/ingest/sim200: the second snapshot is the first with one
//! self-hosted domain moved to Microsoft, one domain gone and one new domain.

#[path = "../common/mod.rs"]
mod common;

use common::mxinfer;
use serde_json::Value;
use std::path::Path;

fn fx(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ingest")
        .join(name)
        .display()
        .to_string()
}

fn ok(args: &[&str]) -> String {
    let o = mxinfer(args, None);
    assert!(
        o.status.success(),
        "mxinfer {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Labels a zdns file against the sim200 zgrab2 evidence; returns the labels path.
fn label(dir: &Path, world: &Path, zdns: &str, tag: &str) -> String {
    let dns = dir.join(format!("{tag}-dns.jsonl"));
    let probes = dir.join(format!("{tag}-probes.jsonl"));
    let labels = dir.join(format!("{tag}-labels.jsonl"));
    ok(&["ingest", "dns", zdns, "--out", &s(&dns)]);
    ok(&[
        "ingest",
        "probes",
        &fx("sim200/zgrab2-smtp.jsonl.gz"),
        "--out",
        &s(&probes),
    ]);
    ok(&[
        "label",
        "--dns",
        &s(&dns),
        "--probes",
        &s(&probes),
        "--pfx2as",
        &s(&world.join("pfx2as.txt")),
        "--psl",
        &s(&world.join("psl.dat")),
        "--out",
        &s(&labels),
    ]);
    s(&labels)
}

fn snapshots(dir: &Path) -> (String, String) {
    let world = dir.join("world");
    ok(&[
        "sim",
        "world",
        "--domains",
        "200",
        "--seed",
        "1",
        "--out",
        &s(&world),
    ]);
    let old_zdns = fx("sim200/zdns-mxlookup.jsonl");
    let text = std::fs::read_to_string(&old_zdns).unwrap();
    let line_of = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{{\"name\":\"{name}\"")))
            .unwrap()
            .to_string()
    };
    let ms = line_of("pine1.example");
    let mut new = String::new();
    for l in text.lines() {
        if l.starts_with("{\"name\":\"orchid7.sim\"") {
            continue; // disappears
        }
        if l.starts_with("{\"name\":\"blue0.test\"") {
            // self-hosted -> Microsoft (pine1.example's MX, hosted by Microsoft)
            new.push_str(&ms.replace("\"name\":\"pine1.example\"", "\"name\":\"blue0.test\""));
        } else {
            new.push_str(l);
        }
        new.push('\n');
    }
    new.push_str(&ms.replace("\"name\":\"pine1.example\"", "\"name\":\"newco.example\""));
    new.push('\n');
    let new_zdns = dir.join("new-zdns.jsonl");
    std::fs::write(&new_zdns, new).unwrap();
    (
        label(dir, &world, &old_zdns, "old"),
        label(dir, &world, &s(&new_zdns), "new"),
    )
}

#[test]
fn diff_finds_the_migration_the_appeared_and_the_disappeared_domain() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = snapshots(dir.path());
    let j: Value = serde_json::from_str(&ok(&["diff", &old, &new, "--format", "json"])).unwrap();
    assert_eq!(j["old_domains"], 200);
    assert_eq!(j["new_domains"], 200);
    assert_eq!(j["common"], 199);
    assert_eq!(j["unchanged"], 198);
    let mig = j["migrations"].as_array().unwrap();
    assert_eq!(mig.len(), 1);
    assert_eq!(mig[0]["domain"], "blue0.test");
    assert_eq!(mig[0]["from"], serde_json::json!([["self-hosted", 1.0]]));
    assert_eq!(mig[0]["to"], serde_json::json!([["Microsoft", 1.0]]));
    let appeared = j["appeared"].as_array().unwrap();
    assert_eq!(appeared.len(), 1);
    assert_eq!(appeared[0]["domain"], "newco.example");
    assert_eq!(appeared[0]["keys"], serde_json::json!([["Microsoft", 1.0]]));
    let disappeared = j["disappeared"].as_array().unwrap();
    assert_eq!(disappeared.len(), 1);
    assert_eq!(disappeared[0]["domain"], "orchid7.sim");
    // The matrix: the one move off the diagonal, and the diagonal sums to the unchanged
    // domains (every unchanged domain keeps its whole weight).
    let cells = j["matrix"].as_array().unwrap();
    let off: Vec<&Value> = cells.iter().filter(|c| c["from"] != c["to"]).collect();
    assert_eq!(off.len(), 1);
    assert_eq!(off[0]["from"], "self-hosted");
    assert_eq!(off[0]["to"], "Microsoft");
    assert_eq!(off[0]["weight"], 1.0);
    let diag: f64 = cells
        .iter()
        .filter(|c| c["from"] == c["to"])
        .map(|c| c["weight"].as_f64().unwrap())
        .sum();
    assert!((diag - 198.0).abs() < 1e-6, "diagonal {diag}");
    let ms_old = j["old_totals"]["Microsoft"].as_f64().unwrap();
    let ms_new = j["new_totals"]["Microsoft"].as_f64().unwrap();
    assert!(
        (ms_new - ms_old - 2.0).abs() < 1e-6,
        "Microsoft {ms_old} -> {ms_new}"
    );

    let md = ok(&["diff", &old, &new, "--format", "md"]);
    assert!(md.contains("| self-hosted | Microsoft | 1 |"), "{md}");
    assert!(
        md.contains("| blue0.test | self-hosted | Microsoft |"),
        "{md}"
    );
    assert!(md.contains("## From-to matrix"), "{md}");
    let text = ok(&["diff", &old, &new, "--top", "3"]);
    assert!(text.contains("appeared: 1; disappeared: 1"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("other")),
        "folded keys: {text}"
    );
}

#[test]
fn diff_of_a_snapshot_with_itself_is_all_diagonal() {
    let dir = tempfile::tempdir().unwrap();
    let (old, _) = snapshots(dir.path());
    let j: Value = serde_json::from_str(&ok(&["diff", &old, &old, "--format", "json"])).unwrap();
    assert_eq!(j["unchanged"], 200);
    assert_eq!(j["migrations"].as_array().unwrap().len(), 0);
    assert!(
        j["matrix"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["from"] == c["to"])
    );
    let text = ok(&["diff", &old, &old]);
    assert!(
        text.contains("Largest moves (from -> to)\n--------------------------\n(none)"),
        "{text}"
    );
}
