//! The resolve stage against real DNS servers: NSD (authoritative) for every case of the test
//! zone, and Unbound (recursive) in front of it for SERVFAIL and timeout.
//!
//! Each case's whole record is compared with the expected JSON (only `resolved_at`, a clock
//! reading, is checked for its form and then removed), so every field is asserted.

#[path = "../common/mod.rs"]
mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

const CASES: &[&str] = &[
    "plain4.test",
    "plain6.test",
    "dual.test",
    "rr.test",
    "bal.test",
    "hybrid.test",
    "shared1.test",
    "shared2.test",
    "shared3.test",
    "nullmx.test",
    "nullmixed.test",
    "implicit.test",
    "nomail.test",
    "missing.test",
    "alias.test",
    "cnamemx.test",
    "nolist.test",
    "iplit.test",
    "classes.test",
    "outside.example",
    "dead.test",
];

fn ok(ttl: u32, values: &[&str]) -> Value {
    json!({"status": "ok", "ttl": ttl, "values": values})
}
fn nodata() -> Value {
    json!({"status": "nodata", "ttl": 60})
}
fn nx() -> Value {
    json!({"status": "nxdomain", "ttl": 60})
}
fn addrs(list: &[(&str, &str)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(ip, class)| json!({"ip": ip, "class": class}))
            .collect(),
    )
}
/// The exchanger every case that points at mx1.plain4.test shares.
fn plain4_exchanger(pref: u16) -> Value {
    json!({"name": "mx1.plain4.test", "preference": pref,
           "a": ok(600, &["192.0.43.10"]), "aaaa": nodata(),
           "addresses": addrs(&[("192.0.43.10", "public")])})
}
fn mx(pref: u16, ex: &str, ttl: u32) -> Value {
    json!({"preference": pref, "exchange": ex, "ttl": ttl})
}

