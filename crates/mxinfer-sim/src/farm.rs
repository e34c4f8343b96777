//! The SMTP farm: many loopback addresses, one persona each, in one process.
//!
//! Listener design: one listening socket per address (all on the same port), every accept
//! loop a task of one tokio runtime; the persona is found from the address the connection was
//! accepted on. Why not one wildcard socket (0.0.0.0) that reads the local address of each
//! connection: it would also listen on every non-loopback interface, and the project's rule is
//! that test traffic stays on loopback. Why not IP_FREEBIND/IP_TRANSPARENT: a transparent
//! socket still needs policy routing (TPROXY) to receive traffic for addresses it did not bind.
//! Linux routes all of 127.0.0.0/8 to `lo`, so binding 20,000 distinct 127.x addresses needs
//! nothing but file descriptors (raise `ulimit -n`).
//!
//! Every command a client sends is logged (address, line) so tests can assert that the prober
//! never sends MAIL or RCPT.

use super::certs::{CertError, CertKind, Identity, TestCa};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The built-in personas (data/sim-personas.json).
pub const BUILTIN_PERSONAS: &str = include_str!("../../../data/sim-personas.json");

/// What went wrong loading personas or starting the farm: the persona, address or file, with
/// the underlying error as the source.
#[derive(Debug, thiserror::Error)]
pub enum FarmError {
    /// Persona JSON that does not parse (the source gives its line and column).
    #[error("parsing personas")]
    ParsePersonas {
        #[source]
        source: serde_json::Error,
    },
    /// A persona name that is not among the built-in ones.
    #[error("no built-in persona {name:?}")]
    UnknownPersona { name: String },
    /// A host outside loopback and the simulated IPv6 prefix.
    #[error(
        "the farm only listens on loopback addresses and the simulated IPv6 prefix {}, not {addr}",
        super::world::SIM_IPV6_PREFIX
    )]
    NotFarmAddress { addr: IpAddr },
    /// The test CA the farm issues leaves from could not be made.
    #[error("generating the farm's test CA")]
    Ca {
        #[source]
        source: CertError,
    },
    /// The persona's leaf certificate could not be issued.
    #[error("persona {persona}: issuing its certificate")]
    Certificate {
        persona: String,
        #[source]
        source: CertError,
    },
    /// rustls refused the persona's leaf key.
    #[error("persona {persona}: loading the leaf key")]
    LeafKey {
        persona: String,
        #[source]
        source: rustls::Error,
    },
    /// rustls refused the persona's server configuration.
    #[error("persona {persona}: building its TLS configuration")]
    TlsConfig {
        persona: String,
        #[source]
        source: rustls::Error,
    },
    /// OpenSSL refused the persona's TLS 1.0 acceptor.
    #[cfg(feature = "legacy-tls")]
    #[error("persona {persona}: building its OpenSSL TLS 1.0 acceptor")]
    Openssl {
        persona: String,
        #[source]
        source: openssl::error::ErrorStack,
    },
    /// A TLS 1.0 persona without the `legacy-tls` feature (never returned with it).
    #[error("persona {persona}: TLS 1.0 needs the legacy-tls feature")]
    Tls10NeedsLegacyTls { persona: String },
    /// Listening on one of the farm's addresses failed.
    #[error("binding {ip}:{port}")]
    Bind {
        ip: IpAddr,
        port: u16,
        #[source]
        source: std::io::Error,
    },
    /// The command log file could not be created.
    #[error("creating {}", path.display())]
    CreateLog {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The CA or target list could not be written.
    #[error("writing {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The farm's thread could not be started.
    #[error("starting the farm thread")]
    Thread {
        #[source]
        source: std::io::Error,
    },
    /// The farm's tokio runtime could not be built.
    #[error("building the farm's runtime")]
    Runtime {
        #[source]
        source: std::io::Error,
    },
    /// The farm thread stopped before it reported its port.
    #[error("the farm thread ended at start")]
    ThreadEnded,
    /// The blocking task that starts the farm (`start_cli`) panicked or was cancelled.
    #[error("starting the farm")]
    StartTask {
        #[source]
        source: tokio::task::JoinError,
    },
}

/// What the server does with STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum StarttlsMode {
    /// 220, then a TLS handshake.
    #[default]
    Accept,
    /// Replies `starttls_reply` (e.g. 454) and stays in plaintext.
    Refuse,
    /// 220, then a fatal handshake_failure alert instead of a ServerHello.
    Alert,
    /// 220 and the `inject` line in one write, then a TLS handshake.
    Inject,
}

/// Which TLS stack serves the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TlsStack {
    #[default]
    Rustls,
    /// OpenSSL with TLS 1.0 as both minimum and maximum, security level 0.
    OpensslTls10,
    /// The same, behind a version-intolerant front: a ClientHello whose version is above
    /// TLS 1.0 gets the connection closed, without an alert (as old servers do).
    OpensslTls10Intolerant,
}

