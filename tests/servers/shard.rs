//! `--shard I/N`: a scan split over three "machines" (three invocations of each stage) on a
//! simulated world served on loopback gives exactly the labels of the unsharded scan; each
//! domain is resolved by one shard and each address probed by one shard; `label` refuses a
//! missing shard or shards of different N, and a shard out of range is a usage error.

#[path = "../common/mod.rs"]
mod common;

use common::read_jsonl;
use mxinfer_sim::world::ServeSettings;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const N: u32 = 3;

fn mxinfer(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mxinfer"))
        .args(args)
        .env("MXINFER_LOOPBACK_ONLY", "1")
        .output()
        .unwrap()
}

fn ok(args: &[String]) -> Output {
    let o = mxinfer(args);
    assert!(
        o.status.success(),
        "mxinfer {args:?}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn p(x: &Path) -> String {
    x.to_str().unwrap().to_string()
}

struct World {
    dir: PathBuf,
    ns: String,
    port: u16,
}

impl World {
    fn resolve(&self, out: &Path, shard: Option<u32>) {
        let mut a = s(&["resolve", &p(&self.dir.join("domains.txt"))]);
        a.extend(s(&[
            "--nameserver",
            &self.ns,
            "--timeout",
            "2",
            "--progress",
            "off",
        ]));
        a.extend(s(&["--concurrency", "100", "--out", &p(out)]));
        if let Some(i) = shard {
            a.extend(s(&["--shard", &format!("{i}/{N}")]));
        }
        ok(&a);
    }

    fn probe_args(&self) -> Vec<String> {
        let w = |f: &str| p(&self.dir.join(f));
        s(&[
            "--port",
            &self.port.to_string(),
            "--roots",
            &w("ca.pem"),
            "--allow-private",
            "127.0.0.0/8",
            "--step-timeout",
            "3",
            "--progress",
            "off",
        ])
    }

    fn probe(&self, dns: &[PathBuf], out: &Path, shard: Option<u32>) {
        let mut a = s(&["probe"]);
        a.extend(dns.iter().map(|d| p(d)));
        a.extend(self.probe_args());
        a.extend(s(&["--concurrency", "100", "--out", &p(out)]));
        if let Some(i) = shard {
            a.extend(s(&["--shard", &format!("{i}/{N}")]));
        }
        ok(&a);
    }

    fn label_args(&self, dns: &[PathBuf], probes: &[PathBuf], out: &Path) -> Vec<String> {
        let mut a = s(&["label", "--dns"]);
        a.extend(dns.iter().map(|d| p(d)));
        a.push("--probes".into());
        a.extend(probes.iter().map(|d| p(d)));
        a.extend(s(&[
            "--pfx2as",
            &p(&self.dir.join("pfx2as.txt")),
            "--psl",
            &p(&self.dir.join("psl.dat")),
            "--claims",
            &p(&out.with_extension("claims.jsonl")),
            "--out",
            &p(out),
            "--progress",
            "off",
        ]));
        a
    }
}

/// Each domain's label record, as written.
fn labels(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["domain"].as_str().unwrap().to_string(), l.to_string())
        })
        .collect()
}

