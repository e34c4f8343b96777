//! Test harness: real DNS servers from Debian (NSD, Unbound) started per test on their own
//! 127.x address and port with their own configuration in a temporary directory, a silent
//! "black hole" name server, and helpers to run the `mxinfer` binary.
//!
//! A missing server fails the test with the install command; it never passes silently.
#![allow(dead_code)]

pub mod mta;
pub mod schema;

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Fails with the install command when a program is missing.
pub fn require(bin: &str, package: &str) -> PathBuf {
    for dir in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/bin",
        "/usr/local/sbin",
    ] {
        let p = Path::new(dir).join(bin);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "{bin} is not installed: run `apt-get update && apt-get install -y {package}` \
         (.ci/run does this)"
    );
}

/// A 127.x address unique to this test process and call, so parallel tests never collide.
pub fn loopback_addr() -> IpAddr {
    static N: AtomicU32 = AtomicU32::new(1);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let pid = std::process::id();
    IpAddr::from([
        127,
        100 + (pid % 100) as u8,
        ((pid / 100) % 250) as u8,
        (n % 250 + 1) as u8,
    ])
}

/// A port free for both UDP and TCP on `ip`.
pub fn free_port(ip: IpAddr) -> u16 {
    for _ in 0..100 {
        let udp = UdpSocket::bind((ip, 0)).expect("bind udp");
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind((ip, port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on {ip}");
}

fn wait_tcp(addr: SocketAddr, child: &mut Child, what: &str, log: &Path) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} exited at start ({status}):\n{text}");
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    panic!("{what} did not start listening on {addr}:\n{text}");
}

/// A running server process, stopped on drop.
pub struct Server {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `IP:PORT` for `--nameserver`.
    pub fn ns(&self) -> String {
        self.addr.to_string()
    }
}

/// Starts NSD serving `zones` (origin, zone text) on a fresh loopback address and port.
pub fn start_nsd(zones: &[(&str, String)]) -> Server {
    let ip = loopback_addr();
    let port = free_port(ip);
    start_nsd_at(ip, port, zones)
}

/// Starts NSD on `ip`:`port` (port 53 when a recursive resolver must reach it through a
/// delegation, which always uses port 53).
pub fn start_nsd_at(ip: IpAddr, port: u16, zones: &[(&str, String)]) -> Server {
    let nsd = require("nsd", "nsd");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let mut conf = format!(
        "server:\n  ip-address: {ip}@{port}\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"{d}\"\n  \
         database: \"\"\n  pidfile: \"{d}/nsd.pid\"\n  xfrdfile: \"{d}/xfrd.state\"\n  \
         zonelistfile: \"{d}/zone.list\"\n  logfile: \"{d}/nsd.log\"\n  server-count: 1\n  \
         verbosity: 1\n  hide-version: yes\n  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n\
         remote-control:\n  control-enable: no\n"
    );
    // Response rate limiting (on by default in NSD) would drop answers to a client asking
    // thousands of names from one /24, as every test run does: off, as on a scan's own server.
    for (i, (origin, text)) in zones.iter().enumerate() {
        let file = format!("zone{i}.zone");
        std::fs::write(dir.path().join(&file), text).unwrap();
        conf.push_str(&format!("zone:\n  name: {origin}\n  zonefile: {file}\n"));
    }
    let conf_path = dir.path().join("nsd.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let log = dir.path().join("nsd.log");
    let stderr = std::fs::File::create(dir.path().join("nsd.stderr")).unwrap();
    let mut child = Command::new(nsd)
        .arg("-d")
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("starting nsd");
    let addr = SocketAddr::new(ip, port);
    wait_tcp(addr, &mut child, "nsd", &log);
    wait_zones_loaded(&log, zones.len());
    Server { addr, dir, child }
}

fn wait_zones_loaded(log: &Path, n: usize) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.matches("read with success").count() >= n {
            return;
        }
        if text.contains("error") {
            panic!("nsd could not load its zones:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "nsd did not load its zones:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Starts Unbound as a recursive resolver whose only knowledge is a stub zone `zone`
/// pointing at `auth`. With `fast_fail`, Unbound caps its retry timeout at one second, so it
/// answers SERVFAIL for an unreachable delegation within seconds; without it, Unbound keeps
/// trying for many seconds (its defaults) and a client with a short timeout sees a timeout.
pub fn start_unbound(zone: &str, auth: SocketAddr, fast_fail: bool) -> Server {
    let unbound = require("unbound", "unbound");
    let dir = tempfile::tempdir().unwrap();
    let ip = loopback_addr();
    let port = free_port(ip);
    let d = dir.path().display().to_string();
    let conf = format!(
        "server:\n  interface: {ip}@{port}\n  port: {port}\n  do-daemonize: no\n  username: \"\"\n  \
         chroot: \"\"\n  directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  use-syslog: no\n  \
         logfile: \"{d}/unbound.log\"\n  verbosity: 1\n  num-threads: 1\n  \
         access-control: 127.0.0.0/8 allow\n  do-not-query-localhost: no\n  do-ip6: no\n  \
         module-config: \"iterator\"\n  qname-minimisation: no\n  \
         domain-insecure: \"{zone}\"\n  local-zone: \"{zone}\" nodefault\n  \
         cache-max-negative-ttl: 1\n  \
         infra-keep-probing: yes\n{}\
         remote-control:\n  control-enable: no\n\
         stub-zone:\n  name: \"{zone}\"\n  stub-addr: {}@{}\n",
        if fast_fail {
            "  infra-cache-max-rtt: 1000\n"
        } else {
            ""
        },
        auth.ip(),
        auth.port()
    );
    let conf_path = dir.path().join("unbound.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let log = dir.path().join("unbound.log");
    let mut child = Command::new(unbound)
        .arg("-d")
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting unbound");
    let addr = SocketAddr::new(ip, port);
    wait_tcp(addr, &mut child, "unbound", &log);
    Server { addr, dir, child }
}

/// A name server that reads every query and never answers (UDP and TCP on port 53).
pub struct BlackHole {
    pub ip: IpAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BlackHole {
    pub fn start(ip: IpAddr) -> BlackHole {
        let udp = UdpSocket::bind((ip, 53)).unwrap_or_else(|e| {
            panic!("binding {ip}:53 for the silent name server needs root: {e}")
        });
        udp.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let tcp = TcpListener::bind((ip, 53)).expect("bind tcp 53");
        tcp.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s1 = stop.clone();
        let t1 = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !s1.load(Ordering::SeqCst) {
                let _ = udp.recv_from(&mut buf);
            }
        });
        let s2 = stop.clone();
        let t2 = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !s2.load(Ordering::SeqCst) {
                if let Ok((c, _)) = tcp.accept() {
                    held.push(c);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        BlackHole {
            ip,
            stop,
            threads: vec![t1, t2],
        }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Runs the mxinfer binary with `args`, feeding `stdin` if given.
pub fn mxinfer(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mxinfer"));
    cmd.args(args)
        .arg("--progress")
        .arg("off")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("running mxinfer");
    if let Some(data) = stdin {
        let mut si = child.stdin.take().unwrap();
        si.write_all(data).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Reads a JSON Lines file.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

/// The fixture zone of the resolve tests with the addresses of its own name server and of
/// the dead and silent servers filled in.
pub fn resolve_test_zone(ns: IpAddr, dead: IpAddr, slow: IpAddr) -> String {
    let text = include_str!("../fixtures/resolve-test.zone.in");
    text.replace("@NS@", &ns.to_string())
        .replace("@DEAD@", &dead.to_string())
        .replace("@SLOW@", &slow.to_string())
}

pub fn resolve_test_rev_zone() -> String {
    include_str!("../fixtures/resolve-test.rev.zone").to_string()
}

/// `mxinfer sim world --domains N --seed S --out DIR`, which must succeed.
pub fn sim_world(dir: &Path, n: u64, seed: u64) {
    let o = mxinfer(
        &[
            "sim",
            "world",
            "--domains",
            &n.to_string(),
            "--seed",
            &seed.to_string(),
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
