//! Bad input files for `resolve`, `probe` and `label`: binary junk, 1 MB (and longer) lines,
//! invalid UTF-8, CRLF line ends, a byte-order mark, empty files. Every bad line is reported
//! on stderr as `FILE:LINE: reason`, every valid line is still processed, and the exit code
//! tells a complete run (0) from one with rejected lines (3).

#[path = "../common/mod.rs"]
mod common;

use common::{mxinfer, read_jsonl, resolve_test_zone, start_nsd};
use std::net::IpAddr;
use std::path::Path;

const JUNK: &[u8] = b"\x00\x01\x02binary\xff\xfe\x7f\x1b[31m\x00junk";

/// A line of `n` bytes that is not a domain or an address.
fn long_line(n: usize) -> Vec<u8> {
    let mut v = vec![b'a'; n];
    v.extend_from_slice(b".example");
    v
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Bad lines are echoed shortened, so stderr stays small whatever the input.
fn assert_small(err: &str) {
    assert!(err.len() < 8 * 1024, "stderr of {} bytes", err.len());
}

fn meta(path: &Path) -> common::schema::RunMeta {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn resolve_reports_bad_lines_and_resolves_the_rest() {
    let any: IpAddr = "127.0.0.9".parse().unwrap();
    let nsd = start_nsd(&[("test.", resolve_test_zone(any, any, any))]);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("domains.txt");
    let mut input: Vec<u8> = b"\xEF\xBB\xBFplain4.test\r\n".to_vec();
    input.extend_from_slice(JUNK);
    input.extend_from_slice(b"\r\n\r\n");
    input.extend_from_slice(&long_line(1 << 20));
    input.extend_from_slice(b"\r\ncaf\xe9.test\r\nmissing.test\r\n");
    std::fs::write(&list, &input).unwrap();
    let out = dir.path().join("dns.jsonl");
    let o = mxinfer(
        &[
            "resolve",
            list.to_str().unwrap(),
            "--nameserver",
            &nsd.ns(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let f = list.to_str().unwrap();
    assert!(err.contains(&format!("{f}:2: not valid UTF-8")), "{err}");
    assert!(
        err.contains(&format!("{f}:4: line longer than 65536 bytes")),
        "{err}"
    );
    assert!(err.contains(&format!("{f}:5: not valid UTF-8")), "{err}");
    assert_small(&err);
    let recs = read_jsonl(&out);
    let got: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| (r["domain"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.contains(&("plain4.test", "ok")));
    assert!(got.contains(&("missing.test", "nxdomain")));
    let m = meta(&dir.path().join("dns.jsonl.meta.json"));
    let c = &m.input_counts;
    assert_eq!((c.lines, c.blank, c.accepted, c.rejected), (6, 1, 2, 3));

    // CRLF and a BOM alone are not errors: exit code 0.
    std::fs::write(&list, b"\xEF\xBB\xBFplain4.test\r\nmissing.test\r\n").unwrap();
    let o = mxinfer(
        &[
            "resolve",
            list.to_str().unwrap(),
            "--nameserver",
            &nsd.ns(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(read_jsonl(&out).len(), 2);

    // An empty file: a complete run with nothing in it.
    std::fs::write(&list, b"").unwrap();
    let o = mxinfer(
        &[
            "resolve",
            list.to_str().unwrap(),
            "--nameserver",
            &nsd.ns(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(read_jsonl(&out).is_empty());
    assert_eq!(
        meta(&dir.path().join("dns.jsonl.meta.json"))
            .input_counts
            .lines,
        0
    );
}

fn probe(dir: &Path, input: &[u8]) -> (std::process::Output, Vec<serde_json::Value>, String) {
    let t = dir.join("targets.txt");
    std::fs::write(&t, input).unwrap();
    let out = dir.join("probes.jsonl");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_mxinfer"))
        .arg("probe")
        .arg(&t)
        .arg("--out")
        .arg(&out)
        .args(["--progress", "off"])
        // Nothing here is dialled: the targets are documentation addresses (non-public),
        // and the loopback guard refuses anything else.
        .env("MXINFER_LOOPBACK_ONLY", "1")
        .output()
        .unwrap();
    let recs = read_jsonl(&out);
    (o, recs, t.to_str().unwrap().to_string())
}

#[test]
fn probe_reports_bad_target_lines_and_plans_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut input: Vec<u8> = b"\xEF\xBB\xBF192.0.2.1,mx.a.example\r\n".to_vec();
    input.extend_from_slice(JUNK);
    input.extend_from_slice(b"\r\n\r\n");
    input.extend_from_slice(&long_line(2 << 20));
    input.extend_from_slice(b"\r\n");
    input.extend_from_slice(&long_line(1_000_000));
    input.extend_from_slice(b"\r\n198.51.100.\xff\r\n198.51.100.7\r\n");
    let (o, recs, f) = probe(dir.path(), &input);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains(&format!("{f}:2: not valid UTF-8")), "{err}");
    assert!(
        err.contains(&format!("{f}:4: line longer than 1048576 bytes")),
        "{err}"
    );
    assert!(err.contains(&format!("{f}:5: not an IP address")), "{err}");
    assert!(err.contains(&format!("{f}:6: not valid UTF-8")), "{err}");
    assert_small(&err);
    let ips: Vec<&str> = recs.iter().map(|r| r["ip"].as_str().unwrap()).collect();
    assert_eq!(ips.len(), 2, "{ips:?}");
    assert!(ips.contains(&"192.0.2.1") && ips.contains(&"198.51.100.7"));
    assert!(recs.iter().all(|r| r["status"] == "skipped-private"));
    let a = recs.iter().find(|r| r["ip"] == "192.0.2.1").unwrap();
    assert_eq!(a["names"], serde_json::json!(["mx.a.example"]));
    let m = meta(&dir.path().join("probes.jsonl.meta.json"));
    let c = &m.input_counts;
    assert_eq!((c.lines, c.blank, c.accepted, c.rejected), (7, 1, 2, 4));

    // Resolve output with junk between records: JSON lines that do not parse are rejected.
    let rec = serde_json::json!({
        "domain": "a.example", "input": {"line": 1}, "status": "ok",
        "exchangers": [{"name": "mx.a.example", "preference": 10,
            "a": {"status": "ok", "values": ["192.0.2.9"]}, "aaaa": {"status": "nodata"},
            "addresses": [{"ip": "192.0.2.9", "class": "documentation"}]}],
        "config_class": "plain-ipv4-only", "passes": 1, "resolved_at": "2026-11-30T12:00:00Z"
    })
    .to_string();
    let mut input = format!("\u{FEFF}{rec}\r\n{{\"domain\": 5\r\n").into_bytes();
    input.extend_from_slice(JUNK);
    input.extend_from_slice(b"\n");
    let (o, recs, f) = probe(dir.path(), &input);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!("{f}:2: not a resolve record")),
        "{err}"
    );
    assert!(err.contains(&format!("{f}:3: not valid UTF-8")), "{err}");
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["ip"], "192.0.2.9");

    // An empty file: nothing to do, complete.
    let (o, recs, _) = probe(dir.path(), b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(recs.is_empty());
}

#[test]
fn label_reports_bad_evidence_lines_and_labels_the_rest() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/label");
    let clean_dns = std::fs::read(fixtures.join("dns.jsonl")).unwrap();
    let clean_probes = std::fs::read(fixtures.join("probes.jsonl")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The same records with a BOM, CRLF line ends and junk lines between them.
    let mangle = |clean: &[u8]| {
        let mut v: Vec<u8> = b"\xEF\xBB\xBF".to_vec();
        for (i, line) in clean
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .enumerate()
        {
            v.extend_from_slice(line);
            v.extend_from_slice(b"\r\n");
            if i == 0 {
                v.extend_from_slice(JUNK);
                v.extend_from_slice(b"\r\n");
                v.extend_from_slice(&long_line(1 << 20));
                v.extend_from_slice(b"\r\n{\"caf\xe9\": 1}\r\n");
            }
        }
        v
    };
    let dns = dir.path().join("dns.jsonl");
    let probes = dir.path().join("probes.jsonl");
    std::fs::write(&dns, mangle(&clean_dns)).unwrap();
    std::fs::write(&probes, mangle(&clean_probes)).unwrap();
    let out = dir.path().join("labels.jsonl");
    let o = mxinfer(
        &[
            "label",
            "--dns",
            dns.to_str().unwrap(),
            "--probes",
            probes.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    for f in [&dns, &probes] {
        let f = f.to_str().unwrap();
        for line in 2..=4 {
            assert!(err.contains(&format!("{f}:{line}: not a record")), "{err}");
        }
    }
    assert_small(&err);
    // Every domain of the clean file is labelled, as from the clean files.
    let labels = read_jsonl(&out);
    let clean_out = dir.path().join("clean.jsonl");
    let o = mxinfer(
        &[
            "label",
            "--dns",
            fixtures.join("dns.jsonl").to_str().unwrap(),
            "--probes",
            fixtures.join("probes.jsonl").to_str().unwrap(),
            "--out",
            clean_out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let clean = read_jsonl(&clean_out);
    assert_eq!(labels.len(), clean.len());
    for (a, b) in labels.iter().zip(&clean) {
        assert_eq!(a["domain"], b["domain"]);
        assert_eq!(a["providers"], b["providers"]);
    }

    // Empty evidence files: a complete run with nothing in it.
    std::fs::write(&dns, b"").unwrap();
    std::fs::write(&probes, b"").unwrap();
    let o = mxinfer(
        &[
            "label",
            "--dns",
            dns.to_str().unwrap(),
            "--probes",
            probes.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(read_jsonl(&out).is_empty());
}