/// How the server misbehaves, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Failure {
    #[default]
    None,
    /// Accepts and never writes.
    Tarpit,
    /// Writes an endless multi-line greeting, one byte every 100 ms.
    DripFeed,
    /// Writes a greeting line that never ends, as fast as the client reads.
    EndlessLine,
    /// Writes binary bytes instead of a greeting.
    Garbage,
    /// Writes the greeting, then resets the connection.
    ResetAfterBanner,
    /// Answers STARTTLS with 220, then never speaks TLS (the handshake times out).
    StallAfterStarttls,
    /// Writes an endless greeting, one byte every second.
    DripSlow,
    /// Answers EHLO with 10,000 lines.
    HugeEhlo,
    /// NUL bytes and invalid UTF-8 inside the greeting and the EHLO reply.
    BinaryBytes,
    /// Answers STARTTLS with 220, then writes plaintext garbage instead of a ServerHello.
    GarbageAfterStarttls,
    /// Answers STARTTLS with 220, reads the ClientHello, then resets the connection.
    ResetInHandshake,
    /// Writes the greeting, then shuts its write side (FIN) and keeps reading.
    HalfClose,
    /// Writes the greeting (e.g. a 421), then closes the connection.
    CloseAfterBanner,
    /// Answers STARTTLS with 220, reads the ClientHello, writes 3 bytes of a TLS record
    /// header, then stays silent.
    StallInHandshake,
}

/// A persona: everything about how one simulated server behaves (data, not code).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    pub name: String,
    /// Greeting lines, code included.
    pub banner: Vec<String>,
    /// Reply lines to EHLO (plaintext; inside TLS the STARTTLS line is left out).
    pub ehlo: Vec<String>,
    /// Reply to EHLO when EHLO is refused (then `helo` answers HELO).
    #[serde(default)]
    pub ehlo_reject: Option<String>,
    #[serde(default)]
    pub helo: Vec<String>,
    #[serde(default)]
    pub starttls: StarttlsMode,
    #[serde(default)]
    pub starttls_reply: Option<String>,
    /// Line sent right after the 220 to STARTTLS (mode `inject`).
    #[serde(default)]
    pub inject: Option<String>,
    #[serde(default = "default_cert")]
    pub cert: CertKind,
    /// RSA 2048 leaf key instead of ECDSA P-256.
    #[serde(default)]
    pub rsa: bool,
    #[serde(default)]
    pub tls: TlsStack,
    /// Milliseconds before every reply.
    #[serde(default)]
    pub delay_ms: u64,
    /// Extra milliseconds before the reply to one step: keys `banner` or a command verb
    /// (`EHLO`, `HELO`, `STARTTLS`, `QUIT`).
    #[serde(default)]
    pub step_delay_ms: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    pub failure: Failure,
    /// Free text for people.
    #[serde(default)]
    pub note: String,
    /// Names on the certificate (first one also the CN); empty: [`Persona::host_name`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cert_names: Vec<String>,
    /// The address this persona listens on (world files); built-in personas have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<IpAddr>,
}

fn default_cert() -> CertKind {
    CertKind::Ca
}

impl Persona {
    /// The exchanger name of the persona (the name on its certificate).
    pub fn host_name(&self) -> String {
        format!("{}.farm.test", self.name)
    }

    /// The names its certificate carries.
    pub fn cert_names(&self) -> Vec<String> {
        if self.cert_names.is_empty() {
            vec![self.host_name()]
        } else {
            self.cert_names.clone()
        }
    }
}

/// Loads personas from JSON text (an array).
pub fn load_personas(text: &str) -> Result<Vec<Persona>, FarmError> {
    serde_json::from_str(text).map_err(|source| FarmError::ParsePersonas { source })
}

/// The built-in persona named `name`.
pub fn builtin(name: &str) -> Result<Persona, FarmError> {
    load_personas(BUILTIN_PERSONAS)?
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| FarmError::UnknownPersona {
            name: name.to_string(),
        })
}

/// One command received: the farm address, the line and when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub addr: IpAddr,
    pub line: String,
    pub at: std::time::Instant,
}

/// What the farm shares between connections.
struct Shared {
    personas: HashMap<IpAddr, Arc<Runtime>>,
    log: Mutex<Vec<Received>>,
    log_file: Option<Mutex<std::io::BufWriter<std::fs::File>>>,
    keep_log: bool,
    /// Connections accepted per address (accept times), kept with `keep_log`.
    accepted: Mutex<HashMap<IpAddr, Vec<std::time::Instant>>>,
    /// Connections accepted in all.
    total: AtomicUsize,
    /// Sessions open now, and the most ever open at once.
    active: AtomicUsize,
    max_active: AtomicUsize,
    /// MAIL, RCPT, DATA, VRFY or EXPN commands received (always counted).
    forbidden: AtomicUsize,
}

/// Counts a session as open until dropped.
struct ActiveGuard(Arc<Shared>);

