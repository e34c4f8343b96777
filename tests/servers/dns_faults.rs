//! DNS faults between `mxinfer resolve` and its name server (NSD on loopback): a lossy UDP
//! proxy written here (20% of the packets dropped in each direction, deterministic seed), a
//! server that answers SERVFAIL to everything, and a slow one. Every domain gets a record,
//! retries recover at least 99% of the domains whose packets were dropped (compared to a run
//! without loss), and the statuses say what happened.

#[path = "../common/mod.rs"]
mod common;

use common::{free_port, loopback_addr, mxinfer, read_jsonl, start_nsd};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Domains of the test zone.
const DOMAINS: usize = 400;

/// `d{i}.test MX 10 mx.d{i}.test`, `mx.d{i}.test A 192.0.43.x`; every fifth domain has a
/// second exchanger with an IPv6 address too.
fn zone() -> String {
    let mut z = String::from(
        "$ORIGIN test.\n$TTL 300\n@ IN SOA ns.test. admin.test. 1 3600 600 86400 60\n\
         @ IN NS ns.test.\nns IN A 127.0.0.53\n",
    );
    for i in 0..DOMAINS {
        z.push_str(&format!(
            "d{i} IN MX 10 mx.d{i}\nmx.d{i} IN A 192.0.43.{}\n",
            i % 250 + 1
        ));
        if i % 5 == 0 {
            z.push_str(&format!(
                "d{i} IN MX 20 mx2.d{i}\nmx2.d{i} IN AAAA 2001:db8::{i:x}\n"
            ));
        }
    }
    z
}

fn domain_list() -> Vec<u8> {
    (0..DOMAINS)
        .map(|i| format!("d{i}.test\n"))
        .collect::<String>()
        .into_bytes()
}

/// What the proxy does with each packet.
#[derive(Clone, Copy)]
enum Mode {
    /// Drops each packet (either direction) with this probability.
    Lossy(f64),
    /// Answers every query with SERVFAIL itself.
    Servfail,
    /// Forwards, delaying every answer.
    Slow(Duration),
    /// Forwards, and before each real answer sends three forged NXDOMAIN answers to the
    /// client: from another port, with another ID, and for another question name.
    Spoof,
}

/// The question name of a DNS message (lower case, no trailing dot).
fn qname(msg: &[u8]) -> Option<String> {
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let n = *msg.get(i)? as usize;
        if n == 0 {
            break;
        }
        if n >= 64 {
            return None;
        }
        labels.push(String::from_utf8_lossy(msg.get(i + 1..i + 1 + n)?).to_ascii_lowercase());
        i += 1 + n;
    }
    let qtype = msg.get(i + 1..i + 3)?;
    Some(format!(
        "{}/{}",
        labels.join("."),
        u16::from_be_bytes([qtype[0], qtype[1]])
    ))
}

/// A UDP proxy in front of a name server (plus plain TCP passthrough on the same port, so a
/// client's TCP fallback reaches the server as over a network that loses UDP only).
struct Proxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// Question names (with type) of every dropped packet.
    dropped: Arc<Mutex<HashSet<String>>>,
    drops: Arc<Mutex<u64>>,
}

