//! `mxinfer report` and `mxinfer eval` through the real binary, on labels produced by
//! `mxinfer label` from tests/fixtures/label and the hand-written truth of
//! tests/fixtures/report; JSON output read back into strict mirror types.

#[path = "../common/mod.rs"]
mod common;

use common::mxinfer;
use common::schema::{Evaluation, Report};
use std::path::{Path, PathBuf};

fn fixture(dir: &str, name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name)
        .display()
        .to_string()
}

fn run_ok(args: &[&str]) -> String {
    let o = mxinfer(args, None);
    assert!(
        o.status.success(),
        "mxinfer {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn labels(dir: &Path) -> PathBuf {
    let out = dir.join("labels.jsonl");
    run_ok(&[
        "label",
        "--dns",
        &fixture("label", "dns.jsonl"),
        "--probes",
        &fixture("label", "probes.jsonl"),
        "--pfx2as",
        &fixture("label", "pfx2as.txt"),
        "--out",
        out.to_str().unwrap(),
    ]);
    out
}

fn report(labels: &Path, extra: &[&str]) -> Report {
    let mut args = vec!["report", labels.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&run_ok(&args)).expect("report matches the schema")
}

const EPS: f64 = 1e-9;

#[test]
fn report_shares_by_company_with_flagged_and_status_rows() {
    let dir = tempfile::tempdir().unwrap();
    let l = labels(dir.path());
    let r = report(&l, &["--top", "0"]);
    assert_eq!(r.by, "company");
    assert_eq!(r.domains, 13);
    assert_eq!(r.identified_domains, 8);
    assert_eq!(r.statuses.values().sum::<u64>(), 13);
    assert_eq!(r.statuses["labelled"], 8);
    let row = |name: &str| r.rows.iter().find(|x| x.name == name).unwrap();
    // google (1) + split (2/3 of 1)
    assert!((row("Google").weight - 5.0 / 3.0).abs() < EPS);
    assert_eq!(row("Google").domains, 2);
    assert!((row("Proofpoint").weight - 4.0 / 3.0).abs() < EPS);
    // spoof (fake Google banner) and vps (GoDaddy customer host) are flagged.
    assert_eq!(row("flagged").kind, "flagged");
    assert!((row("flagged").weight - 2.0).abs() < EPS);
    for s in [
        "no-smtp-evidence",
        "null-mx",
        "no-mail",
        "dns-failed",
        "no-id",
    ] {
        assert_eq!(row(s).kind, "status");
        assert_eq!(row(s).domains, 1, "{s}");
        assert!(row(s).share_identified.is_none());
    }
    let all: f64 = r.rows.iter().map(|x| x.share).sum();
    assert!((all - 1.0).abs() < 1e-6);
    let ident: f64 = r.rows.iter().filter_map(|x| x.share_identified).sum();
    assert!((ident - 1.0).abs() < 1e-6);
    assert!((row("Google").share_identified.unwrap() - (5.0 / 3.0) / 8.0).abs() < 1e-6);
    let s = &r.sources;
    assert!((s.certificate + s.banner + s.mx - 8.0).abs() < 1e-6);

    // --credit-no-smtp moves implicit.example.com to its MX-name ID.
    let r2 = report(&l, &["--top", "0", "--credit-no-smtp"]);
    assert_eq!(r2.identified_domains, 9);
    assert!(r2.rows.iter().all(|x| x.name != "no-smtp-evidence"));

    // --approach mx-only: the MX names only (vanity and VPS domains go to example.com).
    let r4 = report(
        &l,
        &["--top", "0", "--approach", "mx-only", "--by", "provider"],
    );
    assert_eq!(r4.approach.as_deref(), Some("mx-only"));
    assert!(r4.rows.iter().all(|x| x.kind != "flagged"));
    let ex = r4.rows.iter().find(|x| x.name == "example.com").unwrap();
    assert_eq!(ex.domains, 5, "hosted, cisco, spoof, disagree, vps");
    assert!(r.approach.is_none());

    // --top 2: two credit rows, the rest in `other`.
    let r3 = report(&l, &["--top", "2"]);
    let kinds: Vec<&str> = r3.rows.iter().map(|x| x.kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "credit").count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "other").count(), 1);
}

#[test]
fn report_company_listing_by_provider() {
    let dir = tempfile::tempdir().unwrap();
    let l = labels(dir.path());
    let r = report(&l, &["--by", "provider", "--company", "Google"]);
    assert_eq!(r.by, "provider");
    assert!(r.rows.iter().any(|x| x.name == "google.com"));
    let c = r.company.unwrap();
    assert_eq!(c.company, "Google");
    let names: Vec<&str> = c.entries.iter().map(|e| e.domain.as_str()).collect();
    assert_eq!(
        names,
        [
            "google.example.com",
            "split.example.com",
            "spoof.example.com"
        ]
    );
    assert!((c.weight - 5.0 / 3.0).abs() < EPS);
    assert_eq!(c.entries[0].sources, ["certificate"]);
    let spoof = &c.entries[2];
    assert_eq!(spoof.weight, 0.0);
    assert!((spoof.flagged_weight - 1.0).abs() < EPS);
}