impl ActiveGuard {
    fn new(sh: Arc<Shared>) -> Self {
        let now = sh.active.fetch_add(1, Ordering::SeqCst) + 1;
        sh.max_active.fetch_max(now, Ordering::SeqCst);
        ActiveGuard(sh)
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A persona ready to serve: TLS configurations built once.
struct Runtime {
    persona: Persona,
    rustls: Option<Arc<rustls::ServerConfig>>,
    #[cfg(feature = "legacy-tls")]
    openssl: Option<openssl::ssl::SslAcceptor>,
    /// Extra delay of this address before every reply.
    extra_delay: Duration,
}

/// The farm's layout: which persona on which address.
#[derive(Debug, Clone)]
pub struct FarmSpec {
    pub port: u16,
    /// (address, persona, extra per-reply delay)
    pub hosts: Vec<(IpAddr, Persona, Duration)>,
    /// Keep received commands in memory (tests); off for benchmarks.
    pub keep_log: bool,
    pub log_file: Option<std::path::PathBuf>,
    /// Runtime worker threads (0: two).
    pub threads: usize,
}

/// A running farm; stops when dropped.
pub struct Farm {
    pub port: u16,
    /// The test root (PEM), for `--roots`.
    pub ca_pem: String,
    /// The test intermediate (PEM), for `--intermediates`.
    pub intermediate_pem: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug)]
struct FixedCert(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for FixedCert {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// The rustls server configuration of persona `persona` presenting `id`.
fn rustls_config(persona: &str, id: &Identity) -> Result<Arc<rustls::ServerConfig>, FarmError> {
    // TLS13_AES_128_GCM_SHA256 first, as the prober prefers it: the cheapest handshake.
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .cipher_suites
        .sort_by_key(|s| s.suite() != rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
    let provider = Arc::new(provider);
    let key = provider
        .key_provider
        .load_private_key(id.key())
        .map_err(|source| FarmError::LeafKey {
            persona: persona.to_string(),
            source,
        })?;
    // CertifiedKey::new does not check the chain: expired and v1 leaves are served as is.
    let ck = Arc::new(rustls::sign::CertifiedKey::new(id.chain.clone(), key));
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|source| FarmError::TlsConfig {
            persona: persona.to_string(),
            source,
        })?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(FixedCert(ck)));
    // Probers do not resume sessions: tickets would be wasted work.
    cfg.send_tls13_tickets = 0;
    cfg.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    Ok(Arc::new(cfg))
}

#[cfg(feature = "legacy-tls")]
fn openssl_tls10(persona: &str, id: &Identity) -> Result<openssl::ssl::SslAcceptor, FarmError> {
    openssl_tls10_acceptor(id).map_err(|source| FarmError::Openssl {
        persona: persona.to_string(),
        source,
    })
}

#[cfg(feature = "legacy-tls")]
fn openssl_tls10_acceptor(
    id: &Identity,
) -> Result<openssl::ssl::SslAcceptor, openssl::error::ErrorStack> {
    use openssl::ssl::{SslAcceptor, SslMethod, SslVersion};
    let mut b = SslAcceptor::mozilla_intermediate(SslMethod::tls())?;
    b.set_security_level(0);
    b.set_min_proto_version(Some(SslVersion::TLS1))?;
    b.set_max_proto_version(Some(SslVersion::TLS1))?;
    b.set_cipher_list("ALL:@SECLEVEL=0")?;
    let key = openssl::pkey::PKey::private_key_from_pkcs8(&id.key_pkcs8)?;
    b.set_private_key(&key)?;
    let leaf = openssl::x509::X509::from_der(&id.chain[0])?;
    b.set_certificate(&leaf)?;
    for c in &id.chain[1..] {
        b.add_extra_chain_cert(openssl::x509::X509::from_der(c)?)?;
    }
    Ok(b.build())
}

/// Binds `port` on every address (port 0: the port the first bind got, on all of them).
fn bind_all(addrs: &[IpAddr], mut port: u16) -> Result<(u16, Vec<TcpListener>), FarmError> {
    let mut listeners = Vec::with_capacity(addrs.len());
    for ip in addrs {
        let l = bind(SocketAddr::new(*ip, port)).map_err(|source| FarmError::Bind {
            ip: *ip,
            port,
            source,
        })?;
        if port == 0 {
            port = l.local_addr().map(|a| a.port()).unwrap_or(0);
        }
        listeners.push(l);
    }
    Ok((port, listeners))
}

impl Farm {
    /// Starts the farm on its own thread and runtime; returns once every address listens.
    pub fn start(spec: FarmSpec) -> Result<Farm, FarmError> {
        let ca = TestCa::generate().map_err(|source| FarmError::Ca { source })?;
        Farm::start_with_ca(spec, ca)
    }

    /// As [`Farm::start`], with leaves issued by `ca` (e.g. a world's [`TestCa::from_seed`]).
    pub fn start_with_ca(spec: FarmSpec, ca: TestCa) -> Result<Farm, FarmError> {
        let mut by_name: HashMap<String, Identity> = HashMap::new();
        let mut personas = HashMap::new();
        #[cfg(feature = "legacy-tls")]
        let mut tls10: HashMap<String, openssl::ssl::SslAcceptor> = HashMap::new();
        let mut configs: HashMap<String, Arc<rustls::ServerConfig>> = HashMap::new();
        for (ip, p, delay) in &spec.hosts {
            if !farm_address(*ip) {
                return Err(FarmError::NotFarmAddress { addr: *ip });
            }
            if !by_name.contains_key(&p.name) {
                let id = ca
                    .identity_names(p.cert, &p.cert_names(), p.rsa)
                    .map_err(|source| FarmError::Certificate {
                        persona: p.name.clone(),
                        source,
                    })?;
                configs.insert(p.name.clone(), rustls_config(&p.name, &id)?);
                #[cfg(feature = "legacy-tls")]
                if p.tls != TlsStack::Rustls {
                    tls10.insert(p.name.clone(), openssl_tls10(&p.name, &id)?);
                }
                #[cfg(not(feature = "legacy-tls"))]
                if p.tls != TlsStack::Rustls {
                    return Err(FarmError::Tls10NeedsLegacyTls {
                        persona: p.name.clone(),
                    });
                }
                by_name.insert(p.name.clone(), id);
            }
            personas.insert(
                *ip,
                Arc::new(Runtime {
                    persona: p.clone(),
                    rustls: configs.get(&p.name).cloned(),
                    #[cfg(feature = "legacy-tls")]
                    openssl: tls10.get(&p.name).cloned(),
                    extra_delay: *delay,
                }),
            );
        }
        let log_file = match &spec.log_file {
            Some(p) => Some(Mutex::new(std::io::BufWriter::new(
                std::fs::File::create(p).map_err(|source| FarmError::CreateLog {
                    path: p.clone(),
                    source,
                })?,
            ))),
            None => None,
        };
        let shared = Arc::new(Shared {
            personas,
            log: Mutex::new(Vec::new()),
            log_file,
            keep_log: spec.keep_log,
            accepted: Mutex::new(HashMap::new()),
            total: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            max_active: AtomicUsize::new(0),
            forbidden: AtomicUsize::new(0),
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<u16, FarmError>>();
        let sh = shared.clone();
        let addrs: Vec<IpAddr> = spec.hosts.iter().map(|h| h.0).collect();
        let port = spec.port;
        let threads = if spec.threads == 0 { 2 } else { spec.threads };
        let thread = std::thread::Builder::new()
            .name("smtp-farm".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(source) => {
                        let _ = ready_tx.send(Err(FarmError::Runtime { source }));
                        return;
                    }
                };
                rt.block_on(async move {
                    // Port 0: the first address picks a free port and the others take the
                    // same one; should another program hold it on one of them, start over.
                    let mut tries = 0;
                    let (port, listeners) = loop {
                        tries += 1;
                        match bind_all(&addrs, port) {
                            Ok(v) => break v,
                            Err(e) if port == 0 && tries < 20 => {
                                tracing::debug!("farm: {}; trying another port", crate::chain(&e));
                            }
                            Err(e) => {
                                let _ = ready_tx.send(Err(e));
                                return;
                            }
                        }
                    };
                    let _ = ready_tx.send(Ok(port));
                    for l in listeners {
                        let sh = sh.clone();
                        tokio::spawn(accept_loop(l, sh));
                    }
                    let _ = stop_rx.await;
                });
                rt.shutdown_background();
            })
            .map_err(|source| FarmError::Thread { source })?;
        let port = ready_rx.recv().map_err(|_| FarmError::ThreadEnded)??;
        Ok(Farm {
            port,
            ca_pem: ca.cert_pem.clone(),
            intermediate_pem: ca.inter_pem.clone(),
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Every command received so far (with `keep_log`).
    pub fn commands(&self) -> Vec<Received> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// Accept times of the connections to `ip` so far (with `keep_log`).
    pub fn connections(&self, ip: IpAddr) -> Vec<std::time::Instant> {
        self.shared
            .accepted
            .lock()
            .map(|m| m.get(&ip).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Connections accepted so far, all addresses.
    pub fn connection_count(&self) -> usize {
        self.shared.total.load(Ordering::SeqCst)
    }

    /// The most sessions that were open at once.
    pub fn max_concurrent(&self) -> usize {
        self.shared.max_active.load(Ordering::SeqCst)
    }

    /// MAIL, RCPT, DATA, VRFY and EXPN commands received so far (counted even without
    /// `keep_log`); a prober must never send one.
    pub fn forbidden_commands(&self) -> usize {
        self.shared.forbidden.load(Ordering::SeqCst)
    }

    /// Blocks until the farm stops (never, unless the thread dies).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(f) = &self.shared.log_file
            && let Ok(mut w) = f.lock()
        {
            use std::io::Write;
            let _ = w.flush();
        }
    }
}

/// Addresses the farm may listen on: loopback, and the world's IPv6-only exchangers
/// (unique-local, never routed; bindable only where a network namespace made them local).
pub fn farm_address(ip: IpAddr) -> bool {
    ip.is_loopback() || super::world::in_sim_ipv6_prefix(ip)
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let s = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    s.set_reuseaddr(true)?;
    s.bind(addr)?;
    s.listen(1024)
}

async fn accept_loop(l: TcpListener, sh: Arc<Shared>) {
    loop {
        match l.accept().await {
            Ok((s, _peer)) => {
                let local = match s.local_addr() {
                    Ok(a) => a.ip(),
                    Err(_) => continue,
                };
                let Some(rt) = sh.personas.get(&local).cloned() else {
                    continue;
                };
                sh.total.fetch_add(1, Ordering::SeqCst);
                if sh.keep_log
                    && let Ok(mut m) = sh.accepted.lock()
                {
                    m.entry(local).or_default().push(std::time::Instant::now());
                }
                let guard = ActiveGuard::new(sh.clone());
                // A second descriptor of the socket, closed after the session is counted as
                // ended: the client sees the connection close (FIN) only then, so it cannot
                // open its next session while this one still counts (max_concurrent stays
                // a lower bound of the client's concurrency).
                let hold = std::os::fd::AsFd::as_fd(&s).try_clone_to_owned();
                let sh = sh.clone();
                tokio::spawn(async move {
                    let _ = serve(s, local, rt, sh).await;
                    drop(guard);
                    drop(hold);
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

fn reply_bytes(lines: &[String]) -> Vec<u8> {
    let mut v = Vec::new();
    for l in lines {
        v.extend_from_slice(l.as_bytes());
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Reads one command line (bounded); `None` at EOF or on a too-long line.
async fn read_line<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(p) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=p).collect();
            let text = String::from_utf8_lossy(&line)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            return Some(text);
        }
        if buf.len() > 4096 {
            return None;
        }
        let mut tmp = [0u8; 1024];
        match s.read(&mut tmp).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
}

impl Shared {
    fn record(&self, addr: IpAddr, line: &str) {
        let verb = line.split_whitespace().next().unwrap_or("");
        if ["MAIL", "RCPT", "DATA", "VRFY", "EXPN"]
            .iter()
            .any(|v| verb.eq_ignore_ascii_case(v))
        {
            self.forbidden.fetch_add(1, Ordering::SeqCst);
        }
        if self.keep_log
            && let Ok(mut l) = self.log.lock()
        {
            l.push(Received {
                addr,
                line: line.to_string(),
                at: std::time::Instant::now(),
            });
        }
        if let Some(f) = &self.log_file
            && let Ok(mut w) = f.lock()
        {
            use std::io::Write;
            let _ = writeln!(w, "{addr}\t{line}");
        }
    }
}

enum Next {
    Close,
    StartTls,
}

/// The command loop; `tls` says whether it runs inside TLS.
async fn commands<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    addr: IpAddr,
    rt: &Runtime,
    sh: &Shared,
    tls: bool,
) -> std::io::Result<Next> {
    let p = &rt.persona;
    let delay = Duration::from_millis(p.delay_ms) + rt.extra_delay;
    let mut buf = Vec::new();
    loop {
        let Some(line) = read_line(s, &mut buf).await else {
            return Ok(Next::Close);
        };
        sh.record(addr, &line);
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let mut after: Option<Next> = None;
        let out: Vec<u8> = match verb.as_str() {
            "EHLO" => match &p.ehlo_reject {
                Some(r) => reply_bytes(std::slice::from_ref(r)),
                None => {
                    let mut lines: Vec<String> = p
                        .ehlo
                        .iter()
                        .filter(|l| {
                            !(tls
                                && l.get(4..)
                                    .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS")))
                        })
                        .cloned()
                        .collect();
                    if p.failure == Failure::HugeEhlo {
                        let keep = lines.pop();
                        lines.extend((0..10_000).map(|i| format!("250-X-FILLER-{i}")));
                        lines.extend(keep);
                    }
                    // Keep the last line's separator right after filtering.
                    if let Some(last) = lines.last_mut()
                        && last.as_bytes().get(3) == Some(&b'-')
                    {
                        last.replace_range(3..4, " ");
                    }
                    let mut v = reply_bytes(&lines);
                    if p.failure == Failure::BinaryBytes && !tls {
                        // One more line with NUL and invalid UTF-8 before the rest.
                        let mut odd = b"250-X-ODD \0\xff\xfe\xc3(\r\n".to_vec();
                        let first = v.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
                        odd.extend_from_slice(&v[first..]);
                        v.truncate(first);
                        v.extend_from_slice(&odd);
                    }
                    v
                }
            },
            "HELO" => {
                if p.helo.is_empty() {
                    reply_bytes(&[format!("250 {}", p.host_name())])
                } else {
                    reply_bytes(&p.helo)
                }
            }
            "STARTTLS" if !tls => match p.starttls {
                StarttlsMode::Refuse => reply_bytes(&[p
                    .starttls_reply
                    .clone()
                    .unwrap_or_else(|| "454 4.7.0 TLS not available".into())]),
                StarttlsMode::Inject => {
                    after = Some(Next::StartTls);
                    let mut v = reply_bytes(&[p
                        .starttls_reply
                        .clone()
                        .unwrap_or_else(|| "220 2.0.0 Ready".into())]);
                    if let Some(i) = &p.inject {
                        v.extend_from_slice(&reply_bytes(std::slice::from_ref(i)));
                    }
                    v
                }
                StarttlsMode::Accept | StarttlsMode::Alert => {
                    after = Some(Next::StartTls);
                    reply_bytes(&[p
                        .starttls_reply
                        .clone()
                        .unwrap_or_else(|| "220 2.0.0 Ready to start TLS".into())])
                }
            },
            "QUIT" => {
                after = Some(Next::Close);
                b"221 2.0.0 Bye\r\n".to_vec()
            }
            "NOOP" | "RSET" => b"250 2.0.0 OK\r\n".to_vec(),
            _ => b"502 5.5.2 Command not implemented by the farm\r\n".to_vec(),
        };
        let d = delay + Duration::from_millis(p.step_delay_ms.get(&verb).copied().unwrap_or(0));
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
        s.write_all(&out).await?;
        s.flush().await?;
        if let Some(n) = after {
            return Ok(n);
        }
    }
}

async fn serve(
    mut s: TcpStream,
    addr: IpAddr,
    rt: Arc<Runtime>,
    sh: Arc<Shared>,
) -> std::io::Result<()> {
    let _ = s.set_nodelay(true);
    let p = &rt.persona;
    let delay = Duration::from_millis(p.delay_ms) + rt.extra_delay;
    match p.failure {
        Failure::Tarpit => {
            // Hold the connection, read and drop whatever comes, never answer.
            let mut buf = [0u8; 512];
            while s.read(&mut buf).await.unwrap_or(0) > 0 {}
            return Ok(());
        }
        Failure::DripFeed => {
            let text = format!("220-{} slowly\r\n", p.host_name());
            loop {
                for b in text.bytes() {
                    s.write_all(&[b]).await?;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        Failure::EndlessLine => {
            s.write_all(b"220 ").await?;
            let chunk = [b'x'; 4096];
            loop {
                s.write_all(&chunk).await?;
            }
        }
        Failure::Garbage => {
            let mut x: u32 = 0x9e37_79b9;
            let bytes: Vec<u8> = (0..300)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x >> 24) as u8
                })
                .collect();
            s.write_all(b"\x16\x03\x01").await?;
            s.write_all(&bytes).await?;
            s.write_all(b"\r\n").await?;
            let mut buf = [0u8; 512];
            while s.read(&mut buf).await.unwrap_or(0) > 0 {}
            return Ok(());
        }
        Failure::DripSlow => {
            let text = format!("220-{} very slowly\r\n", p.host_name());
            loop {
                for b in text.bytes() {
                    s.write_all(&[b]).await?;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        _ => {}
    }
    let d = delay + Duration::from_millis(p.step_delay_ms.get("banner").copied().unwrap_or(0));
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
    if p.failure == Failure::BinaryBytes {
        s.write_all(format!("220 {} ESMTP \0nul\0 ", p.host_name()).as_bytes())
            .await?;
        s.write_all(b"\xff\xfe\xc3(invalid utf-8\r\n").await?;
    } else {
        s.write_all(&reply_bytes(&p.banner)).await?;
    }
    match p.failure {
        Failure::CloseAfterBanner => return Ok(()),
        Failure::HalfClose => {
            s.shutdown().await?;
            let mut buf = Vec::new();
            while let Some(line) = read_line(&mut s, &mut buf).await {
                sh.record(addr, &line);
            }
            return Ok(());
        }
        _ => {}
    }
    if p.failure == Failure::ResetAfterBanner {
        // Wait for the client's first command, then reset (SO_LINGER 0 sends RST on close).
        let mut buf = Vec::new();
        if let Some(line) = read_line(&mut s, &mut buf).await {
            sh.record(addr, &line);
        }
        // Linger 0 makes close send RST; it does not block (nothing is left to send).
        #[allow(deprecated)]
        s.set_linger(Some(Duration::ZERO))?;
        drop(s);
        return Ok(());
    }
    if !p.banner.first().is_some_and(|l| l.starts_with("220")) {
        // A rejecting server still answers QUIT.
        let _ = commands(&mut s, addr, &rt, &sh, false).await;
        return Ok(());
    }
    match commands(&mut s, addr, &rt, &sh, false).await? {
        Next::Close => return Ok(()),
        Next::StartTls => {}
    }
    let mut buf = [0u8; 1024];
    match p.failure {
        Failure::StallAfterStarttls => {
            while s.read(&mut buf).await.unwrap_or(0) > 0 {}
            return Ok(());
        }
        Failure::GarbageAfterStarttls => {
            let _ = s.read(&mut buf).await?;
            for _ in 0..100 {
                s.write_all(b"This is not TLS, sorry.\r\n").await?;
            }
            while s.read(&mut buf).await.unwrap_or(0) > 0 {}
            return Ok(());
        }
        Failure::ResetInHandshake => {
            let _ = s.read(&mut buf).await?;
            #[allow(deprecated)]
            s.set_linger(Some(Duration::ZERO))?;
            drop(s);
            return Ok(());
        }
        Failure::StallInHandshake => {
            let _ = s.read(&mut buf).await?;
            s.write_all(&[0x16, 0x03, 0x03]).await?;
            while s.read(&mut buf).await.unwrap_or(0) > 0 {}
            return Ok(());
        }
        _ => {}
    }
    if p.starttls == StarttlsMode::Alert {
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await?;
        // TLS 1.2 record: alert, fatal (2), handshake_failure (40).
        s.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
            .await?;
        return Ok(());
    }
    match p.tls {
        TlsStack::Rustls => {
            let Some(cfg) = rt.rustls.clone() else {
                return Ok(());
            };
            let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
            let mut tls = match acceptor.accept(s).await {
                Ok(t) => t,
                Err(_) => return Ok(()),
            };
            let _ = commands(&mut tls, addr, &rt, &sh, true).await;
            let _ = tls.shutdown().await;
            Ok(())
        }
        TlsStack::OpensslTls10 | TlsStack::OpensslTls10Intolerant => {
            if p.tls == TlsStack::OpensslTls10Intolerant
                && client_hello_version(&s).await.is_none_or(|v| v > 0x0301)
            {
                // Closed, no alert, no ServerHello; the hello read first, so the close is a
                // FIN (unread data would make it a reset).
                let mut hello = [0u8; 4096];
                while matches!(s.try_read(&mut hello), Ok(n) if n > 0) {}
                return Ok(());
            }
            #[cfg(feature = "legacy-tls")]
            {
                let std = s.into_std()?;
                let rt2 = rt.clone();
                let sh2 = sh.clone();
                let _ =
                    tokio::task::spawn_blocking(move || serve_openssl(std, addr, &rt2, &sh2)).await;
            }
            Ok(())
        }
    }
}

/// The `client_version` of the ClientHello waiting on `s` (read without consuming it: record
/// header, handshake header, then the version), or `None` when none comes within 10 s or
/// the bytes are not a ClientHello.
async fn client_hello_version(s: &tokio::net::TcpStream) -> Option<u16> {
    let mut head = [0u8; 11];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let n = tokio::time::timeout_at(deadline, s.peek(&mut head))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        if n >= head.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Handshake record (22) carrying a ClientHello (1).
    (head[0] == 0x16 && head[5] == 0x01).then(|| u16::from_be_bytes([head[9], head[10]]))
}

/// The blocking command loop inside an OpenSSL TLS 1.0 session.
#[cfg(feature = "legacy-tls")]
fn serve_openssl(std: std::net::TcpStream, addr: IpAddr, rt: &Runtime, sh: &Shared) {
    use std::io::{BufRead, Write};
    let Some(acc) = &rt.openssl else { return };
    let _ = std.set_nonblocking(false);
    let _ = std.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(tls) = acc.accept(std) else { return };
    let mut r = std::io::BufReader::new(tls);
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let l = line.trim_end().to_string();
        sh.record(addr, &l);
        let verb = l
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let out = match verb.as_str() {
            "EHLO" => {
                let lines: Vec<String> = rt
                    .persona
                    .ehlo
                    .iter()
                    .filter(|x| {
                        !x.get(4..)
                            .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS"))
                    })
                    .cloned()
                    .collect();
                let mut lines = lines;
                if let Some(last) = lines.last_mut()
                    && last.as_bytes().get(3) == Some(&b'-')
                {
                    last.replace_range(3..4, " ");
                }
                reply_bytes(&lines)
            }
            "QUIT" => {
                let _ = r.get_mut().write_all(b"221 2.0.0 Bye\r\n");
                let _ = r.get_mut().shutdown();
                return;
            }
            _ => b"502 5.5.2 Command not implemented by the farm\r\n".to_vec(),
        };
        if r.get_mut().write_all(&out).is_err() {
            return;
        }
    }
}

/// A deterministic per-address factor with median 1 (log-normal, sigma 0.5).
fn lognormal_factor(ip: IpAddr) -> f64 {
    let mut x: u64 = match ip {
        IpAddr::V4(v) => u32::from(v) as u64,
        IpAddr::V6(v) => u128::from(v) as u64,
    };
    let mut next = || {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let (u1, u2) = (next().max(1e-12), next());
    let n = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (0.5 * n).exp()
}

/// Whether the address is one of the `share` tarpits (deterministic).
fn is_tarpit(ip: IpAddr, share: f64) -> bool {
    let h = match ip {
        IpAddr::V4(v) => u32::from(v).wrapping_mul(2_654_435_761),
        IpAddr::V6(v) => (u128::from(v) as u32).wrapping_mul(2_654_435_761),
    };
    (h as f64 / u32::MAX as f64) < share
}

/// `mxinfer sim farm`: consecutive loopback addresses, personas assigned round-robin.
#[derive(Debug, Clone)]
pub struct FarmSettings {
    /// First loopback address of the farm.
    pub first: std::net::Ipv4Addr,
    /// Number of consecutive addresses.
    pub count: u32,
    /// Port of every address.
    pub port: u16,
    /// Persona names, assigned round-robin to the addresses.
    pub personas: Vec<String>,
    /// Extra latency: median milliseconds added before every reply (log-normal spread).
    pub latency_ms: u64,
    /// Share of addresses (0 to 1) that are tarpits whatever their persona.
    pub tarpit_share: f64,
    /// Write the test CA (PEM) here.
    pub ca_out: Option<PathBuf>,
    /// Write the target list (`address,name` lines) here.
    pub targets_out: Option<PathBuf>,
    /// Log every command received (address, command) to this file.
    pub command_log: Option<PathBuf>,
    /// Worker threads of the farm's runtime.
    pub threads: usize,
}

/// `mxinfer sim farm`: starts the farm and writes its CA and target list; the caller keeps
/// the returned farm until it wants it stopped. Returns a one-line description.
pub async fn start_cli(args: FarmSettings) -> Result<(Farm, String), FarmError> {
    let all = load_personas(BUILTIN_PERSONAS)?;
    let chosen: Vec<Persona> = args
        .personas
        .iter()
        .map(|n| {
            all.iter()
                .find(|p| &p.name == n)
                .cloned()
                .ok_or_else(|| FarmError::UnknownPersona { name: n.clone() })
        })
        .collect::<Result<_, _>>()?;
    let first = u32::from(args.first);
    let tarpit = builtin("tarpit")?;
    let mut hosts = Vec::with_capacity(args.count as usize);
    let mut targets = String::new();
    for i in 0..args.count {
        let ip = IpAddr::V4(std::net::Ipv4Addr::from(first + i));
        let mut p = chosen[i as usize % chosen.len()].clone();
        if is_tarpit(ip, args.tarpit_share) {
            p = tarpit.clone();
        }
        let delay = if args.latency_ms > 0 {
            Duration::from_secs_f64(args.latency_ms as f64 / 1000.0 * lognormal_factor(ip))
        } else {
            Duration::ZERO
        };
        targets.push_str(&format!("{ip},{}\n", p.host_name()));
        hosts.push((ip, p, delay));
    }
    let farm = tokio::task::spawn_blocking(move || {
        Farm::start(FarmSpec {
            port: args.port,
            hosts,
            keep_log: false,
            log_file: args.command_log.clone(),
            threads: args.threads,
        })
    })
    .await
    .map_err(|source| FarmError::StartTask { source })??;
    if let Some(p) = &args.ca_out {
        write_file(p, &farm.ca_pem)?;
    }
    if let Some(p) = &args.targets_out {
        write_file(p, &targets)?;
    }
    let msg = format!(
        "farm: {} addresses from {} on port {} ready",
        args.count, args.first, farm.port
    );
    Ok((farm, msg))
}

/// Writes `text` to `path`.
fn write_file(path: &Path, text: &str) -> Result<(), FarmError> {
    std::fs::write(path, text).map_err(|source| FarmError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_personas_parse() {
        let v = load_personas(BUILTIN_PERSONAS).unwrap();
        assert!(v.len() >= 20);
        let mut names: Vec<&str> = v.iter().map(|p| p.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), v.len(), "persona names are unique");
    }

    #[test]
    fn errors_name_the_persona_and_the_address() {
        let e = builtin("no-such-persona").unwrap_err();
        assert_eq!(e.to_string(), "no built-in persona \"no-such-persona\"");
        let e = load_personas("[{\"name\": 1}]").unwrap_err();
        assert_eq!(e.to_string(), "parsing personas");
        assert!(
            crate::chain(&e).contains("line 1 column"),
            "{}",
            crate::chain(&e)
        );
        let spec = FarmSpec {
            port: 0,
            hosts: vec![(
                "192.0.2.7".parse().unwrap(),
                builtin("normal").unwrap(),
                Duration::ZERO,
            )],
            keep_log: false,
            log_file: None,
            threads: 1,
        };
        let e = Farm::start(spec).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "the farm only listens on loopback addresses and the simulated IPv6 prefix {}, \
                 not 192.0.2.7",
                crate::world::SIM_IPV6_PREFIX
            )
        );
    }

    #[test]
    fn latency_factor_median_near_one() {
        let mut v: Vec<f64> = (0..2001u32)
            .map(|i| lognormal_factor(IpAddr::V4(std::net::Ipv4Addr::from(0x7f10_0000 + i))))
            .collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let m = v[1000];
        assert!((0.85..1.15).contains(&m), "median {m}");
        let t = (0..10000u32)
            .filter(|i| is_tarpit(IpAddr::V4(std::net::Ipv4Addr::from(0x7f10_0000 + i)), 0.1))
            .count();
        assert!((800..1200).contains(&t), "{t}");
    }
}