fn expected() -> BTreeMap<&'static str, Value> {
    let mut e = BTreeMap::new();
    e.insert(
        "plain4.test",
        json!({
        "domain": "plain4.test", "input": {"line": 1}, "status": "ok",
        "mx": [mx(10, "mx1.plain4.test", 3600)], "mx_ttl": 3600,
        "exchangers": [plain4_exchanger(10)],
        "config_class": "plain-ipv4-only", "passes": 1}),
    );
    e.insert(
        "plain6.test",
        json!({
        "domain": "plain6.test", "input": {"line": 2}, "status": "ok",
        "mx": [mx(10, "mx.plain6.test", 300)], "mx_ttl": 300,
        "exchangers": [{"name": "mx.plain6.test", "preference": 10,
            "a": nodata(), "aaaa": ok(300, &["2a00:1450:4001::1a"]),
            "addresses": addrs(&[("2a00:1450:4001::1a", "public")])}],
        "config_class": "plain-ipv6-only", "passes": 1}),
    );
    e.insert(
        "dual.test",
        json!({
        "domain": "dual.test", "input": {"line": 3}, "status": "ok",
        "mx": [mx(10, "mx.dual.test", 300)], "mx_ttl": 300,
        "exchangers": [{"name": "mx.dual.test", "preference": 10,
            "a": ok(300, &["192.0.43.11"]), "aaaa": ok(300, &["2a00:1450:4001::1b"]),
            "addresses": addrs(&[("192.0.43.11", "public"), ("2a00:1450:4001::1b", "public")])}],
        "config_class": "plain-dual-stack", "passes": 1}),
    );
    e.insert(
        "rr.test",
        json!({
        "domain": "rr.test", "input": {"line": 4}, "status": "ok",
        "mx": [mx(10, "mx.rr.test", 300)], "mx_ttl": 300,
        "exchangers": [{"name": "mx.rr.test", "preference": 10,
            "a": ok(300, &["192.0.43.12", "192.0.43.13", "192.0.43.14"]), "aaaa": nodata(),
            "addresses": addrs(&[("192.0.43.12", "public"), ("192.0.43.13", "public"),
                                 ("192.0.43.14", "public")])}],
        "config_class": "round-robin", "passes": 1}),
    );
    e.insert(
        "bal.test",
        json!({
        "domain": "bal.test", "input": {"line": 5}, "status": "ok",
        "mx": [mx(10, "mx1.bal.test", 300), mx(20, "mx2.bal.test", 300)], "mx_ttl": 300,
        "exchangers": [
            {"name": "mx1.bal.test", "preference": 10, "a": ok(300, &["192.0.43.15"]),
             "aaaa": nodata(), "addresses": addrs(&[("192.0.43.15", "public")])},
            {"name": "mx2.bal.test", "preference": 20, "a": ok(300, &["192.0.43.16"]),
             "aaaa": nodata(), "addresses": addrs(&[("192.0.43.16", "public")])}],
        "config_class": "mx-balancing", "passes": 1}),
    );
    e.insert(
        "hybrid.test",
        json!({
        "domain": "hybrid.test", "input": {"line": 6}, "status": "ok",
        "mx": [mx(10, "a.hybrid.test", 300), mx(10, "b.hybrid.test", 300)], "mx_ttl": 300,
        "exchangers": [
            {"name": "a.hybrid.test", "preference": 10,
             "a": ok(300, &["192.0.43.17", "192.0.43.18"]), "aaaa": nodata(),
             "addresses": addrs(&[("192.0.43.17", "public"), ("192.0.43.18", "public")])},
            {"name": "b.hybrid.test", "preference": 10, "a": ok(300, &["192.0.43.19"]),
             "aaaa": nodata(), "addresses": addrs(&[("192.0.43.19", "public")])}],
        "config_class": "hybrid", "passes": 1}),
    );
    for (i, d) in ["shared1.test", "shared2.test", "shared3.test"]
        .iter()
        .enumerate()
    {
        e.insert(
            d,
            json!({
            "domain": d, "input": {"line": 7 + i}, "status": "ok",
            "mx": [mx(5, "mx.provider.test", 300)], "mx_ttl": 300,
            "exchangers": [{"name": "mx.provider.test", "preference": 5,
                "a": ok(300, &["192.0.43.30"]), "aaaa": nodata(),
                "addresses": addrs(&[("192.0.43.30", "public")])}],
            "config_class": "plain-ipv4-only", "passes": 1}),
        );
    }
    e.insert(
        "nullmx.test",
        json!({
        "domain": "nullmx.test", "input": {"line": 10}, "status": "null-mx",
        "mx": [mx(0, ".", 300)], "mx_ttl": 300,
        "config_class": "non-identified", "passes": 1}),
    );
    e.insert(
        "nullmixed.test",
        json!({
        "domain": "nullmixed.test", "input": {"line": 11}, "status": "ok",
        "flags": ["null-mx-mixed"],
        "mx": [mx(0, ".", 300), mx(10, "mx1.plain4.test", 300)], "mx_ttl": 300,
        "exchangers": [plain4_exchanger(10)],
        "config_class": "plain-ipv4-only", "passes": 1}),
    );
    e.insert(
        "implicit.test",
        json!({
        "domain": "implicit.test", "input": {"line": 12}, "status": "no-mx", "mx_ttl": 60,
        "exchangers": [{"name": "implicit.test", "preference": 0, "flags": ["implicit"],
            "a": ok(300, &["192.0.43.20"]), "aaaa": ok(300, &["2a00:1450:4001::20"]),
            "addresses": addrs(&[("192.0.43.20", "public"), ("2a00:1450:4001::20", "public")])}],
        "config_class": "non-identified", "passes": 1}),
    );
    e.insert(
        "nomail.test",
        json!({
        "domain": "nomail.test", "input": {"line": 13}, "status": "no-mail", "mx_ttl": 60,
        "exchangers": [{"name": "nomail.test", "preference": 0,
            "flags": ["no-address", "implicit"], "a": nodata(), "aaaa": nodata()}],
        "config_class": "non-identified", "passes": 1}),
    );
    e.insert(
        "missing.test",
        json!({
        "domain": "missing.test", "input": {"line": 14}, "status": "nxdomain", "mx_ttl": 60,
        "config_class": "non-identified", "passes": 1}),
    );
    e.insert(
        "alias.test",
        json!({
        "domain": "alias.test", "input": {"line": 15}, "status": "ok",
        "flags": ["apex-cname"], "cname": ["target.test"],
        "mx": [mx(10, "mx1.plain4.test", 300)], "mx_ttl": 300,
        "exchangers": [plain4_exchanger(10)],
        "config_class": "plain-ipv4-only", "passes": 1}),
    );
    e.insert(
        "cnamemx.test",
        json!({
        "domain": "cnamemx.test", "input": {"line": 16}, "status": "ok",
        "mx": [mx(10, "alias-mx.cnamemx.test", 300)], "mx_ttl": 300,
        "exchangers": [{"name": "alias-mx.cnamemx.test", "preference": 10, "flags": ["cname"],
            "a": {"status": "ok", "ttl": 600, "cname": ["mx1.plain4.test"],
                  "values": ["192.0.43.10"]},
            "aaaa": {"status": "nodata", "ttl": 60, "cname": ["mx1.plain4.test"]},
            "addresses": addrs(&[("192.0.43.10", "public")])}],
        "config_class": "plain-ipv4-only", "passes": 1}),
    );
    e.insert(
        "nolist.test",
        json!({
        "domain": "nolist.test", "input": {"line": 17}, "status": "ok",
        "flags": ["exchanger-without-address"],
        "mx": [mx(5, "nothere.nolist.test", 300), mx(20, "mx1.plain4.test", 300)],
        "mx_ttl": 300,
        "exchangers": [
            {"name": "nothere.nolist.test", "preference": 5, "flags": ["no-address"],
             "a": nx(), "aaaa": nx()},
            plain4_exchanger(20)],
        // Seed 000 counts MX records (2) against distinct addresses (1): hybrid.
        "config_class": "hybrid", "passes": 1}),
    );
    // The authoritative server refuses the out-of-zone name 192.0.2.1.
    let refused = json!({"status": "refused", "error": "response code Query Refused"});
    e.insert(
        "iplit.test",
        json!({
        "domain": "iplit.test", "input": {"line": 18}, "status": "ok",
        "flags": ["exchanger-without-address", "no-reachable-exchanger"],
        "mx": [mx(10, "192.0.2.1", 300)], "mx_ttl": 300,
        "exchangers": [{"name": "192.0.2.1", "preference": 10,
            "flags": ["no-address", "ip-literal"], "a": refused, "aaaa": refused}],
        "config_class": "non-identified", "passes": 1}),
    );
    e.insert(
        "classes.test",
        json!({
        "domain": "classes.test", "input": {"line": 19}, "status": "ok",
        "mx": [mx(10, "mx.classes.test", 300)], "mx_ttl": 300,
        "exchangers": [{"name": "mx.classes.test", "preference": 10,
            "flags": ["non-public-address"],
            "a": ok(300, &["192.0.43.25", "10.0.0.25", "127.0.0.25", "169.254.0.25",
                           "100.64.0.25", "192.0.2.25", "240.0.0.25"]),
            "aaaa": ok(300, &["fd00::25", "2001:db8::25", "fe80::25"]),
            "addresses": addrs(&[
                ("192.0.43.25", "public"), ("10.0.0.25", "private"),
                ("127.0.0.25", "loopback"), ("169.254.0.25", "link-local"),
                ("100.64.0.25", "shared"), ("192.0.2.25", "documentation"),
                ("240.0.0.25", "reserved"), ("fd00::25", "private"),
                ("2001:db8::25", "documentation"), ("fe80::25", "link-local")])}],
        "config_class": "round-robin", "passes": 1}),
    );
    // Asked directly, the authoritative server only refers to the delegated child.
    e.insert(
        "dead.test",
        json!({
        "domain": "dead.test", "input": {"line": 21}, "status": "error",
        "config_class": "non-identified", "passes": 1,
        "error": "referral to dead.test: the name server does not recurse"}),
    );
    e.insert(
        "outside.example",
        json!({
        "domain": "outside.example", "input": {"line": 20}, "status": "refused",
        "config_class": "non-identified", "passes": 1,
        "error": "response code Query Refused"}),
    );
    e
}

