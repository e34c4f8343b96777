//! Real MTAs from Debian for the probe tests: Postfix (installed with apt) and Exim (unpacked
//! from its package, since the two Debian packages conflict), each started per test with its
//! own configuration in a temporary directory, on its own 127.x address and a free port, with
//! STARTTLS on a certificate issued by a test CA generated here (ECDSA P-256), and stopped on
//! drop. `scripts/install-mta.sh` installs both; a missing one fails the test naming it.
//!
//! Also a small blocking SMTP client (banner, EHLO, STARTTLS with rustls against the test
//! root, EHLO inside TLS, QUIT) that checks the harness independently of `mxinfer probe`.
//! Nothing here ever sends MAIL FROM or RCPT TO, and every connection goes to 127.0.0.0/8.

use super::{free_port, loopback_addr};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to run when an MTA is missing.
pub const INSTALL_HINT: &str = "run `scripts/install-mta.sh` as root (.ci/run and \
     scripts/install-test-deps.sh do this)";

/// Where `scripts/install-mta.sh` unpacks Exim (overridable as in the script).
pub fn exim_dir() -> PathBuf {
    std::env::var_os("MXINFER_EXIM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/mxinfer-test/exim"))
}

// ---------------------------------------------------------------------------------------------
// Test PKI
// ---------------------------------------------------------------------------------------------

/// A test root CA and one leaf it issued for `name` (ECDSA P-256, SAN dNSName = `name`).
pub struct TestPki {
    pub name: String,
    pub ca_der: Vec<u8>,
    pub ca_pem: String,
    pub leaf_der: Vec<u8>,
    pub leaf_pem: String,
    /// PKCS#8 PEM of the leaf key.
    pub key_pem: String,
}

impl TestPki {
    pub fn issue(name: &str) -> TestPki {
        use rcgen::{
            BasicConstraints, CertificateParams, DistinguishedName, DnType,
            ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        };
        let now = time::OffsetDateTime::now_utc();
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "mxinfer tests");
        dn.push(DnType::CommonName, format!("mxinfer test CA for {name}"));
        ca.distinguished_name = dn;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.not_before = now - time::Duration::days(1);
        ca.not_after = now + time::Duration::days(30);
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca, ca_key);

        let leaf_key = KeyPair::generate().expect("leaf key");
        let mut leaf = CertificateParams::new(vec![name.to_string()]).expect("leaf params");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        leaf.distinguished_name = dn;
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.not_before = now - time::Duration::hours(1);
        leaf.not_after = now + time::Duration::days(7);
        let leaf_cert = leaf
            .signed_by(&leaf_key, &issuer)
            .expect("leaf certificate");

        TestPki {
            name: name.to_string(),
            ca_der: ca_cert.der().to_vec(),
            ca_pem: ca_cert.pem(),
            leaf_der: leaf_cert.der().to_vec(),
            leaf_pem: leaf_cert.pem(),
            key_pem: leaf_key.serialize_pem(),
        }
    }

    /// SHA-256 of the leaf's DER, lower-case hex (as the probe records it).
    pub fn leaf_sha256(&self) -> String {
        sha256_hex(&self.leaf_der)
    }

    /// Writes `ca.pem`, `cert.pem` (leaf) and `key.pem` into `dir`, readable by the MTA's
    /// unprivileged user; returns (cert, key) paths.
    fn write_files(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(dir.join("ca.pem"), &self.ca_pem).unwrap();
        std::fs::write(&cert, &self.leaf_pem).unwrap();
        std::fs::write(&key, &self.key_pem).unwrap();
        for p in [&cert, &key] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        (cert, key)
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

// ---------------------------------------------------------------------------------------------
// The MTAs
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtaKind {
    Postfix,
    Exim,
}

/// A running MTA, stopped (its whole process group) on drop.
pub struct Mta {
    pub kind: MtaKind,
    pub addr: SocketAddr,
    /// The exchanger name its certificate is issued for (`mx.postfix.test`, `mx.exim.test`).
    pub name: String,
    /// The text of its 220 greeting after the code (`mx.postfix.test ESMTP mxinfer-test-…`).
    pub banner_text: String,
    /// The SIZE it is configured to advertise (proves our configuration is the one in use).
    pub size_limit: u64,
    pub pki: TestPki,
    pub dir: tempfile::TempDir,
    child: Child,
    log: PathBuf,
}

impl Mta {
    /// The test root, PEM (for `--roots`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The MTA's own log so far (for failure messages).
    pub fn log(&self) -> String {
        read_log(&self.log)
    }

    pub fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Mta {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        // Postfix's master stops its children itself on SIGTERM (it leads its own process
        // group); Exim's daemon and its per-connection children get it as a group.
        let target = match self.kind {
            MtaKind::Postfix => pid.clone(),
            MtaKind::Exim => format!("-{pid}"),
        };
        let _ = Command::new("kill")
            .args(["-TERM", "--", &target])
            .stderr(Stdio::null())
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()))
}