fn sorted_lines(path: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn meta(path: &Path) -> common::schema::RunMeta {
    let text = std::fs::read_to_string(format!("{}.meta.json", path.display())).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn three_shards_of_resolve_and_probe_give_the_unsharded_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("world");
    common::sim_world(&dir, 900, 23);
    let mut list = String::new();
    for t in read_jsonl(&dir.join("truth.jsonl")) {
        list.push_str(t["domain"].as_str().unwrap());
        list.push('\n');
    }
    std::fs::write(dir.join("domains.txt"), &list).unwrap();
    let n_domains = list.lines().count();
    let (dns, farm, _) = mxinfer_sim::world::serve(&ServeSettings {
        dir: dir.clone(),
        dns: "127.0.0.1:0".parse().unwrap(),
        no_farm: false,
        port: 0,
        command_log: None,
        no_dns: false,
        shard: None,
        ipv6: false,
        threads: 2,
        keep_log: false,
    })
    .unwrap();
    let (dns, farm) = (dns.unwrap(), farm.unwrap());
    let w = World {
        dir: dir.clone(),
        ns: dns.addr.to_string(),
        port: farm.port,
    };
    let out = tmp.path();

    // The unsharded scan.
    let (dns_all, probes_all, labels_all) = (
        out.join("dns.jsonl"),
        out.join("probes.jsonl"),
        out.join("labels.jsonl"),
    );
    w.resolve(&dns_all, None);
    w.probe(std::slice::from_ref(&dns_all), &probes_all, None);
    ok(&w.label_args(
        std::slice::from_ref(&dns_all),
        std::slice::from_ref(&probes_all),
        &labels_all,
    ));

    // Three shards: resolve by domain, then each probe shard reads every resolve shard.
    let dns_sh: Vec<PathBuf> = (0..N).map(|i| out.join(format!("dns-{i}.jsonl"))).collect();
    let probes_sh: Vec<PathBuf> = (0..N)
        .map(|i| out.join(format!("probes-{i}.jsonl")))
        .collect();
    for i in 0..N {
        w.resolve(&dns_sh[i as usize], Some(i));
    }
    for i in 0..N {
        w.probe(&dns_sh, &probes_sh[i as usize], Some(i));
    }
    let labels_sh = out.join("labels-sharded.jsonl");
    ok(&w.label_args(&dns_sh, &probes_sh, &labels_sh));

    // Each domain resolved by exactly one shard, the one its name hashes to, and carried.
    let mut seen = BTreeSet::new();
    for (i, f) in dns_sh.iter().enumerate() {
        let recs = read_jsonl(f);
        assert!(!recs.is_empty(), "shard {i} resolved nothing");
        for r in recs {
            let rec: common::schema::DomainDns = serde_json::from_value(r).unwrap();
            let shard = rec.shard.expect("a sharded record carries its shard");
            assert_eq!((shard.index, shard.count), (i as u32, N));
            let want = mxinfer_record::Shard::of_domain(&rec.domain, N);
            assert_eq!(want, i as u32, "{} in the wrong shard", rec.domain);
            assert!(seen.insert(rec.domain.clone()), "{} twice", rec.domain);
        }
        let m = meta(f);
        let sh = m.shard.unwrap();
        assert_eq!((sh.index, sh.count), (i as u32, N));
        assert_eq!(m.input_counts.accepted as usize, n_domains);
        assert_eq!(
            m.input_counts.other_shards as usize + read_jsonl(f).len(),
            n_domains,
            "every accepted domain is either here or counted as another shard's"
        );
    }
    assert_eq!(seen.len(), n_domains, "every domain in exactly one shard");

    // Each address probed by exactly one shard, and every address of the unsharded scan is.
    let mut addrs = BTreeSet::new();
    for (i, f) in probes_sh.iter().enumerate() {
        for r in read_jsonl(f) {
            let rec: common::schema::HostProbe = serde_json::from_value(r).unwrap();
            let shard = rec.shard.unwrap();
            assert_eq!((shard.index, shard.count), (i as u32, N));
            let ip: std::net::IpAddr = rec.ip.parse().unwrap();
            assert_eq!(mxinfer_record::Shard::of_ip(ip, N), i as u32);
            assert!(addrs.insert(rec.ip.clone()), "{} probed twice", rec.ip);
        }
    }
    let unsharded: BTreeSet<String> = read_jsonl(&probes_all)
        .into_iter()
        .map(|r| r["ip"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(addrs, unsharded);

    // The labels and claims: byte for byte per domain and per claim.
    let (a, b) = (labels(&labels_all), labels(&labels_sh));
    assert_eq!(a.len(), n_domains);
    let differ: Vec<&String> = a.keys().filter(|d| a.get(*d) != b.get(*d)).collect();
    assert!(
        differ.is_empty(),
        "{} of {} labels differ, e.g. {:?}\nunsharded: {}\nsharded:   {:?}",
        differ.len(),
        a.len(),
        differ[0],
        a[differ[0]],
        b.get(differ[0])
    );
    assert_eq!(a.len(), b.len());
    assert_eq!(
        sorted_lines(&labels_all.with_extension("claims.jsonl")),
        sorted_lines(&labels_sh.with_extension("claims.jsonl"))
    );
    let lm: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}.meta.json", labels_sh.display())).unwrap(),
    )
    .unwrap();
    assert_eq!(
        lm["stage"]["shards"]["dns"]["seen"],
        serde_json::json!([0, 1, 2])
    );
    assert_eq!(lm["stage"]["shards"]["probes"]["count"], N);

    // A missing shard is an error naming it; allowed, it is labelled and recorded.
    let o = mxinfer(&w.label_args(&dns_sh[..2], &probes_sh, &out.join("x.jsonl")));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("resolve output of shard 2 of 3 is missing"),
        "{err}"
    );
    let o = mxinfer(&w.label_args(&dns_sh, &probes_sh[1..], &out.join("x.jsonl")));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() == Some(1) && err.contains("probe output of shard 0 of 3 is missing"),
        "{err}"
    );
    let mut a = w.label_args(&dns_sh[..2], &probes_sh, &out.join("partial.jsonl"));
    a.push("--allow-missing-shards".into());
    let o = ok(&a);
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: labelling without"));
    let pm: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("partial.jsonl.meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        pm["stage"]["shards"]["dns"]["missing"],
        serde_json::json!([2])
    );

    // Shards of another split mixed in, and the unsharded output beside sharded: errors.
    let other = out.join("dns-0-of-2.jsonl");
    let mut a = s(&["resolve", &p(&dir.join("domains.txt"))]);
    a.extend(s(&[
        "--nameserver",
        &w.ns,
        "--progress",
        "off",
        "--shard",
        "0/2",
    ]));
    a.extend(s(&["--out", &p(&other)]));
    ok(&a);
    let mixed = [
        dns_sh[0].clone(),
        dns_sh[1].clone(),
        dns_sh[2].clone(),
        other,
    ];
    let o = mxinfer(&w.label_args(&mixed, &probes_sh, &out.join("x.jsonl")));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() == Some(1) && err.contains("mixes shards of different scans"),
        "{err}"
    );
    let mixed = [dns_all.clone(), dns_sh[0].clone()];
    let o = mxinfer(&w.label_args(&mixed, &probes_sh, &out.join("x.jsonl")));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() == Some(1) && err.contains("with an unsharded one"),
        "{err}"
    );

    // `run --shard` on each of three "machines", then one label over all: the same labels.
    let mut run_dns = Vec::new();
    let mut run_probes = Vec::new();
    for i in 0..N {
        let d = out.join(format!("run-{i}"));
        let mut a = s(&["run", &p(&dir.join("domains.txt")), "--out", &p(&d)]);
        a.extend(s(&["--nameserver", &w.ns, "--timeout", "2"]));
        a.extend(w.probe_args());
        a.extend(s(&["--shard", &format!("{i}/{N}")]));
        let o = ok(&a);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(&format!("shard {i}/{N} done")),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(!d.join("labels.jsonl").exists(), "one shard cannot label");
        let rj: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("run.json")).unwrap()).unwrap();
        assert_eq!(rj["shard"], serde_json::json!({"index": i, "count": N}));
        assert_eq!(
            sorted_lines(&d.join("dns.jsonl")).len(),
            read_jsonl(&dns_sh[i as usize]).len()
        );
        run_dns.push(d.join("dns.jsonl"));
        run_probes.push(d.join("probes.jsonl"));
    }
    let labels_run = out.join("labels-run.jsonl");
    ok(&w.label_args(&run_dns, &run_probes, &labels_run));
    let c = labels(&labels_run);
    let unsharded = labels(&labels_all);
    let differ: Vec<&String> = a_keys_differ(&unsharded, &c);
    assert!(
        differ.is_empty(),
        "run --shard: {} labels differ",
        differ.len()
    );
    drop(farm);
    drop(dns);
}