/// Output records by domain, each checked against the strict schema, `resolved_at` removed.
fn records(path: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for mut v in read_jsonl(path) {
        let strict: schema::DomainDns = serde_json::from_value(v.clone())
            .unwrap_or_else(|e| panic!("record does not match the documented schema: {e}\n{v}"));
        assert!(
            strict.resolved_at.len() == 24 && strict.resolved_at.ends_with('Z'),
            "resolved_at {:?}",
            strict.resolved_at
        );
        v.as_object_mut().unwrap().remove("resolved_at");
        let prev = out.insert(strict.domain.clone(), v);
        assert!(prev.is_none(), "{} appears twice", strict.domain);
    }
    out
}

fn nsd_with_test_zone() -> Server {
    // The dead/silent servers are not used against NSD directly; any address will do.
    let any: IpAddr = "127.0.0.9".parse().unwrap();
    let z = resolve_test_zone(any, any, any);
    start_nsd(&[
        ("test.", z),
        ("43.0.192.in-addr.arpa.", resolve_test_rev_zone()),
    ])
}

#[test]
fn every_case_of_the_test_zone_gives_the_expected_record() {
    let nsd = nsd_with_test_zone();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("domains.txt");
    std::fs::write(&list, CASES.join("\n") + "\n").unwrap();
    // The zone resolved with the DNS client `client`: its output file.
    let resolve_with = |client: &str| {
        let out = dir.path().join(format!("dns-{client}.jsonl"));
        let o = mxinfer(
            &[
                "resolve",
                list.to_str().unwrap(),
                "--nameserver",
                &nsd.ns(),
                "--out",
                out.to_str().unwrap(),
                "--timeout",
                "2",
                "--dns-client",
                client,
            ],
            None,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let got = records(&resolve_with("own"));
    let want = expected();
    assert_eq!(got.len(), CASES.len());
    for (d, w) in &want {
        assert_eq!(got.get(*d), Some(w), "record of {d}");
    }

    // The run metadata sits beside the output and accounts for every domain.
    let meta: schema::RunMeta = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("dns-own.jsonl.meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta.command, "resolve");
    assert_eq!(meta.input_counts.accepted, CASES.len() as u64);
    assert_eq!(meta.input_counts.lines, CASES.len() as u64);
    let counts: BTreeMap<&str, u64> = meta
        .status_counts
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("ok", 15),
            ("null-mx", 1),
            ("no-mx", 1),
            ("no-mail", 1),
            ("nxdomain", 1),
            ("refused", 1),
            ("error", 1)
        ])
    );
    // Shared exchangers were asked once: mx1.plain4.test serves four domains (plain4,
    // nullmixed, alias, nolist) and mx.provider.test three, so (3 + 2) * 2 of the A/AAAA
    // lookups were answered from the shared map; 30 distinct (name, type) were asked.
    let cache = &meta.stage["exchanger_cache"];
    assert_eq!(cache["hits"], 10, "{cache}");
    assert_eq!(cache["misses"], 30, "{cache}");
    assert_eq!(cache["evictions"], 0);
    assert_eq!(meta.stage["queries_sent"], 30 + CASES.len() as u64);
    assert_eq!(meta.stage["nameservers"][0], nsd.ns());
    assert!(
        meta.stage["resolver"]
            .as_str()
            .unwrap()
            .starts_with("mxinfer")
    );
    assert!(!meta.interrupted);

    // hickory-resolver, kept behind `--dns-client hickory` for comparison, gives the same
    // records.
    assert_eq!(records(&resolve_with("hickory")), got);
}

