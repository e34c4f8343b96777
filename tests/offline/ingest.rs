//! `mxinfer ingest` through the real binary: real zdns and zgrab2 output captured from a
//! simulated world (tests/fixtures/ingest/sim200, see its README), hand-written fixtures in
//! the documented shapes, and malformed rows. Output is read back into the strict mirror
//! types of tests/common/schema.rs.

#[path = "../common/mod.rs"]
mod common;

use common::schema::{DomainDns, HostProbe, RunMeta};
use common::{mxinfer, read_jsonl};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

fn fx(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ingest")
        .join(name)
        .display()
        .to_string()
}

fn run(args: &[&str]) -> (i32, String) {
    let o = mxinfer(args, None);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, err) = run(args);
    assert_eq!(code, 0, "mxinfer {args:?} failed: {err}");
    err
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

fn dns_records(path: &str) -> Vec<DomainDns> {
    read_jsonl(Path::new(path))
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("a resolve record of the schema"))
        .collect()
}

fn probe_records(path: &str) -> Vec<HostProbe> {
    read_jsonl(Path::new(path))
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("a probe record of the schema"))
        .collect()
}

fn meta(path: &str) -> RunMeta {
    let text = std::fs::read_to_string(format!("{path}.meta.json")).unwrap();
    serde_json::from_str(&text).expect("run metadata of the schema")
}

/// The simulated world the sim200 fixtures were captured from (same seed, same size: the
/// generator is byte-for-byte reproducible).
fn world(dir: &Path) -> PathBuf {
    let w = dir.join("world");
    ok(&[
        "sim",
        "world",
        "--domains",
        "200",
        "--seed",
        "1",
        "--out",
        &w.display().to_string(),
    ]);
    w
}

/// domain -> (status, sorted (id, weight)) of the chosen approach.
type Labels = BTreeMap<String, (String, Vec<(String, f64)>)>;