fn missing(what: &str, path: &Path) -> ! {
    panic!(
        "{what} is not installed ({} is missing): {INSTALL_HINT}",
        path.display()
    )
}

/// Both MTAs start as root and give privilege up to their own users.
fn require_root(what: &str) {
    let out = Command::new("id").arg("-u").output().expect("running id");
    assert!(
        String::from_utf8_lossy(&out.stdout).trim() == "0",
        "{what} must be started as root (these tests run as root in CI)"
    );
}

fn uid_gid(user: &str) -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, user])
            .output()
            .expect("running id");
        assert!(
            out.status.success(),
            "user {user} does not exist: {INSTALL_HINT}"
        );
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    (id("-u"), id("-g"))
}

fn mkdir_owned(path: &Path, owner: Option<(u32, u32)>, mode: u32) {
    std::fs::create_dir_all(path).unwrap();
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A temporary directory the MTAs' unprivileged users can traverse.
fn mta_tempdir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

pub fn start(kind: MtaKind) -> Mta {
    match kind {
        MtaKind::Postfix => start_postfix(),
        MtaKind::Exim => start_exim(),
    }
}

/// Starts Postfix's `master` in the foreground with its own `config_directory`,
/// `queue_directory` and `data_directory` in a temporary directory, smtpd listening only on
/// a fresh 127.x address and port.
pub fn start_postfix() -> Mta {
    let postfix = Path::new("/usr/sbin/postfix");
    if !postfix.exists() {
        missing("Postfix", postfix);
    }
    require_root("Postfix");
    let name = "mx.postfix.test";
    let banner_text = format!("{name} ESMTP mxinfer-test-postfix");
    let size_limit = 20_480_000;
    let pki = TestPki::issue(name);
    let dir = mta_tempdir("mxinfer-postfix-");
    let d = dir.path();
    let (cert, key) = pki.write_files(d);
    let conf = d.join("conf");
    let queue = d.join("queue");
    let data = d.join("data");
    let log = d.join("maillog");
    mkdir_owned(&conf, None, 0o755);
    // `postfix check` wants the queue directory owned by root and creates its subdirectories
    // (owned by mail_owner) and the data directory.
    mkdir_owned(&queue, None, 0o755);
    mkdir_owned(&data, Some(uid_gid("postfix")), 0o700);
    let ip = loopback_addr();
    let port = free_port(ip);
    let main_cf = format!(
        "# mxinfer test instance\n\
         compatibility_level = 3.6\n\
         myhostname = {name}\n\
         mydomain = postfix.test\n\
         myorigin = $myhostname\n\
         mydestination =\n\
         relayhost =\n\
         mynetworks = 127.0.0.0/8\n\
         inet_interfaces = loopback-only\n\
         inet_protocols = ipv4\n\
         queue_directory = {queue}\n\
         data_directory = {data}\n\
         mail_owner = postfix\n\
         setgid_group = postdrop\n\
         maillog_file = {log}\n\
         maillog_file_prefixes = {d}\n\
         smtpd_banner = {banner_text}\n\
         smtpd_peername_lookup = no\n\
         message_size_limit = {size_limit}\n\
         smtpd_tls_security_level = may\n\
         smtpd_tls_cert_file = {cert}\n\
         smtpd_tls_key_file = {key}\n\
         smtpd_tls_loglevel = 1\n\
         alias_maps =\n\
         alias_database =\n\
         local_recipient_maps =\n\
         biff = no\n",
        queue = queue.display(),
        data = data.display(),
        log = log.display(),
        d = d.display(),
        cert = cert.display(),
        key = key.display(),
    );
    // No chroot (the Debian default master.cf chroots smtpd into the system queue).
    let master_cf = format!(
        "{ip}:{port} inet n - n - - smtpd\n\
         pickup unix n - n 60 1 pickup\n\
         cleanup unix n - n - 0 cleanup\n\
         qmgr unix n - n 300 1 qmgr\n\
         tlsmgr unix - - n 1000? 1 tlsmgr\n\
         rewrite unix - - n - - trivial-rewrite\n\
         bounce unix - - n - 0 bounce\n\
         defer unix - - n - 0 bounce\n\
         trace unix - - n - 0 bounce\n\
         verify unix - - n - 1 verify\n\
         flush unix n - n 1000? 0 flush\n\
         proxymap unix - - n - - proxymap\n\
         anvil unix - - n - 1 anvil\n\
         scache unix - - n - 1 scache\n\
         postlog unix-dgram n - n - 1 postlogd\n"
    );
    std::fs::write(conf.join("main.cf"), main_cf).unwrap();
    std::fs::write(conf.join("master.cf"), master_cf).unwrap();

    let check = Command::new(postfix)
        .arg("-c")
        .arg(&conf)
        .arg("check")
        .stdin(Stdio::null())
        .output()
        .expect("running postfix check");
    if !check.status.success() {
        // The postfix command writes its fatal errors to stderr only on a terminal.
        let why = Command::new("script")
            .arg("-qec")
            .arg(format!("{} -c {} check", postfix.display(), conf.display()))
            .arg("/dev/null")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        panic!(
            "postfix check failed for {}:\n{why}\n{}",
            conf.display(),
            read_log(&log)
        );
    }
    let daemon_dir = Command::new("postconf")
        .arg("-c")
        .arg(&conf)
        .args(["-h", "daemon_directory"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/usr/lib/postfix/sbin".to_string());
    let master = Path::new(&daemon_dir).join("master");
    if !master.exists() {
        missing("Postfix", &master);
    }
    let out = std::fs::File::create(d.join("master.out")).unwrap();
    let mut child = Command::new(&master)
        .arg("-c")
        .arg(&conf)
        .arg("-d")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("starting postfix master");
    let addr = SocketAddr::new(ip, port);
    wait_greeting(addr, &mut child, "postfix", &log);
    Mta {
        kind: MtaKind::Postfix,
        addr,
        name: name.to_string(),
        banner_text,
        size_limit,
        pki,
        dir,
        child,
        log,
    }
}

/// Starts the unpacked Exim daemon in the foreground (`-bdf`) with its own configuration
/// file (`-C`), spool and log directories in a temporary directory, listening only on a
/// fresh 127.x address and port.
pub fn start_exim() -> Mta {
    let exim = exim_dir().join("usr/sbin/exim4");
    if !exim.exists() {
        missing("Exim", &exim);
    }
    require_root("Exim");
    let name = "mx.exim.test";
    let banner_text = format!("{name} ESMTP mxinfer-test-exim");
    let size_limit = 31_457_280; // 30M
    let pki = TestPki::issue(name);
    let dir = mta_tempdir("mxinfer-exim-");
    let d = dir.path();
    let (cert, key) = pki.write_files(d);
    // Debian's build gives up root privilege to Debian-exim (created by install-mta.sh).
    let exim_ids = uid_gid("Debian-exim");
    let spool = d.join("spool");
    let logdir = d.join("log");
    mkdir_owned(&spool, Some(exim_ids), 0o750);
    mkdir_owned(&logdir, Some(exim_ids), 0o750);
    let log = logdir.join("mainlog");
    let ip = loopback_addr();
    let port = free_port(ip);
    let conf = format!(
        "# mxinfer test instance\n\
         primary_hostname = {name}\n\
         local_interfaces = <; {ip}.{port}\n\
         spool_directory = {spool}\n\
         log_file_path = {logdir}/%slog\n\
         pid_file_path = {d}/exim.pid\n\
         keep_environment =\n\
         smtp_banner = {banner_text}\n\
         host_lookup =\n\
         rfc1413_hosts =\n\
         message_size_limit = 30M\n\
         tls_advertise_hosts = *\n\
         tls_certificate = {cert}\n\
         tls_privatekey = {key}\n",
        spool = spool.display(),
        logdir = logdir.display(),
        d = d.display(),
        cert = cert.display(),
        key = key.display(),
    );
    let conf_path = d.join("exim.conf");
    std::fs::write(&conf_path, conf).unwrap();
    std::fs::set_permissions(&conf_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out_path = d.join("exim.out");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = Command::new(&exim)
        .arg("-C")
        .arg(&conf_path)
        .arg("-bdf")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("starting exim");
    let addr = SocketAddr::new(ip, port);
    let waited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_greeting(addr, &mut child, "exim", &log)
    }));
    if let Err(e) = waited {
        let _ = child.kill();
        eprintln!("exim stderr:\n{}", read_log(&out_path));
        std::panic::resume_unwind(e);
    }
    Mta {
        kind: MtaKind::Exim,
        addr,
        name: name.to_string(),
        banner_text,
        size_limit,
        pki,
        dir,
        child,
        log,
    }
}

/// Waits until `addr` accepts a connection and greets with 220 (then QUITs).
fn wait_greeting(addr: SocketAddr, child: &mut Child, what: &str, log: &Path) {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start ({status}):\n{}", read_log(log));
        }
        if let Ok(tcp) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            tcp.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut reader = BufReader::new(tcp.try_clone().unwrap());
            match read_reply(&mut reader) {
                Ok(r) if r.code == 220 => {
                    let mut w = tcp;
                    let _ = w.write_all(b"QUIT\r\n");
                    let _ = read_reply(&mut reader);
                    return;
                }
                Ok(r) => last = format!("greeting {r:?}"),
                Err(e) => last = e,
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{what} did not greet with 220 on {addr} ({last}):\n{}",
        read_log(log)
    );
}