#[test]
fn report_formats_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let l = labels(dir.path());
    let lp = l.to_str().unwrap();
    let table = run_ok(&["report", lp]);
    assert!(table.contains("Google") && table.contains("[dns-failed]"));
    let md = run_ok(&["report", lp, "--format", "md", "--company", "Google"]);
    assert!(md.starts_with("# Mail provider shares"));
    assert!(md.contains("| Google |"));
    assert!(md.contains("## Domains of Google"));
    let html_path = dir.path().join("r.html");
    run_ok(&[
        "report",
        lp,
        "--format",
        "html",
        "--out",
        html_path.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("<svg") && html.contains("</svg>"));
    assert!(!html.contains("<script") && !html.contains("<link"));
    assert!(html.contains("<table>"));

    // The helper the future `mxinfer run` calls.
    let mut t =
        mxinfer_core::report::ShareTally::new(mxinfer_core::report::ReportOptions::default());
    let bad = mxinfer_core::jsonl::read::<mxinfer_record::DomainLabel>(&l, |r| t.add(&r).unwrap())
        .unwrap();
    assert_eq!(bad, 0);
    let out = dir.path().join("out");
    mxinfer_core::report::files::write_report_dir(&out, &t.finish()).unwrap();
    for f in ["report.md", "report.json", "report.html"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let _: Report =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();

    // A line that is not a label record: reported, exit code 3.
    let mut text = std::fs::read_to_string(&l).unwrap();
    text.push_str("{\"not\":\"a label\"}\n");
    let bad_path = dir.path().join("bad.jsonl");
    std::fs::write(&bad_path, text).unwrap();
    let o = mxinfer(&["report", bad_path.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn eval_against_hand_written_truth() {
    let dir = tempfile::tempdir().unwrap();
    let l = labels(dir.path());
    let truth = fixture("report", "truth.jsonl");
    let out = run_ok(&[
        "eval",
        l.to_str().unwrap(),
        "--truth",
        &truth,
        "--format",
        "json",
    ]);
    let e: Evaluation = serde_json::from_str(&out).expect("eval matches the schema");
    assert_eq!(e.labels, 13);
    assert_eq!(e.truth, 13);
    assert_eq!(e.compared, 12);
    assert_eq!(e.only_in_labels, ["failed.example.com"]);
    assert_eq!(e.only_in_truth, ["gone.example.com"]);
    let correct: Vec<(&str, u64)> = e
        .approaches
        .iter()
        .map(|a| (a.approach.as_str(), a.correct))
        .collect();
    // mx-only misses the vanity MX, the Cisco gateway and the IP literal; certificate the
    // Cisco gateway (its MX-name fallback gets no checks, so no suggestion) and the literal;
    // banner and priority only the literal. The fake banner counts as its MX name's ID (the
    // AS check refutes the claim), the Cisco gateway as the suggested iphmx.com, and the
    // banner's outlook.com for the vanity MX as mx.microsoft, the certificate group it is
    // joined to in the label metadata.
    assert_eq!(
        correct,
        [
            ("mx-only", 9),
            ("certificate", 10),
            ("banner", 11),
            ("priority", 11)
        ]
    );
    assert_eq!(e.misses_total["priority"], 1);
    let company: Vec<(&str, u64)> = e
        .approaches
        .iter()
        .map(|a| (a.approach.as_str(), a.company_correct))
        .collect();
    assert_eq!(
        company,
        [
            ("mx-only", 9),
            ("certificate", 10),
            ("banner", 11),
            ("priority", 11)
        ]
    );
    let class = |c: &str| e.classes.iter().find(|x| x.class == c).unwrap();
    let by = |c: &str, a: &str| {
        class(c)
            .approaches
            .iter()
            .find(|x| x.approach == a)
            .unwrap()
            .correct
    };
    assert_eq!(by("vps-customer", "mx-only"), 1);
    assert_eq!(by("vps-customer", "priority"), 1);
    assert_eq!(by("vanity-mx", "mx-only"), 0);
    assert_eq!(by("vanity-mx", "banner"), 1);
    assert_eq!(by("fake-banner", "mx-only"), 1);
    assert_eq!(by("fake-banner", "priority"), 1);
    assert_eq!(by("split", "priority"), 1);
    assert_eq!(by("null-mx", "priority"), 1);
    let m = e.misses.iter().find(|m| m.approach == "priority").unwrap();
    assert_eq!(m.domain, "literal.example.com");
    assert!(m.inferred.is_empty());
    // The label itself keeps the claimed ID with its flag (METHOD.md 7).
    let spoof = std::fs::read_to_string(&l)
        .unwrap()
        .lines()
        .find(|x| x.contains("\"spoof.example.com\""))
        .unwrap()
        .to_string();
    assert!(spoof.contains("\"id\":\"google.com\"") && spoof.contains("unexpected-as"));

    // Without the label metadata the certificate groups are unknown: outlook.com is then
    // not mx.microsoft, and banner misses the vanity MX.
    std::fs::remove_file(format!("{}.meta.json", l.display())).unwrap();
    let out = run_ok(&[
        "eval",
        l.to_str().unwrap(),
        "--truth",
        &truth,
        "--format",
        "json",
    ]);
    let e2: Evaluation = serde_json::from_str(&out).unwrap();
    let banner = e2
        .approaches
        .iter()
        .find(|a| a.approach == "banner")
        .unwrap();
    assert_eq!((banner.correct, banner.company_correct), (10, 11));
    assert!(e.confusion.iter().any(|c| c.approach == "mx-only"
        && c.truth == "Cisco (IronPort)"
        && c.inferred == "example.com"));

    let md = run_ok(&["eval", l.to_str().unwrap(), "--truth", &truth]);
    assert!(md.starts_with("# Accuracy against ground truth"));
    assert!(md.contains("literal.example.com") && md.contains("gone.example.com"));
}
