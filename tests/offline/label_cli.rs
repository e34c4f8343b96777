//! Scenario tests of `mxinfer label`: evidence files in, expected labels out, for all four
//! approaches, through the real binary; output read back into strict mirror types.

#[path = "../common/mod.rs"]
mod common;

use common::schema::{ApproachResult, Claim, DomainLabel, RunMeta};
use common::{mxinfer, read_jsonl};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/label")
        .join(name)
        .display()
        .to_string()
}

fn run_label(dir: &Path, extra: &[&str]) -> (Vec<DomainLabel>, PathBuf) {
    let out = dir.join("labels.jsonl");
    let dns = fixture("dns.jsonl");
    let probes = fixture("probes.jsonl");
    let pfx = fixture("pfx2as.txt");
    let mut args = vec![
        "label",
        "--dns",
        &dns,
        "--probes",
        &probes,
        "--pfx2as",
        &pfx,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = mxinfer(&args, None);
    assert!(
        o.status.success(),
        "mxinfer label failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let recs = read_jsonl(&out)
        .into_iter()
        .map(|v| serde_json::from_value::<DomainLabel>(v).expect("record matches the schema"))
        .collect();
    (recs, out)
}

fn providers(r: &ApproachResult) -> Vec<(String, String, f64)> {
    r.providers
        .iter()
        .map(|p| (p.id.clone(), p.credit.clone(), p.weight))
        .collect()
}

fn expected_providers(v: &serde_json::Value) -> Vec<(String, String, f64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t[0].as_str().unwrap().to_string(),
                t[1].as_str().unwrap().to_string(),
                t[2].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn scenarios_give_the_expected_labels_under_all_four_approaches() {
    let dir = tempfile::tempdir().unwrap();
    let (recs, _) = run_label(dir.path(), &[]);
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap();
    let exp = expected.as_object().unwrap();
    assert_eq!(recs.len(), exp.len() - 1, "one record per domain");
    for r in &recs {
        let e = &exp[&r.domain];
        assert_eq!(r.status, e["status"].as_str().unwrap(), "{}", r.domain);
        for (name, res) in [
            ("priority", &r.approaches.priority),
            ("mx-only", &r.approaches.mx_only),
            ("certificate", &r.approaches.certificate),
            ("banner", &r.approaches.banner),
        ] {
            let want = expected_providers(&e[name]);
            let got = providers(res);
            assert_eq!(got.len(), want.len(), "{} {name}: {got:?}", r.domain);
            for (g, w) in got.iter().zip(&want) {
                assert_eq!((&g.0, &g.1), (&w.0, &w.1), "{} {name}", r.domain);
                assert!((g.2 - w.2).abs() < 1e-9, "{} {name} weight", r.domain);
            }
        }
        if let Some(t) = e.get("trail") {
            let got = &r.approaches.priority.exchangers[0].trail;
            let want: Vec<String> = t
                .as_array()
                .unwrap()
                .iter()
                .map(|s| format!("{}:{}", s[0].as_str().unwrap(), s[1].as_str().unwrap()))
                .collect();
            assert_eq!(got, &want, "{} trail", r.domain);
        }
        let first = r.approaches.priority.exchangers.first();
        if let Some(f) = e.get("flags") {
            let want: Vec<String> = serde_json::from_value(f.clone()).unwrap();
            assert_eq!(first.unwrap().flags, want, "{} flags", r.domain);
        } else if let Some(x) = first {
            assert!(x.flags.is_empty(), "{} flags {:?}", r.domain, x.flags);
        }
        let sug = first.and_then(|x| x.suggestion.clone());
        assert_eq!(
            sug.as_deref(),
            e.get("suggestion").and_then(|s| s.as_str()),
            "{} suggestion",
            r.domain
        );
        let dead: Vec<u16> = e
            .get("dead_preferences")
            .map(|d| serde_json::from_value(d.clone()).unwrap())
            .unwrap_or_default();
        assert_eq!(r.dead_preferences, dead, "{} dead preferences", r.domain);
        assert_eq!(
            r.self_hosted,
            e.get("self_hosted")
                .and_then(|s| s.as_bool())
                .unwrap_or(false),
            "{} self-hosted",
            r.domain
        );
        // The top-level label is the chosen (priority) approach.
        assert_eq!(r.approach, "priority");
        assert_eq!(providers(&r.approaches.priority), {
            let p: Vec<_> = r
                .providers
                .iter()
                .map(|p| (p.id.clone(), p.credit.clone(), p.weight))
                .collect();
            p
        });
    }
}

#[test]
fn approach_flag_selects_the_label_and_meta_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (recs, out) = run_label(dir.path(), &["--approach", "mx-only"]);
    let hosted = recs
        .iter()
        .find(|r| r.domain == "hosted.example.com")
        .unwrap();
    assert_eq!(hosted.approach, "mx-only");
    assert_eq!(hosted.providers[0].id, "example.com");
    assert!(hosted.self_hosted);
    let meta_path = PathBuf::from(format!("{}.meta.json", out.display()));
    let meta: RunMeta = serde_json::from_str(&std::fs::read_to_string(meta_path).unwrap()).unwrap();
    assert_eq!(meta.command, "label");
    assert_eq!(meta.input_counts.accepted, recs.len() as u64);
    assert_eq!(meta.stage["batch_size"], recs.len() as u64);
    assert_eq!(meta.status_counts.values().sum::<u64>(), recs.len() as u64);
}

#[test]
fn claims_file_lists_the_spoofed_banner() {
    let dir = tempfile::tempdir().unwrap();
    let claims = dir.path().join("claims.jsonl");
    run_label(dir.path(), &["--claims", claims.to_str().unwrap()]);
    let cs: Vec<Claim> = read_jsonl(&claims)
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("claim matches the schema"))
        .collect();
    assert_eq!(cs.len(), 1, "{cs:?}");
    let c = &cs[0];
    assert_eq!(c.ip, "203.0.113.5");
    assert_eq!(c.claimed_company, "Google");
    assert_eq!(
        c.reasons,
        vec!["as-outside-company", "certificate-untrusted"]
    );
    assert_eq!(c.asns, vec![64500, 64501]);
    assert_eq!(c.domains, vec!["spoof.example.com"]);
}

#[test]
fn without_as_data_no_as_rule_fires() {
    // An empty-ish pfx2as (no covering prefix): no unexpected-as, no suggestion.
    let dir = tempfile::tempdir().unwrap();
    let pfx = dir.path().join("pfx.txt");
    std::fs::write(&pfx, "192.0.2.0\t24\t64496\n").unwrap();
    let out = dir.path().join("l.jsonl");
    let o = mxinfer(
        &[
            "label",
            "--dns",
            &fixture("dns.jsonl"),
            "--probes",
            &fixture("probes.jsonl"),
            "--pfx2as",
            pfx.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success());
    for v in read_jsonl(&out) {
        let r: DomainLabel = serde_json::from_value(v).unwrap();
        for x in &r.approaches.priority.exchangers {
            assert!(
                !x.flags.contains(&"unexpected-as".to_string()) && x.suggestion.is_none(),
                "{}: {x:?}",
                r.domain
            );
        }
    }
}

#[test]
fn bad_input_lines_are_reported_and_change_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let dns = dir.path().join("dns.jsonl");
    let mut text = std::fs::read_to_string(fixture("dns.jsonl")).unwrap();
    text.push_str("not json\n");
    std::fs::write(&dns, text).unwrap();
    let out = dir.path().join("l.jsonl");
    let o = mxinfer(
        &[
            "label",
            "--dns",
            dns.to_str().unwrap(),
            "--probes",
            &fixture("probes.jsonl"),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(read_jsonl(&out).len(), 13);
}

#[test]
fn missing_input_is_a_fatal_error() {
    let o = mxinfer(
        &[
            "label",
            "--dns",
            "/nonexistent/dns.jsonl",
            "--probes",
            &fixture("probes.jsonl"),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/dns.jsonl"));
}

#[test]
fn psl_icann_only_and_companies_override() {
    let dir = tempfile::tempdir().unwrap();
    let companies = dir.path().join("companies.toml");
    std::fs::write(
        &companies,
        "[[company]]\nname = \"Example Hosting\"\nids = [\"example.com\"]\nasns = [64496]\n\
         evidence = \"test\"\n",
    )
    .unwrap();
    let (recs, _) = run_label(
        dir.path(),
        &[
            "--psl-icann-only",
            "--companies",
            companies.to_str().unwrap(),
        ],
    );
    let hosted = recs
        .iter()
        .find(|r| r.domain == "hosted.example.com")
        .unwrap();
    // Only the given table maps companies now: outlook.com and mx.microsoft are raw IDs.
    assert_eq!(
        hosted.approaches.mx_only.providers[0].credit,
        "Example Hosting"
    );
    assert_eq!(hosted.providers[0].company, None);
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[company]]\nname = \"X\"\n").unwrap();
    let o = mxinfer(
        &[
            "label",
            "--dns",
            &fixture("dns.jsonl"),
            "--probes",
            &fixture("probes.jsonl"),
            "--companies",
            bad.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "a bad companies file is fatal");
}

/// xorshift64*, for deterministic shuffles.
fn next(s: &mut u64) -> u64 {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    s.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn shuffled(lines: &[String], seed: u64) -> Vec<String> {
    let mut v = lines.to_vec();
    let mut s = seed | 1;
    for i in (1..v.len()).rev() {
        v.swap(i, (next(&mut s) % (i as u64 + 1)) as usize);
    }
    v
}

/// Writes `lines` as `n` files `PREFIX-K.jsonl` in `dir`; returns their paths.
fn split(dir: &Path, prefix: &str, lines: &[String], n: usize) -> Vec<String> {
    let per = lines.len().div_ceil(n);
    (0..n)
        .map(|k| {
            let p = dir.join(format!("{prefix}-{k}.jsonl"));
            let part: Vec<&str> = lines
                .iter()
                .skip(k * per)
                .take(per)
                .map(String::as_str)
                .collect();
            std::fs::write(&p, part.join("\n") + "\n").unwrap();
            p.display().to_string()
        })
        .collect()
}

/// Labels of a run: domain -> its record's line; the claims file's bytes; the domains in
/// output order.
fn label_files(
    w: &Path,
    out: &Path,
    dns: &[String],
    probes: &[String],
) -> (
    std::collections::BTreeMap<String, String>,
    String,
    Vec<String>,
) {
    let (labels, claims) = (out.join("labels.jsonl"), out.join("claims.jsonl"));
    let (pfx, psl) = (w.join("pfx2as.txt"), w.join("psl.dat"));
    let mut args = vec!["label", "--dns"];
    args.extend(dns.iter().map(String::as_str));
    args.push("--probes");
    args.extend(probes.iter().map(String::as_str));
    args.extend([
        "--pfx2as",
        pfx.to_str().unwrap(),
        "--psl",
        psl.to_str().unwrap(),
        "--claims",
        claims.to_str().unwrap(),
        "--out",
        labels.to_str().unwrap(),
    ]);
    let o = mxinfer(&args, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&labels).unwrap();
    let mut by_domain = std::collections::BTreeMap::new();
    let mut order = Vec::new();
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let d = v["domain"].as_str().unwrap().to_string();
        order.push(d.clone());
        by_domain.insert(d, l.to_string());
    }
    (by_domain, std::fs::read_to_string(&claims).unwrap(), order)
}

/// Issue 14: the same evidence in three orders and as three files gives the same label of
/// every domain and the same claims, byte for byte; the labels come out in the order of the
/// resolve files given. The evidence is a served sim world's (`mxinfer demo`), with a second,
/// older and different probe record added for some addresses, so which record an address
/// keeps is decided by content.
#[test]
fn labels_and_claims_do_not_depend_on_record_order_or_files() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("world");
    let o = mxinfer(
        &[
            "demo",
            "--domains",
            "600",
            "--seed",
            "5",
            "--out",
            w.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |f: &str| -> Vec<String> {
        std::fs::read_to_string(w.join(f))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let dns = read("dns.jsonl");
    let mut probes = read("probes.jsonl");
    // Older records of every seventh live address, claiming another provider.
    let extra: Vec<String> = probes
        .iter()
        .filter(|l| l.contains("\"banner\""))
        .step_by(7)
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["started_at"] = "2020-01-01T00:00:00.000Z".into();
            v["banner"] = serde_json::json!({"code": 220, "lines": ["220 mx.google.com ESMTP"]});
            v.as_object_mut().unwrap().remove("tls");
            v.to_string()
        })
        .collect();
    assert!(extra.len() > 20, "{} duplicated addresses", extra.len());
    probes.extend(extra);

    let base = tmp.path().join("base");
    std::fs::create_dir(&base).unwrap();
    let whole = (
        split(&base, "dns", &dns, 1),
        split(&base, "probes", &probes, 1),
    );
    let (want, want_claims, want_order) = label_files(&w, &base, &whole.0, &whole.1);
    assert_eq!(want.len(), dns.len());
    assert!(!want_claims.is_empty(), "the world has suspicious claims");
    for seed in [1u64, 2, 3] {
        let d = tmp.path().join(format!("order{seed}"));
        std::fs::create_dir(&d).unwrap();
        let dns_files = split(&d, "dns", &shuffled(&dns, seed), 3);
        let mut probe_files = split(&d, "probes", &shuffled(&probes, seed + 10), 3);
        probe_files.rotate_left(seed as usize % 3);
        let (got, claims, order) = label_files(&w, &d, &dns_files, &probe_files);
        assert_eq!(got, want, "labels, order {seed}");
        assert_eq!(claims, want_claims, "claims, order {seed}");
        // Output order: the resolve files' order, then their lines.
        let input_order: Vec<String> = dns_files
            .iter()
            .flat_map(|f| {
                std::fs::read_to_string(f)
                    .unwrap()
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(&l).unwrap()["domain"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(order, input_order);
        assert_ne!(order, want_order);
    }
    // A directory is read as its files, by name.
    let dirs = tmp.path().join("dirs");
    for (set, lines, seed) in [("dns", &dns, 1), ("probes", &probes, 11)] {
        std::fs::create_dir_all(dirs.join(set)).unwrap();
        split(&dirs.join(set), set, &shuffled(lines, seed), 3);
    }
    let (got, claims, _) = label_files(
        &w,
        &dirs,
        &[dirs.join("dns").display().to_string()],
        &[dirs.join("probes").display().to_string()],
    );
    assert_eq!(got, want);
    assert_eq!(claims, want_claims);
}

/// Issue 14: compressed inputs (gzip, zstd, found by their magic bytes) and outputs
/// (compressed when their names end in `.gz` or `.zst`) give the same records as plain ones.
#[test]
fn compressed_inputs_and_outputs_give_the_same_records() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, plain) = run_label(
        tmp.path(),
        &["--claims", tmp.path().join("c.jsonl").to_str().unwrap()],
    );
    let want_labels = std::fs::read_to_string(plain).unwrap();
    let want_claims = std::fs::read_to_string(tmp.path().join("c.jsonl")).unwrap();
    // The inputs compressed with the tools users have: gzip and zstd.
    let gz = tmp.path().join("dns.jsonl.gz");
    let zst = tmp.path().join("probes.jsonl.zst");
    for (tool, args, from, to) in [
        ("gzip", vec!["-c"], fixture("dns.jsonl"), &gz),
        ("zstd", vec!["-q", "-c"], fixture("probes.jsonl"), &zst),
    ] {
        let o = std::process::Command::new(tool)
            .args(&args)
            .arg(&from)
            .output()
            .unwrap_or_else(|e| panic!("{tool} is missing ({e}): apt-get install -y {tool}"));
        assert!(o.status.success());
        std::fs::write(to, o.stdout).unwrap();
    }
    let (out, claims) = (
        tmp.path().join("l.jsonl.zst"),
        tmp.path().join("c.jsonl.gz"),
    );
    let pfx = fixture("pfx2as.txt");
    let o = mxinfer(
        &[
            "label",
            "--dns",
            gz.to_str().unwrap(),
            "--probes",
            zst.to_str().unwrap(),
            "--pfx2as",
            &pfx,
            "--claims",
            claims.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let unzstd = std::process::Command::new("zstd")
        .args(["-q", "-d", "-c"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(unzstd.status.success());
    assert_eq!(String::from_utf8(unzstd.stdout).unwrap(), want_labels);
    let gunzip = std::process::Command::new("gzip")
        .args(["-d", "-c"])
        .arg(&claims)
        .output()
        .unwrap();
    assert!(gunzip.status.success());
    assert_eq!(String::from_utf8(gunzip.stdout).unwrap(), want_claims);
}

/// Several resolve files: a bad line is reported with its own file's line number, a
/// byte-order mark at the start of a later file is accepted, and every good record is
/// labelled once (exit code 3 for the bad line).
#[test]
fn bad_lines_of_several_files_are_reported_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = std::fs::read_to_string(fixture("dns.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    std::fs::write(&a, lines[..5].join("\n") + "\n").unwrap();
    std::fs::write(
        &b,
        format!(
            "\u{feff}{}\nnot json\n{}\n",
            lines[5],
            lines[6..].join("\n")
        ),
    )
    .unwrap();
    let out = dir.path().join("l.jsonl");
    let o = mxinfer(
        &[
            "label",
            "--dns",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--probes",
            &fixture("probes.jsonl"),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:2: not a record", b.display())),
        "{stderr}"
    );
    assert_eq!(read_jsonl(&out).len(), lines.len());
}

/// Issue 14: `--compact` records are the full records with two approaches left out (the
/// chosen one and MX-only kept), smaller; `report`, `export` and `diff` read them as they
/// read the full ones, `eval` evaluates the approaches they carry with the full records'
/// figures, and asking for an approach they do not carry is a clear error.
#[test]
fn compact_records_keep_the_chosen_approach_and_the_readers_accept_them() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("world");
    let o = mxinfer(
        &[
            "demo",
            "--domains",
            "400",
            "--seed",
            "9",
            "--out",
            w.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = |f: &str| w.join(f).to_str().unwrap().to_string();
    let label = |out: &str, extra: &[&str]| {
        let out = tmp.path().join(out);
        let mut args: Vec<String> = [
            "label",
            "--dns",
            &p("dns.jsonl"),
            "--probes",
            &p("probes.jsonl"),
            "--pfx2as",
            &p("pfx2as.txt"),
            "--psl",
            &p("psl.dat"),
            "--out",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = mxinfer(&a, None);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let full = label("full.jsonl", &[]);
    let compact = label("compact.jsonl", &["--compact"]);
    let (ft, ct) = (
        std::fs::read_to_string(&full).unwrap(),
        std::fs::read_to_string(&compact).unwrap(),
    );
    assert_eq!(ft.lines().count(), ct.lines().count());
    for (f, c) in ft.lines().zip(ct.lines()) {
        let mut f: serde_json::Value = serde_json::from_str(f).unwrap();
        let c: serde_json::Value = serde_json::from_str(c).unwrap();
        let keys: Vec<&String> = c["approaches"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["mx_only", "priority"]); // (a map sorts its keys)
        let ap = f["approaches"].as_object_mut().unwrap();
        ap.remove("certificate");
        ap.remove("banner");
        assert_eq!(
            f, c,
            "the compact record is the full one without two approaches"
        );
    }
    assert!(
        (ct.len() as f64) < 0.8 * ft.len() as f64,
        "compact {} bytes, full {}",
        ct.len(),
        ft.len()
    );
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("compact.jsonl.meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["stage"]["compact"], true);

    // The same report, export and diff.
    let run = |args: &[&str]| -> String {
        let o = mxinfer(args, None);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let (fs, cs) = (full.to_str().unwrap(), compact.to_str().unwrap());
    for fmt in ["json", "table"] {
        assert_eq!(
            run(&["report", fs, "--format", fmt]),
            run(&["report", cs, "--format", fmt])
        );
    }
    let (ef, ec) = (tmp.path().join("ef"), tmp.path().join("ec"));
    run(&[
        "export",
        "labels",
        fs,
        "--to",
        "csv",
        "--snapshot",
        "2026-12-01",
        "--out-dir",
        ef.to_str().unwrap(),
    ]);
    run(&[
        "export",
        "labels",
        cs,
        "--to",
        "csv",
        "--snapshot",
        "2026-12-01",
        "--out-dir",
        ec.to_str().unwrap(),
    ]);
    let csv = |d: &Path| {
        let f = walk(d)
            .into_iter()
            .find(|f| f.extension().is_some_and(|e| e == "csv"))
            .unwrap();
        std::fs::read_to_string(f).unwrap()
    };
    assert_eq!(csv(&ef), csv(&ec));
    let d = run(&["diff", fs, cs, "--format", "json"]);
    let d: serde_json::Value = serde_json::from_str(&d).unwrap();
    assert_eq!(d["unchanged"], d["common"]);

    // eval: the two approaches carried, with the full records' figures.
    let ev = |l: &str| -> serde_json::Value {
        serde_json::from_str(&run(&[
            "eval",
            l,
            "--truth",
            &p("truth.jsonl"),
            "--format",
            "json",
        ]))
        .unwrap()
    };
    let (evf, evc) = (ev(fs), ev(cs));
    let approaches = |e: &serde_json::Value| -> Vec<serde_json::Value> {
        e["approaches"].as_array().unwrap().clone()
    };
    assert_eq!(approaches(&evf).len(), 4);
    let kept: Vec<serde_json::Value> = approaches(&evf)
        .into_iter()
        .filter(|a| a["approach"] == "priority" || a["approach"] == "mx-only")
        .collect();
    assert_eq!(approaches(&evc), kept);
    assert_eq!(
        evc["approaches_not_in_labels"],
        serde_json::json!(["certificate", "banner"])
    );

    // Another approach than the one carried: an error naming it.
    let o = mxinfer(&["report", cs, "--approach", "banner"], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("does not carry the banner approach") && err.contains("--compact"),
        "{err}"
    );
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
