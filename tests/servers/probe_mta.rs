//! Integration tests against real MTAs from Debian (issue 3, item 7): Postfix and Exim, each
//! started with its own configuration on its own 127.x address and port, with STARTTLS on a
//! certificate from a test CA. Installed by `scripts/install-mta.sh`; a missing MTA fails.
//!
//! Only 127.0.0.0/8 is ever contacted, and no MAIL FROM or RCPT TO is ever sent.

#[path = "../common/mod.rs"]
mod common;

use common::mta::{self, Mta, MtaKind, TestPki};

/// The EHLO keywords each MTA advertises in plaintext as we configure it.
fn expected_capabilities(m: &Mta) -> Vec<String> {
    let size = format!("SIZE {}", m.size_limit);
    let caps: &[&str] = match m.kind {
        MtaKind::Postfix => &[
            "PIPELINING",
            &size,
            "VRFY",
            "ETRN",
            "STARTTLS",
            "ENHANCEDSTATUSCODES",
            "8BITMIME",
            "DSN",
            "SMTPUTF8",
            "CHUNKING",
        ],
        MtaKind::Exim => &[
            &size,
            "8BITMIME",
            "PIPELINING",
            "CHUNKING",
            "STARTTLS",
            "SMTPUTF8",
            "HELP",
        ],
    };
    caps.iter().map(|s| s.to_string()).collect()
}

/// The harness on its own: the MTA greets with our banner, advertises STARTTLS and our SIZE,
/// and presents exactly the leaf we issued, which verifies against the test root for the
/// exchanger name, not for another name, and not against another root.
fn harness_dialogue(kind: MtaKind) {
    let m = mta::start(kind);
    let d = mta::starttls_dialogue(m.addr, &m.name, &m.pki.ca_der)
        .unwrap_or_else(|e| panic!("{kind:?} on {}: {e}\nlog:\n{}", m.addr, m.log()));

    assert_eq!(d.banner.code, 220);
    assert_eq!(d.banner.lines, vec![format!("220 {}", m.banner_text)]);

    assert_eq!(d.ehlo.code, 250, "{:?}", d.ehlo);
    assert!(
        d.ehlo.texts()[0].starts_with(&m.name),
        "EHLO greeting names the host: {:?}",
        d.ehlo
    );
    let caps = d.ehlo.keywords();
    for want in expected_capabilities(&m) {
        assert!(caps.contains(&want), "{kind:?} lacks {want}: {caps:?}");
    }

    assert_eq!(d.starttls.code, 220, "{:?}", d.starttls);
    assert_eq!(d.tls_version, "TLSv1_3");
    assert_eq!(d.chain.len(), 1, "only the leaf is configured");
    assert_eq!(d.chain[0], m.pki.leaf_der, "the leaf we issued");
    assert_eq!(mta::sha256_hex(&d.chain[0]), m.pki.leaf_sha256());

    assert_eq!(d.tls_ehlo.code, 250, "{:?}", d.tls_ehlo);
    let tls_caps = d.tls_ehlo.keywords();
    assert!(!tls_caps.contains(&"STARTTLS".to_string()), "{tls_caps:?}");
    assert!(tls_caps.contains(&"PIPELINING".to_string()), "{tls_caps:?}");
    assert_eq!(d.quit.code, 221, "{:?}", d.quit);

    let err = mta::starttls_dialogue(m.addr, "mx.other.test", &m.pki.ca_der)
        .expect_err("a certificate for another name must not verify");
    assert!(
        err.starts_with("tls:") && err.to_lowercase().contains("name"),
        "{err}"
    );
    let other_root = TestPki::issue("mx.other.test");
    let err = mta::starttls_dialogue(m.addr, &m.name, &other_root.ca_der)
        .expect_err("the chain must not verify against another root");
    assert!(
        err.starts_with("tls:") && err.to_lowercase().contains("issuer"),
        "{err}"
    );
}