fn a_keys_differ<'a>(
    a: &'a BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
) -> Vec<&'a String> {
    assert_eq!(a.len(), b.len());
    a.keys().filter(|d| a.get(*d) != b.get(*d)).collect()
}

#[test]
fn a_shard_out_of_range_is_a_usage_error_naming_the_flag() {
    for (cmd, bad, msg) in [
        (
            "resolve",
            "3/3",
            "shard 3/3 is out of range: shards are numbered 0 to 2",
        ),
        ("probe", "1/0", "cannot have 0 shards"),
        ("run", "x/2", "is not a shard: expected I/N"),
    ] {
        let mut a = s(&[cmd, "-", "--shard", bad]);
        if cmd == "run" {
            a.extend(s(&["--out", "/nonexistent-mxinfer-test"]));
        }
        let o = mxinfer(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd} {bad}: {err}");
        assert!(
            err.contains("--shard") && err.contains(msg),
            "{cmd} {bad}: {err}"
        );
    }
}

#[test]
fn probe_reads_standard_input_only_alone() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dns.jsonl");
    std::fs::write(&f, "").unwrap();
    let o = mxinfer(&s(&["probe", "-", &p(&f), "--progress", "off"]));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("standard input (`-`) cannot be read together with other target files"),
        "{err}"
    );
}