fn labels_of(values: Vec<Value>) -> Labels {
    values
        .into_iter()
        .map(|v| {
            let mut prov: Vec<(String, f64)> = v["providers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            (
                                p["id"].as_str().unwrap().to_string(),
                                p["weight"].as_f64().unwrap(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            prov.sort_by(|a, b| a.0.cmp(&b.0));
            (
                v["domain"].as_str().unwrap().to_string(),
                (v["status"].as_str().unwrap().to_string(), prov),
            )
        })
        .collect()
}

/// Correct against the world's truth: the same IDs with weights within 0.01.
fn correct(labels: &Labels, truth: &[Value]) -> usize {
    truth
        .iter()
        .filter(|t| {
            let mut want: Vec<(String, f64)> = t["providers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            (
                                p["id"].as_str().unwrap().to_string(),
                                p["weight"].as_f64().unwrap(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            want.sort_by(|a, b| a.0.cmp(&b.0));
            let got = &labels[t["domain"].as_str().unwrap()].1;
            got.len() == want.len()
                && got
                    .iter()
                    .zip(&want)
                    .all(|(g, w)| g.0 == w.0 && (g.1 - w.1).abs() <= 0.01)
        })
        .count()
}

#[test]
fn real_zdns_and_zgrab2_output_label_like_mxinfer_own_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let w = world(d);
    let (dns, probes, labels) = (
        p(d, "dns.jsonl"),
        p(d, "probes.jsonl"),
        p(d, "labels.jsonl"),
    );
    ok(&[
        "ingest",
        "dns",
        &fx("sim200/zdns-mxlookup.jsonl"),
        "--out",
        &dns,
    ]);
    ok(&[
        "ingest",
        "probes",
        &fx("sim200/zgrab2-smtp.jsonl.gz"),
        "--out",
        &probes,
    ]);
    let dr = dns_records(&dns);
    let pr = probe_records(&probes);
    assert_eq!(dr.len(), 200, "every domain of the zdns run once");
    assert_eq!(pr.len(), 154, "every target of the zgrab2 run once");
    let m = meta(&probes);
    assert_eq!(m.input_counts.rejected, 0);
    assert_eq!(m.stage["ingest"]["trust_from_dataset"], 146);
    // zgrab2 calls a refused connection `connection-timeout`; the error text tells.
    assert_eq!(
        pr.iter()
            .filter(|p| serde_json::to_value(&p.status).unwrap() == "refused")
            .count(),
        4
    );
    // CAIDA ships pfx2as gzip-compressed; label reads it as it is.
    let pfx_gz = p(d, "pfx2as.txt.gz");
    {
        use std::io::Write;
        let mut z = flate2::write::GzEncoder::new(
            std::fs::File::create(&pfx_gz).unwrap(),
            flate2::Compression::default(),
        );
        z.write_all(&std::fs::read(w.join("pfx2as.txt")).unwrap())
            .unwrap();
        z.finish().unwrap();
    }
    ok(&[
        "label",
        "--dns",
        &dns,
        "--probes",
        &probes,
        "--pfx2as",
        &pfx_gz,
        "--psl",
        &p(&w, "psl.dat"),
        "--out",
        &labels,
    ]);
    let m = meta(&labels);
    assert!(m.stage["pfx2as_prefixes"].as_u64().unwrap() > 0);
    let ingested = labels_of(read_jsonl(Path::new(&labels)));
    let own = labels_of(read_jsonl(Path::new(&fx("sim200/mxinfer-labels.jsonl"))));
    assert_eq!(ingested.len(), 200);
    let differ: Vec<&String> = own.keys().filter(|k| own[*k] != ingested[*k]).collect();
    // The one difference: zdns MXLOOKUP does not look up the domain's own address, so the
    // implicit-MX domain cannot get its implicit exchanger (and says so).
    assert_eq!(
        differ,
        ["juniper2.test"],
        "labels that differ from mxinfer's own run"
    );
    assert_eq!(ingested["juniper2.test"].0, "no-mail");
    let j = dr.iter().find(|r| r.domain == "juniper2.test").unwrap();
    assert!(j.error.as_deref().unwrap().contains("implicit MX"));
    let truth = read_jsonl(&w.join("truth.jsonl"));
    let (c_ing, c_own) = (correct(&ingested, &truth), correct(&own, &truth));
    assert_eq!(
        c_ing + 1,
        c_own,
        "accuracy: ingest {c_ing}, mxinfer {c_own} of 200"
    );

    // With zdns ALOOKUP of the domains without MX (a second zdns pass), implicit MX applies
    // and every label equals mxinfer's own.
    let (dns2, labels2) = (p(d, "dns2.jsonl"), p(d, "labels2.jsonl"));
    ok(&[
        "ingest",
        "dns",
        &fx("sim200/zdns-mxlookup.jsonl"),
        "--apex",
        &fx("sim200/zdns-alookup-nomx.jsonl"),
        "--out",
        &dns2,
    ]);
    let j2 = dns_records(&dns2)
        .into_iter()
        .find(|r| r.domain == "juniper2.test")
        .unwrap();
    assert_eq!(j2.status, "no-mx");
    assert_eq!(j2.exchangers[0].addresses[0].ip.to_string(), "127.64.0.2");
    ok(&[
        "label",
        "--dns",
        &dns2,
        "--probes",
        &probes,
        "--pfx2as",
        &p(&w, "pfx2as.txt"),
        "--psl",
        &p(&w, "psl.dat"),
        "--out",
        &labels2,
    ]);
    let with_apex = labels_of(read_jsonl(Path::new(&labels2)));
    assert_eq!(
        with_apex, own,
        "ingest with --apex equals mxinfer's own run"
    );
}

#[test]
fn recomputed_trust_agrees_with_zgrab2_and_follows_the_snapshot_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let w = world(d);
    let ca = p(&w, "ca.pem");
    let (a, b, c) = (p(d, "a.jsonl"), p(d, "b.jsonl"), p(d, "c.jsonl"));
    let input = fx("sim200/zgrab2-smtp.jsonl.gz");
    ok(&["ingest", "probes", &input, "--out", &a]);
    ok(&[
        "ingest",
        "probes",
        &input,
        "--out",
        &b,
        "--recompute-trust",
        "--roots",
        &ca,
    ]);
    ok(&[
        "ingest",
        "probes",
        &input,
        "--out",
        &c,
        "--recompute-trust",
        "--roots",
        &ca,
        "--at",
        "2023-06-01",
    ]);
    let verdicts = |path: &str| -> HashMap<String, (bool, Value, String)> {
        probe_records(path)
            .into_iter()
            .filter_map(|p| {
                let v = p.tls?.verdict?;
                Some((
                    p.ip.to_string(),
                    (v.trusted, serde_json::to_value(&v.reason).unwrap(), v.roots),
                ))
            })
            .collect()
    };
    let (va, vb, vc) = (verdicts(&a), verdicts(&b), verdicts(&c));
    assert_eq!(va.len(), 146);
    assert_eq!(va.len(), vb.len());
    for (ip, (trusted, _, roots)) in &va {
        assert!(roots.starts_with("dataset"), "{ip}: {roots}");
        let (t2, reason2, roots2) = &vb[ip];
        assert_eq!(
            trusted, t2,
            "{ip}: zgrab2 said {trusted}, recomputed {t2} ({reason2})"
        );
        assert_eq!(roots2, &ca);
    }
    assert!(va.values().filter(|v| v.0).count() >= 130);
    // Judged in 2023 the world's certificates (valid from 2024-01-01) are not yet valid.
    assert!(vc.values().all(|v| !v.0));
    let nyv = vc.values().filter(|v| v.1 == "not-yet-valid").count();
    assert!(nyv >= 130, "not-yet-valid in 2023: {nyv}");
}

#[test]
fn zdns_v1_and_v2_shapes_give_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (p(dir.path(), "v1.jsonl"), p(dir.path(), "v2.jsonl"));
    ok(&["ingest", "dns", &fx("zdns-v1.jsonl"), "--out", &a]);
    ok(&["ingest", "dns", &fx("zdns-v2.jsonl"), "--out", &b]);
    assert_eq!(read_jsonl(Path::new(&a)), read_jsonl(Path::new(&b)));
    let recs = dns_records(&a);
    let st: Vec<(String, String)> = recs
        .iter()
        .map(|r| {
            (
                r.domain.clone(),
                serde_json::to_value(&r.status)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let want = [
        ("shop.example", "ok"),
        ("null.example", "null-mx"),
        ("gone.example", "nxdomain"),
        ("broken.example", "servfail"),
        ("slow.example", "timeout"),
        ("nomx.example", "no-mail"),
    ];
    assert_eq!(
        st,
        want.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    let shop = &recs[0];
    assert_eq!(shop.exchangers.len(), 2);
    assert_eq!(shop.exchangers[0].name, "aspmx.l.google.com");
    let ips: Vec<String> = shop.exchangers[0]
        .addresses
        .iter()
        .map(|a| a.ip.to_string())
        .collect();
    assert_eq!(ips, ["127.160.0.1", "2001:db8::1"]);
    assert_eq!(shop.resolved_at, "2021-06-01T00:00:00Z");
    assert_eq!(recs[1].input.original.as_deref(), Some("Null.Example"));
}

#[test]
fn zdns_malformed_rows_are_reported_with_their_line_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let out = p(dir.path(), "dns.jsonl");
    let (code, err) = run(&["ingest", "dns", &fx("zdns-malformed.jsonl"), "--out", &out]);
    assert_eq!(code, 3, "{err}");
    for (line, what) in [
        (2, "not JSON"),
        (3, "not a JSON object"),
        (4, "no \"name\""),
        (5, "unknown status \"MAYBE\""),
        (6, "bad address \"300.1.2.3\""),
        (10, "bad name!.example"),
    ] {
        let needle = format!("zdns-malformed.jsonl:{line}: ");
        let l = err
            .lines()
            .find(|l| l.contains(&needle))
            .unwrap_or_else(|| panic!("no report for line {line}: {err}"));
        assert!(l.contains(what), "line {line}: {l}");
    }
    let names: Vec<String> = dns_records(&out).into_iter().map(|r| r.domain).collect();
    assert_eq!(names, ["shop.example", "null.example"]);
    let m = meta(&out);
    assert_eq!(m.input_counts.rejected, 6);
    assert_eq!(m.input_counts.duplicates, 1);
    assert_eq!(m.input_counts.lines, 9);
}

#[test]
fn zgrab2_malformed_rows_are_reported_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = p(dir.path(), "probes.jsonl");
    let (code, err) = run(&[
        "ingest",
        "probes",
        &fx("zgrab2-malformed.jsonl"),
        "--out",
        &out,
    ]);
    assert_eq!(code, 3, "{err}");
    for (line, what) in [
        (2, "not an address"),
        (3, "no \"data.smtp\""),
        (4, "unknown status \"exploded\""),
        (5, "not base64"),
        (7, "not JSON"),
    ] {
        let needle = format!("zgrab2-malformed.jsonl:{line}: ");
        let l = err
            .lines()
            .find(|l| l.contains(&needle))
            .unwrap_or_else(|| panic!("no report for line {line}: {err}"));
        assert!(l.contains(what), "line {line}: {l}");
    }
    let recs = probe_records(&out);
    let ips: Vec<String> = recs.iter().map(|r| r.ip.to_string()).collect();
    assert_eq!(ips, ["127.160.0.1", "127.64.0.10"]);
    assert_eq!(recs[0].banner.as_ref().unwrap().code, 220);
    assert!(recs[0].capabilities.iter().any(|c| c == "STARTTLS"));
    let leaf = &recs[0].tls.as_ref().unwrap().chain[0];
    assert!(leaf.san_dns.iter().any(|n| n == "aspmx.l.google.com"));
    let m = meta(&out);
    assert_eq!((m.input_counts.rejected, m.input_counts.duplicates), (5, 1));
}

#[test]
fn censys_legacy_and_current_layouts_label_from_their_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let w = world(d);
    let ca = p(&w, "ca.pem");
    let (legacy, legacy25, current) = (p(d, "l.jsonl"), p(d, "l25.jsonl"), p(d, "c.jsonl"));
    let (code, err) = run(&[
        "ingest",
        "probes",
        &fx("censys-legacy.jsonl"),
        "--out",
        &legacy,
        "--roots",
        &ca,
    ]);
    assert_eq!(code, 3, "one malformed host (bad ip): {err}");
    assert!(
        err.contains("censys-legacy.jsonl:4: \"ip\" \"999.1.1.1\""),
        "{err}"
    );
    let recs = probe_records(&legacy);
    assert_eq!(
        recs.len(),
        2,
        "the host without port 25 is skipped, the duplicate dropped"
    );
    let v0 = recs[0].tls.as_ref().unwrap().verdict.as_ref().unwrap();
    assert!(v0.trusted && v0.roots.contains("censys validation.browser_trusted"));
    // The flattened record has no verdict: judged from its raw chain at its own time
    // (2021-06-01), before the world's certificates were valid; then at --at 2025-01-01.
    let v1 = recs[1].tls.as_ref().unwrap().verdict.as_ref().unwrap();
    assert!(!v1.trusted);
    assert_eq!(serde_json::to_value(&v1.reason).unwrap(), "not-yet-valid");
    assert_eq!(v1.checked_at, "2021-06-01T00:00:00Z");
    run(&[
        "ingest",
        "probes",
        &fx("censys-legacy.jsonl"),
        "--out",
        &legacy25,
        "--roots",
        &ca,
        "--at",
        "2025-01-01",
    ]);
    let recs25 = probe_records(&legacy25);
    assert!(
        recs25[1]
            .tls
            .as_ref()
            .unwrap()
            .verdict
            .as_ref()
            .unwrap()
            .trusted
    );
    assert!(recs25[1].banner.as_ref().unwrap().lines[0].contains("outlook.com"));

    let (code, err) = run(&[
        "ingest",
        "probes",
        &fx("censys-services.jsonl"),
        "--out",
        &current,
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("censys-services.jsonl:3: \"services\" is not an array"),
        "{err}"
    );
    let cur = probe_records(&current);
    assert_eq!(cur.len(), 1);
    assert!(cur[0].banner.as_ref().unwrap().lines[0].starts_with("220 mail-nwsmtp"));
    let leaf = &cur[0].tls.as_ref().unwrap().chain[0];
    assert!(leaf.san_dns.iter().any(|n| n == "mx.yandex.ru"));
    assert!(
        !cur[0]
            .tls
            .as_ref()
            .unwrap()
            .verdict
            .as_ref()
            .unwrap()
            .trusted
    );

    // End to end: the hand-written zdns domain on the legacy Censys evidence.
    let (dns, labels) = (p(d, "dns.jsonl"), p(d, "labels.jsonl"));
    ok(&["ingest", "dns", &fx("zdns-v2.jsonl"), "--out", &dns]);
    ok(&[
        "label",
        "--dns",
        &dns,
        "--probes",
        &legacy25,
        "--psl",
        &p(&w, "psl.dat"),
        "--out",
        &labels,
    ]);
    let l = labels_of(read_jsonl(Path::new(&labels)));
    assert_eq!(
        l["shop.example"],
        (
            "labelled".to_string(),
            vec![("google.com".to_string(), 1.0)]
        )
    );
    let shop = read_jsonl(Path::new(&labels))
        .into_iter()
        .find(|v| v["domain"] == "shop.example")
        .unwrap();
    assert_eq!(
        shop["approaches"]["priority"]["exchangers"][0]["source"],
        "certificate"
    );
}

#[test]
fn caida_as2org_text_and_jsonl_layouts_agree_and_audit_the_companies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, b, audit) = (p(d, "a.jsonl"), p(d, "b.jsonl"), p(d, "audit.json"));
    let (code, err) = run(&[
        "ingest",
        "as2org",
        &fx("as2org.txt"),
        "--out",
        &a,
        "--audit",
        &audit,
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("as2org.txt:9: bad AS number"), "{err}");
    assert!(err.contains("as2org.txt:10: 3 fields, expected 6"), "{err}");
    let (code, err) = run(&["ingest", "as2org", &fx("as2org.jsonl"), "--out", &b]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("as2org.jsonl:6: no known \"type\""), "{err}");
    assert!(err.contains("as2org.jsonl:7: not JSON"), "{err}");
    let (ra, rb) = (read_jsonl(Path::new(&a)), read_jsonl(Path::new(&b)));
    assert_eq!(ra, rb);
    assert_eq!(ra.len(), 3);
    assert_eq!(ra[0]["org_name"], "Google LLC");
    let au: Value = serde_json::from_str(&std::fs::read_to_string(&audit).unwrap()).unwrap();
    let google = au
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["company"] == "Google")
        .unwrap();
    assert_eq!(google["listed"]["15169"], "Google LLC");
    assert_eq!(google["unlisted_same_org"]["396982"], "Google LLC");
}

#[cfg(any(feature = "parquet", feature = "avro"))]
/// The OpenINTEL fixtures (same rows in Parquet and Avro, written by pyarrow and fastavro).
fn check_openintel(file: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = p(dir.path(), "dns.jsonl");
    let (code, err) = run(&["ingest", "dns", &fx(file), "--out", &out]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!("{file}:14: row 14: MX row without mx_preference")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{file}:15: row 15: ip4_address")),
        "{err}"
    );
    let recs = dns_records(&out);
    let st: Vec<(String, String)> = recs
        .iter()
        .map(|r| {
            (
                r.domain.clone(),
                serde_json::to_value(&r.status)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let want = [
        ("shop.example", "ok"),
        ("null.example", "null-mx"),
        ("gone.example", "nxdomain"),
        ("implicit.example", "no-mx"),
        ("alias.example", "ok"),
    ];
    assert_eq!(
        st,
        want.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    let shop = &recs[0];
    assert_eq!(shop.resolved_at, "2021-06-01T00:00:00.000Z");
    assert_eq!(shop.mx.len(), 2);
    let ips: Vec<String> = shop.exchangers[0]
        .addresses
        .iter()
        .map(|a| a.ip.to_string())
        .collect();
    assert_eq!(ips, ["127.160.0.1", "2001:db8::1"]);
    assert_eq!(
        recs[3].exchangers[0].addresses[0].ip.to_string(),
        "127.64.0.99"
    );
    assert_eq!(recs[4].cname, ["shop.example"]);
}

#[cfg(feature = "parquet")]
#[test]
fn openintel_parquet_rows_become_resolve_records() {
    check_openintel("openintel.parquet");
}

#[cfg(feature = "avro")]
#[test]
fn openintel_avro_rows_become_resolve_records() {
    check_openintel("openintel.avro");
}

#[cfg(not(feature = "parquet"))]
#[test]
fn openintel_parquet_without_the_feature_says_which_feature() {
    let (code, err) = run(&["ingest", "dns", &fx("openintel.parquet"), "--out", "-"]);
    assert_eq!(code, 1);
    assert!(err.contains("--features parquet"), "{err}");
}