// ---------------------------------------------------------------------------------------------
// A small SMTP client
// ---------------------------------------------------------------------------------------------

/// One SMTP reply: the code and its lines as received (line ends removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The text of each line after the code and separator.
    pub fn texts(&self) -> Vec<&str> {
        self.lines
            .iter()
            .map(|l| l.get(4..).unwrap_or(""))
            .collect()
    }

    /// EHLO keywords with their parameters, upper case (every line but the first).
    pub fn keywords(&self) -> Vec<String> {
        self.texts()
            .iter()
            .skip(1)
            .map(|t| t.trim().to_ascii_uppercase())
            .collect()
    }
}

/// Reads one (possibly multi-line) reply; bounded at 100 lines of 4 KiB.
pub fn read_reply(r: &mut impl BufRead) -> Result<Reply, String> {
    let mut lines = Vec::new();
    loop {
        let mut raw = Vec::new();
        let n = r
            .by_ref()
            .take(4096)
            .read_until(b'\n', &mut raw)
            .map_err(|e| format!("reading reply: {e}"))?;
        if n == 0 {
            return Err(format!("connection closed mid-reply after {lines:?}"));
        }
        let line = String::from_utf8_lossy(&raw)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        let code: u16 = line
            .get(..3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("no reply code in {line:?}"))?;
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line);
        if last {
            return Ok(Reply { code, lines });
        }
        if lines.len() > 100 {
            return Err("reply of more than 100 lines".to_string());
        }
    }
}