#[test]
fn postfix_harness_greets_offers_starttls_and_presents_test_leaf() {
    harness_dialogue(MtaKind::Postfix);
}

#[test]
fn exim_harness_greets_offers_starttls_and_presents_test_leaf() {
    harness_dialogue(MtaKind::Exim);
}

/// Runs `mxinfer probe` on one `address,exchanger-name` target at the MTA's port, allowing
/// only 127.0.0.0/8, and returns its single record. `roots` None means Mozilla's roots.
fn probe(m: &Mta, name: &str, roots: Option<&std::path::Path>) -> serde_json::Value {
    let work = tempfile::tempdir().unwrap();
    let targets = work.path().join("targets.txt");
    std::fs::write(&targets, format!("{},{name}\n", m.ip())).unwrap();
    let out = work.path().join("probes.jsonl");
    let port = m.port().to_string();
    let mut args = vec![
        "probe".to_string(),
        targets.display().to_string(),
        "--port".into(),
        port,
        "--allow-private".into(),
        "127.0.0.0/8".into(),
        "--out".into(),
        out.display().to_string(),
        "--ehlo-name".into(),
        "probe.mxinfer.test".into(),
    ];
    if let Some(r) = roots {
        args.push("--roots".into());
        args.push(r.display().to_string());
    }
    // MXINFER_LOOPBACK_ONLY=1: the binary itself refuses anything outside 127.0.0.0/8.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_mxinfer"))
        .args(&args)
        .args(["--progress", "off"])
        .env("MXINFER_LOOPBACK_ONLY", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running mxinfer");
    assert!(
        o.status.success(),
        "mxinfer {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        m.log()
    );
    let recs = common::read_jsonl(&out);
    assert_eq!(recs.len(), 1, "{recs:?}");
    let rec = recs.into_iter().next().unwrap();
    // Every field is one the documented schema knows.
    if let Err(e) = serde_json::from_value::<common::schema::HostProbe>(rec.clone()) {
        panic!("record outside the documented schema: {e}\n{rec:#}");
    }
    rec
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// `mxinfer probe` against the real MTA records its banner, EHLO capabilities, the chain we
/// issued, trusted against the test root, the name match for the exchanger name (and not for
/// another name), and `ok`.
fn probe_records(kind: MtaKind) {
    use base64::Engine;
    let m = mta::start(kind);
    let ca = m.ca_file();
    let r = probe(&m, &m.name, Some(&ca));
    let ctx = format!("{kind:?} record: {r:#}\nlog:\n{}", m.log());

    assert_eq!(r["ip"], m.ip().to_string(), "{ctx}");
    assert_eq!(r["port"], m.port(), "{ctx}");
    assert_eq!(strings(&r["names"]), vec![m.name.clone()], "{ctx}");
    assert_eq!(r["status"], "ok", "{ctx}");
    assert!(r.get("step").is_none() && r.get("error").is_none(), "{ctx}");
    assert!(r.get("flags").is_none(), "no flags expected: {ctx}");

    assert_eq!(r["banner"]["code"], 220, "{ctx}");
    assert_eq!(
        strings(&r["banner"]["lines"]),
        vec![format!("220 {}", m.banner_text)],
        "{ctx}"
    );
    assert_eq!(r["ehlo"]["code"], 250, "{ctx}");
    let ehlo_lines = strings(&r["ehlo"]["lines"]);
    assert!(
        ehlo_lines[0].starts_with(&format!("250-{}", m.name)),
        "{ctx}"
    );
    let caps = strings(&r["capabilities"]);
    for want in expected_capabilities(&m) {
        assert!(caps.contains(&want), "{kind:?} lacks {want} in {caps:?}");
    }
    assert_eq!(r["starttls"]["code"], 220, "{ctx}");
    assert_eq!(r["quit"]["code"], 221, "{ctx}");

    let tls = &r["tls"];
    assert_eq!(tls["stack"], "rustls", "{ctx}");
    assert_eq!(tls["established"], true, "{ctx}");
    assert_eq!(tls["version"], "TLSv1.3", "{ctx}");
    assert!(
        tls["cipher"].as_str().is_some_and(|c| !c.is_empty()),
        "{ctx}"
    );
    assert_eq!(tls["sni"], m.name.as_str(), "{ctx}");
    let chain = tls["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 1, "only the leaf is configured: {ctx}");
    let leaf = &chain[0];
    let der = base64::engine::general_purpose::STANDARD
        .decode(leaf["der"].as_str().unwrap())
        .unwrap();
    assert_eq!(der, m.pki.leaf_der, "the DER we issued");
    assert_eq!(leaf["sha256"], m.pki.leaf_sha256(), "{ctx}");
    assert_eq!(strings(&leaf["san_dns"]), vec![m.name.clone()], "{ctx}");
    assert_eq!(leaf["subject_cn"], m.name.as_str(), "{ctx}");
    assert!(
        leaf["issuer"].as_str().unwrap().contains("mxinfer test CA"),
        "{ctx}"
    );
    assert_eq!(leaf["version"], 3, "{ctx}");
    assert_eq!(leaf["key_type"], "ecdsa", "{ctx}");
    assert_eq!(leaf["key_bits"], 256, "{ctx}");
    assert_eq!(leaf["self_signed"], false, "{ctx}");
    assert_eq!(leaf["is_ca"], false, "{ctx}");

    let v = &tls["verdict"];
    assert_eq!(v["trusted"], true, "{ctx}");
    assert!(v.get("reason").is_none(), "{ctx}");
    assert_eq!(v["name_match"], true, "{ctx}");
    assert_eq!(v["matched_name"], m.name.as_str(), "{ctx}");
    assert_eq!(v["roots"], ca.display().to_string(), "{ctx}");

    assert_eq!(tls["ehlo"]["code"], 250, "{ctx}");
    let tls_ehlo = strings(&tls["ehlo"]["lines"]);
    assert!(
        !tls_ehlo.iter().any(|l| l.ends_with("STARTTLS")),
        "no STARTTLS inside TLS: {ctx}"
    );

    // Another exchanger name: the same chain, still trusted, but no name match.
    let r = probe(&m, "mx.other.test", Some(&ca));
    let ctx = format!("{kind:?} record (other name): {r:#}");
    assert_eq!(r["status"], "ok", "{ctx}");
    assert_eq!(r["tls"]["sni"], "mx.other.test", "{ctx}");
    assert_eq!(r["tls"]["chain"][0]["sha256"], m.pki.leaf_sha256(), "{ctx}");
    assert_eq!(r["tls"]["verdict"]["trusted"], true, "{ctx}");
    assert_eq!(r["tls"]["verdict"]["name_match"], false, "{ctx}");
    assert!(r["tls"]["verdict"].get("matched_name").is_none(), "{ctx}");

    // Mozilla's roots: the chain is kept but not trusted (unknown issuer); the name matches.
    let r = probe(&m, &m.name, None);
    let ctx = format!("{kind:?} record (Mozilla roots): {r:#}");
    assert_eq!(r["status"], "ok", "{ctx}");
    assert_eq!(r["tls"]["chain"][0]["sha256"], m.pki.leaf_sha256(), "{ctx}");
    assert_eq!(r["tls"]["verdict"]["trusted"], false, "{ctx}");
    assert_eq!(r["tls"]["verdict"]["reason"], "unknown-issuer", "{ctx}");
    assert_eq!(r["tls"]["verdict"]["roots"], "mozilla", "{ctx}");
    assert_eq!(r["tls"]["verdict"]["name_match"], true, "{ctx}");
}

#[test]
fn postfix_probe_records_banner_capabilities_and_trusted_chain() {
    probe_records(MtaKind::Postfix);
}

#[test]
fn exim_probe_records_banner_capabilities_and_trusted_chain() {
    probe_records(MtaKind::Exim);
}