impl Proxy {
    fn start(upstream: SocketAddr, mode: Mode, seed: u64) -> Proxy {
        let ip = loopback_addr();
        let port = free_port(ip);
        let addr = SocketAddr::new(ip, port);
        let front = Arc::new(UdpSocket::bind(addr).unwrap());
        front
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let back = Arc::new(UdpSocket::bind((ip, 0)).unwrap());
        back.connect(upstream).unwrap();
        back.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(Mutex::new(HashSet::new()));
        let drops = Arc::new(Mutex::new(0u64));
        // One generator for both directions: deterministic for a given packet order.
        let rng = Arc::new(Mutex::new(seed.max(1)));
        let lose = {
            let rng = rng.clone();
            let dropped = dropped.clone();
            let drops = drops.clone();
            move |msg: &[u8]| -> bool {
                let Mode::Lossy(p) = mode else { return false };
                let mut x = rng.lock().unwrap();
                *x ^= *x << 13;
                *x ^= *x >> 7;
                *x ^= *x << 17;
                let u = (*x >> 11) as f64 / (1u64 << 53) as f64;
                if u < p {
                    if let Some(q) = qname(msg) {
                        dropped.lock().unwrap().insert(q);
                    }
                    *drops.lock().unwrap() += 1;
                    true
                } else {
                    false
                }
            }
        };
        // Who asked: (id, question) -> client.
        let pending: Arc<Mutex<HashMap<(u16, String), SocketAddr>>> =
            Arc::new(Mutex::new(HashMap::new()));
        let mut threads = Vec::new();
        {
            let (front, back, stop, pending, lose) = (
                front.clone(),
                back.clone(),
                stop.clone(),
                pending.clone(),
                lose.clone(),
            );
            threads.push(std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::SeqCst) {
                    let Ok((n, from)) = front.recv_from(&mut buf) else {
                        continue;
                    };
                    let msg = &buf[..n];
                    if n < 12 || lose(msg) {
                        continue;
                    }
                    if let Mode::Servfail = mode {
                        let _ = front.send_to(&servfail(msg), from);
                        continue;
                    }
                    let id = u16::from_be_bytes([msg[0], msg[1]]);
                    let q = qname(msg).unwrap_or_default();
                    pending.lock().unwrap().insert((id, q), from);
                    let _ = back.send(msg);
                }
            }));
        }
        {
            let (front, back, stop, pending) =
                (front.clone(), back.clone(), stop.clone(), pending.clone());
            let stop2 = stop.clone();
            let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>, SocketAddr)>();
            let delay = match mode {
                Mode::Slow(d) => d,
                _ => Duration::ZERO,
            };
            threads.push(std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while !stop.load(Ordering::SeqCst) {
                    let Ok(n) = back.recv(&mut buf) else { continue };
                    let msg = &buf[..n];
                    if n < 12 || lose(msg) {
                        continue;
                    }
                    let id = u16::from_be_bytes([msg[0], msg[1]]);
                    let q = qname(msg).unwrap_or_default();
                    let Some(to) = pending.lock().unwrap().remove(&(id, q)) else {
                        continue;
                    };
                    let _ = tx.send((Instant::now() + delay, msg.to_vec(), to));
                }
            }));
            let spoof = matches!(mode, Mode::Spoof);
            let other = UdpSocket::bind((ip, 0)).unwrap();
            threads.push(std::thread::spawn(move || {
                while !stop2.load(Ordering::SeqCst) {
                    let Ok((at, msg, to)) = rx.recv_timeout(Duration::from_millis(50)) else {
                        continue;
                    };
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                    if spoof {
                        for (from_other, forged) in forgeries(&msg) {
                            let sock = if from_other { &other } else { &*front };
                            let _ = sock.send_to(&forged, to);
                        }
                    }
                    let _ = front.send_to(&msg, to);
                }
            }));
        }
        // TCP passthrough.
        let tcp = TcpListener::bind(addr).unwrap();
        tcp.set_nonblocking(true).unwrap();
        let stop3 = stop.clone();
        threads.push(std::thread::spawn(move || {
            while !stop3.load(Ordering::SeqCst) {
                match tcp.accept() {
                    Ok((c, _)) => {
                        let _ = c.set_nonblocking(false);
                        if let Ok(u) = TcpStream::connect(upstream) {
                            pipe(c, u);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        }));
        Proxy {
            addr,
            stop,
            threads,
            dropped,
            drops,
        }
    }

    fn ns(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Copies both ways between two TCP streams until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let copy = |mut from: TcpStream, mut to: TcpStream| {
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let _ = from.set_read_timeout(Some(Duration::from_secs(10)));
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 || to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(std::net::Shutdown::Write);
        });
    };
    copy(a.try_clone().unwrap(), b.try_clone().unwrap());
    copy(b, a);
}

/// The SERVFAIL answer to `query`: its header and question, QR and RA set, RCODE 2.
fn servfail(query: &[u8]) -> Vec<u8> {
    let mut end = 12;
    while end < query.len() && query[end] != 0 {
        end += 1 + query[end] as usize;
    }
    let end = (end + 5).min(query.len());
    let mut r = query[..end].to_vec();
    r[2] = 0x80 | (query[2] & 0x79); // QR, opcode and RD kept
    r[3] = 0x80 | 0x02; // RA, SERVFAIL
    r[4..6].copy_from_slice(&[0, 1]);
    for b in &mut r[6..12] {
        *b = 0;
    }
    r
}

/// Forged NXDOMAIN answers to the query that `answer` answers (header and question only):
/// the right ID and question from another port (`true`), another ID, and another question
/// name (its first letter changed), both from the server's own address.
fn forgeries(answer: &[u8]) -> Vec<(bool, Vec<u8>)> {
    let mut nx = servfail(answer);
    nx[3] = 0x80 | 0x03; // RA, NXDOMAIN
    let mut wrong_id = nx.clone();
    wrong_id[1] ^= 0x5a;
    let mut wrong_name = nx.clone();
    // The first letter of the first label (offset 13): another letter, not another case.
    wrong_name[13] = if wrong_name[13].eq_ignore_ascii_case(&b'x') {
        b'y'
    } else {
        b'x'
    };
    vec![(true, nx), (false, wrong_id), (false, wrong_name)]
}

/// Resolves the domain list through `ns`; records by domain.
fn resolve(
    ns: &str,
    dir: &std::path::Path,
    name: &str,
    extra: &[&str],
) -> BTreeMap<String, serde_json::Value> {
    let out = dir.join(format!("{name}.jsonl"));
    let mut args = vec![
        "resolve",
        "-",
        "--nameserver",
        ns,
        "--out",
        out.to_str().unwrap(),
        "--concurrency",
        "50",
    ];
    args.extend_from_slice(extra);
    let o = mxinfer(&args, Some(&domain_list()));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut m = BTreeMap::new();
    for r in read_jsonl(&out) {
        let d = r["domain"].as_str().unwrap().to_string();
        assert!(m.insert(d.clone(), r).is_none(), "{d} twice");
    }
    assert_eq!(m.len(), DOMAINS, "every domain gets exactly one record");
    m
}

/// What must agree between two runs: status, MX and addresses.
fn essence(r: &serde_json::Value) -> serde_json::Value {
    let ex: Vec<serde_json::Value> = r["exchangers"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|x| serde_json::json!([x["name"], x["addresses"]]))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!([r["status"], r["mx"], ex])
}

fn nsd() -> common::Server {
    start_nsd(&[("test.", zone())])
}

#[test]
fn retries_recover_domains_hit_by_twenty_percent_udp_loss() {
    let nsd = nsd();
    let dir = tempfile::tempdir().unwrap();
    let timing = ["--timeout", "0.4"];
    let clean = resolve(&nsd.ns(), dir.path(), "clean", &timing);
    assert!(clean.values().all(|r| r["status"] == "ok"));
    let proxy = Proxy::start(nsd.addr, Mode::Lossy(0.2), 0x5eed_2026);
    let lossy = resolve(&proxy.ns(), dir.path(), "lossy", &timing);
    let dropped = proxy.dropped.lock().unwrap().clone();
    let drops = *proxy.drops.lock().unwrap();
    // Domains hit by loss: a packet of a query about the domain or one of its exchangers.
    let hit: Vec<&String> = clean
        .keys()
        .filter(|d| {
            dropped.iter().any(|q| {
                q.split('/')
                    .next()
                    .is_some_and(|n| n == *d || n.ends_with(&format!(".{d}")))
            })
        })
        .collect();
    assert!(hit.len() >= DOMAINS / 4, "only {} domains hit", hit.len());
    let mut recovered = 0;
    let mut failed = Vec::new();
    for d in &hit {
        if essence(&lossy[*d]) == essence(&clean[*d]) {
            recovered += 1;
        } else {
            failed.push(d.to_string());
        }
    }
    eprintln!(
        "{drops} packets dropped; {} domains hit, {recovered} recovered; second passes: {}",
        hit.len(),
        lossy.values().filter(|r| r["passes"] == 2).count()
    );
    assert!(
        recovered * 100 >= hit.len() * 99,
        "{recovered} of {} recovered; not: {:?}",
        hit.len(),
        failed
            .iter()
            .map(|d| lossy[d].to_string())
            .collect::<Vec<_>>()
    );
    // Domains not hit are exactly as without loss; a domain not recovered says why.
    for (d, r) in &lossy {
        if !hit.contains(&d) {
            assert_eq!(essence(r), essence(&clean[d]), "{d}");
        }
    }
    for d in &failed {
        let r = &lossy[d];
        assert_eq!(r["passes"], 2, "{r}");
        let st = r["status"].as_str().unwrap();
        let says = st == "timeout"
            || r["exchangers"].as_array().is_some_and(|v| {
                v.iter()
                    .any(|x| x["a"]["status"] == "timeout" || x["aaaa"]["status"] == "timeout")
            });
        assert!(says, "{r}");
    }
}

/// Forged answers (from another port, with another ID, for another name) arrive before each
/// real one: every one is ignored, every query still completes with the real answer, and no
/// domain becomes NXDOMAIN.
#[test]
fn forged_answers_are_ignored_and_the_queries_complete() {
    let nsd = nsd();
    let dir = tempfile::tempdir().unwrap();
    let clean = resolve(&nsd.addr.to_string(), dir.path(), "clean", &[]);
    let proxy = Proxy::start(nsd.addr, Mode::Spoof, 1);
    let got = resolve(&proxy.ns(), dir.path(), "spoofed", &["--timeout", "2"]);
    for (d, r) in &got {
        assert_eq!(essence(r), essence(&clean[d]), "{d}: {r}");
        assert_ne!(r["status"], "nxdomain", "{d}");
        assert_eq!(r["passes"], 1, "{d}: no query failed");
    }
}

#[test]
fn servfail_everywhere_gives_servfail_records_after_a_second_pass() {
    let nsd = nsd();
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(nsd.addr, Mode::Servfail, 1);
    let got = resolve(&proxy.ns(), dir.path(), "servfail", &["--timeout", "1"]);
    for (d, r) in &got {
        assert_eq!(r["status"], "servfail", "{d}: {r}");
        assert_eq!(r["passes"], 2, "{d}");
        assert_eq!(r["error"], "response code Server Failure", "{d}");
    }
    let meta: common::schema::RunMeta = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("servfail.jsonl.meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta.status_counts["servfail"], DOMAINS as u64);
}

#[test]
fn a_slow_server_within_the_timeout_is_only_slow_and_beyond_it_is_a_timeout() {
    let nsd = nsd();
    let dir = tempfile::tempdir().unwrap();
    let clean = resolve(&nsd.ns(), dir.path(), "clean", &["--timeout", "1"]);
    // 300 ms per answer, 1 s allowed: the same records as without delay, in one pass.
    let slow = Proxy::start(nsd.addr, Mode::Slow(Duration::from_millis(300)), 1);
    let got = resolve(&slow.ns(), dir.path(), "slow", &["--timeout", "1"]);
    for (d, r) in &got {
        assert_eq!(essence(r), essence(&clean[d]), "{d}");
        assert_eq!(r["passes"], 1, "{d}");
    }
    drop(slow);
    // 1.5 s per answer, 0.3 s allowed, one try: every domain times out, twice, and says so.
    let slower = Proxy::start(nsd.addr, Mode::Slow(Duration::from_millis(1500)), 1);
    let t0 = Instant::now();
    let got = resolve(
        &slower.ns(),
        dir.path(),
        "slower",
        &["--timeout", "0.3", "--attempts", "1"],
    );
    for (d, r) in &got {
        assert_eq!(r["status"], "timeout", "{d}: {r}");
        assert_eq!(r["passes"], 2, "{d}");
        assert_eq!(r["error"], "no answer in time", "{d}");
    }
    eprintln!("slower run: {:?}", t0.elapsed());
}