fn command(w: &mut impl Write, r: &mut impl BufRead, line: &str) -> Result<Reply, String> {
    w.write_all(format!("{line}\r\n").as_bytes())
        .and_then(|_| w.flush())
        .map_err(|e| format!("sending {line}: {e}"))?;
    read_reply(r)
}

/// What the small client saw in one STARTTLS dialogue.
#[derive(Debug)]
pub struct Dialogue {
    pub banner: Reply,
    pub ehlo: Reply,
    pub starttls: Reply,
    /// `TLSv1_3` or `TLSv1_2` (rustls' names).
    pub tls_version: String,
    /// The chain the server presented, leaf first, DER.
    pub chain: Vec<Vec<u8>>,
    pub tls_ehlo: Reply,
    pub quit: Reply,
}

/// Banner, EHLO, STARTTLS, a rustls handshake that verifies the chain against `ca_der` alone
/// and the name `server_name` (sent as SNI), EHLO inside TLS, QUIT. An error names the step.
pub fn starttls_dialogue(
    addr: SocketAddr,
    server_name: &str,
    ca_der: &[u8],
) -> Result<Dialogue, String> {
    assert!(
        matches!(addr.ip(), IpAddr::V4(v4) if v4.is_loopback()),
        "the test client only talks to 127.0.0.0/8, not {addr}"
    );
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut w = tcp.try_clone().unwrap();
    let mut r = BufReader::new(tcp.try_clone().unwrap());
    let banner = read_reply(&mut r).map_err(|e| format!("banner: {e}"))?;
    let ehlo =
        command(&mut w, &mut r, "EHLO probe.mxinfer.test").map_err(|e| format!("ehlo: {e}"))?;
    let starttls = command(&mut w, &mut r, "STARTTLS").map_err(|e| format!("starttls: {e}"))?;
    if starttls.code != 220 {
        return Err(format!("starttls refused: {starttls:?}"));
    }
    if !r.buffer().is_empty() {
        return Err("plaintext buffered after the 220 to STARTTLS".to_string());
    }
    drop(r);
    drop(w);

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(ca_der.to_vec()))
        .map_err(|e| format!("test root: {e}"))?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let sni = rustls::pki_types::ServerName::try_from(server_name.to_string())
        .map_err(|e| format!("server name {server_name}: {e}"))?;
    let conn = rustls::ClientConnection::new(Arc::new(config), sni)
        .map_err(|e| format!("tls setup: {e}"))?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .map_err(|e| format!("tls: {e}"))?;
    }
    let tls_version = format!(
        "{:?}",
        tls.conn.protocol_version().expect("negotiated version")
    );
    let chain = tls
        .conn
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|c| c.as_ref().to_vec())
        .collect();
    let mut r = BufReader::new(tls);
    r.get_mut()
        .write_all(b"EHLO probe.mxinfer.test\r\n")
        .map_err(|e| format!("tls ehlo: {e}"))?;
    let tls_ehlo = read_reply(&mut r).map_err(|e| format!("tls ehlo: {e}"))?;
    r.get_mut()
        .write_all(b"QUIT\r\n")
        .map_err(|e| format!("quit: {e}"))?;
    let quit = read_reply(&mut r).map_err(|e| format!("quit: {e}"))?;
    Ok(Dialogue {
        banner,
        ehlo,
        starttls,
        tls_version,
        chain,
        tls_ehlo,
        quit,
    })
}