#[test]
fn txt_gives_spf_and_ptr_gives_reverse_names() {
    let nsd = nsd_with_test_zone();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dns.jsonl");
    let o = mxinfer(
        &[
            "resolve",
            "-",
            "--nameserver",
            &nsd.ns(),
            "--out",
            out.to_str().unwrap(),
            "--txt",
            "--ptr",
        ],
        Some(b"spf.test\nplain4.test\nmissing.test\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = records(&out);
    let spf = &got["spf.test"];
    assert_eq!(
        spf["spf"],
        json!({"txt": {"status": "ok", "ttl": 300,
                       "values": ["v=spf1 ip4:192.0.43.10 -all", "site-verification=abc"]},
               "present": true, "records": ["v=spf1 ip4:192.0.43.10 -all"]})
    );
    assert_eq!(
        spf["exchangers"][0]["addresses"][0],
        json!({"ip": "192.0.43.10", "class": "public",
               "ptr": {"status": "ok", "ttl": 300, "values": ["mx1.plain4.test"]}})
    );
    assert_eq!(
        got["plain4.test"]["spf"],
        json!({"txt": {"status": "nodata", "ttl": 60}, "present": false})
    );
    // No TXT lookup for a domain that does not exist.
    assert!(got["missing.test"].get("spf").is_none());
}

#[test]
fn truncated_udp_answers_are_retried_over_tcp_and_come_out_whole() {
    let nsd = nsd_with_test_zone();
    let dir = tempfile::tempdir().unwrap();
    for extra in [None, Some("--no-edns")] {
        let out = dir.path().join("big.jsonl");
        let ns = nsd.ns();
        let mut args = vec!["resolve", "-", "--nameserver", &ns];
        let o_s = out.to_str().unwrap().to_string();
        args.extend(["--out", &o_s]);
        if let Some(x) = extra {
            args.push(x);
        }
        let o = mxinfer(&args, Some(b"big.test\n"));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let got = records(&out);
        let r = &got["big.test"];
        assert_eq!(r["status"], "ok");
        let mxs = r["mx"].as_array().unwrap();
        assert_eq!(mxs.len(), 20, "{extra:?}");
        let ex = r["exchangers"].as_array().unwrap();
        assert_eq!(ex.len(), 20);
        let mut all = std::collections::BTreeSet::new();
        for (i, e) in ex.iter().enumerate() {
            assert_eq!(
                e["name"],
                format!(
                    "mx{:02}-with-a-deliberately-long-label-so-the-answer-overflows-udp.big.test",
                    i + 1
                )
            );
            assert_eq!(e["a"]["status"], "ok");
            assert_eq!(e["addresses"].as_array().unwrap().len(), 10);
            for a in e["addresses"].as_array().unwrap() {
                all.insert(a["ip"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(all.len(), 200);
        assert_eq!(r["config_class"], "hybrid");
    }
}

#[test]
fn servfail_and_timeout_through_unbound_get_a_second_pass() {
    require("unbound", "unbound");
    let dead: IpAddr = loopback_addr();
    let silent: IpAddr = loopback_addr();
    let _hole = BlackHole::start(silent);
    // Unbound follows the zone's own NS record, so NSD must sit at that address on port 53.
    let ns_ip = loopback_addr();
    let zone = resolve_test_zone(ns_ip, dead, silent);
    let nsd = start_nsd_at(ns_ip, 53, &[("test.", zone)]);
    let dir = tempfile::tempdir().unwrap();

    // SERVFAIL: a resolver that gives up quickly on the dead delegation.
    let quick = start_unbound("test.", nsd.addr, true);
    let out = dir.path().join("servfail.jsonl");
    let o = mxinfer(
        &[
            "resolve",
            "-",
            "--nameserver",
            &quick.ns(),
            "--out",
            out.to_str().unwrap(),
            "--timeout",
            "5",
            "--attempts",
            "1",
        ],
        Some(b"dead.test\nalias.test\nimplicit.test\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = records(&out);
    assert_eq!(
        got["dead.test"],
        json!({"domain": "dead.test", "input": {"line": 1}, "status": "servfail",
               "config_class": "non-identified", "passes": 2,
               "error": "response code Server Failure"})
    );
    // The recursive path answers the healthy names like the authoritative one.
    let a = &got["alias.test"];
    assert_eq!(a["status"], "ok");
    assert_eq!(a["cname"], json!(["target.test"]));
    assert_eq!(a["exchangers"][0]["addresses"][0]["ip"], "192.0.43.10");
    assert_eq!(a["passes"], 1);
    assert_eq!(got["implicit.test"]["status"], "no-mx");
    let meta: schema::RunMeta = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("servfail.jsonl.meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta.status_counts["servfail"], 1);

    // Timeout: a resolver that keeps trying the silent server longer than we wait.
    let patient = start_unbound("test.", nsd.addr, false);
    let out = dir.path().join("timeout.jsonl");
    let o = mxinfer(
        &[
            "resolve",
            "-",
            "--nameserver",
            &patient.ns(),
            "--out",
            out.to_str().unwrap(),
            "--timeout",
            "1",
            "--attempts",
            "1",
        ],
        Some(b"slow.test\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = records(&out);
    assert_eq!(
        got["slow.test"],
        json!({"domain": "slow.test", "input": {"line": 1}, "status": "timeout",
               "config_class": "non-identified", "passes": 2,
               "error": "no answer in time"})
    );
}

#[test]
fn every_input_line_is_accounted_for() {
    let nsd = nsd_with_test_zone();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("tranco.csv");
    let mut input: Vec<u8> = Vec::new();
    input.extend_from_slice(b"\xEF\xBB\xBF# a Tranco-style list\r\n");
    input.extend_from_slice(b"1,plain4.test,extra-a\r\n");
    input.extend_from_slice(b"2,PLAIN4.TEST.,dup\r\n");
    input.extend_from_slice(b"\r\n");
    input.extend_from_slice(b"3,bad..name,x\r\n");
    input.extend_from_slice(b"4,\x00\x01binary,x\r\n");
    input.extend_from_slice(b"x,rr.test,x\r\n");
    input.extend_from_slice(b"5,missing.test,y\r\n");
    std::fs::write(&list, &input).unwrap();
    let out = dir.path().join("dns.jsonl");
    let meta = dir.path().join("run-meta.json");
    let o = mxinfer(
        &[
            "resolve",
            list.to_str().unwrap(),
            "--nameserver",
            &nsd.ns(),
            "--out",
            out.to_str().unwrap(),
            "--meta",
            meta.to_str().unwrap(),
        ],
        None,
    );
    // Complete, but with rejected lines: exit code 3.
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    let file = list.to_str().unwrap();
    assert!(
        stderr.contains(&format!("{file}:5: empty label")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:6: control characters")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:7: rank \"x\" is not a number")),
        "{stderr}"
    );
    let got = records(&out);
    assert_eq!(got.len(), 2);
    assert_eq!(
        got["plain4.test"]["input"],
        json!({"line": 2, "rank": 1, "extra": {"col3": "extra-a"}})
    );
    assert_eq!(
        got["missing.test"]["input"],
        json!({"line": 8, "rank": 5, "extra": {"col3": "y"}})
    );
    let m: schema::RunMeta =
        serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    let c = &m.input_counts;
    assert_eq!(
        (
            c.lines,
            c.comments,
            c.blank,
            c.header,
            c.accepted,
            c.duplicates,
            c.rejected
        ),
        (8, 1, 1, 0, 2, 1, 3)
    );
    // records out + bad lines + duplicates = lines that are not blank, comments or a header
    assert_eq!(
        got.len() as u64 + c.rejected + c.duplicates,
        c.lines - c.blank - c.comments - c.header
    );
    assert!(!dir.path().join("dns.jsonl.meta.json").exists());
}

#[test]
fn csv_with_a_header_names_the_extra_columns() {
    let nsd = nsd_with_test_zone();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dns.jsonl");
    let o = mxinfer(
        &[
            "resolve",
            "-",
            "--nameserver",
            &nsd.ns(),
            "--out",
            out.to_str().unwrap(),
        ],
        Some("category,domain,rank\nnews,Dual.Test,7\nshop,b\u{fc}cher.test,8\n".as_bytes()),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = records(&out);
    assert_eq!(
        got["dual.test"]["input"],
        json!({"line": 2, "original": "Dual.Test", "rank": 7, "extra": {"category": "news"}})
    );
    // IDNA: the U-label becomes its A-label; the name does not exist in the zone.
    let idn = &got["xn--bcher-kva.test"];
    assert_eq!(idn["status"], "nxdomain");
    assert_eq!(idn["input"]["original"], "b\u{fc}cher.test");
}

#[test]
fn bad_arguments_are_named() {
    let o = mxinfer(&["resolve", "-", "--nameserver", "ns.example"], Some(b""));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--nameserver \"ns.example\""));
    let o = mxinfer(
        &[
            "resolve",
            "/nonexistent/list.txt",
            "--nameserver",
            "127.0.0.1",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/list.txt"));
    let o = mxinfer(
        &[
            "resolve",
            "-",
            "--nameserver",
            "127.0.0.1",
            "--timeout",
            "0",
        ],
        Some(b""),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--timeout"));
}

#[test]
fn ctrl_c_ends_the_run_promptly_with_partial_outputs_and_exit_code_4() {
    // A name server that never answers keeps every domain in flight, and a list longer than
    // the input channel keeps the reader blocked: the interrupt must still end the run.
    let hole_ip = loopback_addr();
    let _hole = BlackHole::start(hole_ip);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("many.txt");
    let text: String = (0..20_000).map(|i| format!("d{i}.test\n")).collect();
    std::fs::write(&list, text).unwrap();
    let out = dir.path().join("dns.jsonl");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mxinfer"))
        .args([
            "resolve",
            list.to_str().unwrap(),
            "--nameserver",
            &hole_ip.to_string(),
            "--out",
            out.to_str().unwrap(),
            "--timeout",
            "30",
            "--concurrency",
            "100",
            "--progress",
            "off",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let t0 = std::time::Instant::now();
    let st = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed().as_secs() < 10,
            "mxinfer did not end after ctrl-c"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(4));
    let meta: schema::RunMeta = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("dns.jsonl.meta.json")).unwrap(),
    )
    .unwrap();
    assert!(meta.interrupted);
    // Nothing was answered, so nothing was written, and no line was lost to the counts.
    assert_eq!(read_jsonl(&out).len(), 0);
}
