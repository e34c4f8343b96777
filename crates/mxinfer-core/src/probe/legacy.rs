//! The legacy TLS fallback (feature `legacy-tls`): OpenSSL at security level 0, TLS 1.0 and
//! up, every cipher suite, no verification (the chain is recorded and judged by `verify`).
//!
//! It runs blocking on a thread of the blocking pool (rare: only servers rustls cannot talk
//! to get here), on a socket whose reads and writes time out; an absolute step deadline is
//! checked between reads so a dripping server cannot stretch it.

use super::reply::{Limits, ReplyReader};
use mxinfer_record::{ProbeStatus, ProbeStep, SmtpReply};
use openssl::ssl::{HandshakeError, SslConnector, SslMethod, SslVerifyMode, SslVersion};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// What the fallback learned.
#[derive(Debug, Default)]
pub struct LegacyOutcome {
    pub established: bool,
    pub version: Option<String>,
    pub cipher: Option<String>,
    /// DER, leaf first.
    pub chain: Vec<Vec<u8>>,
    pub ehlo: Option<SmtpReply>,
    pub quit: Option<SmtpReply>,
    pub error: Option<String>,
    /// The failure that ended the session, if any.
    pub fail: Option<(ProbeStatus, ProbeStep, Option<String>)>,
}

/// A socket whose every read and write ends at one absolute deadline, so a server dripping
/// bytes cannot keep a blocking thread beyond it (per-read timeouts alone would restart).
struct DeadlineStream {
    inner: std::net::TcpStream,
    deadline: Instant,
}

impl DeadlineStream {
    fn remaining(&self) -> std::io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(std::io::Error::from(std::io::ErrorKind::TimedOut))
        } else {
            Ok(left)
        }
    }
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.remaining()?;
        self.inner.set_read_timeout(Some(left))?;
        self.inner.read(buf)
    }
}

impl Write for DeadlineStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let left = self.remaining()?;
        self.inner.set_write_timeout(Some(left))?;
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn build_connector(tls10_only: bool) -> Result<SslConnector, openssl::error::ErrorStack> {
    let mut b = SslConnector::builder(SslMethod::tls_client())?;
    b.set_verify(SslVerifyMode::NONE);
    b.set_security_level(0);
    b.set_min_proto_version(Some(SslVersion::TLS1))?;
    if tls10_only {
        b.set_max_proto_version(Some(SslVersion::TLS1))?;
    }
    b.set_cipher_list("ALL:@SECLEVEL=0")?;
    Ok(b.build())
}

/// The client context (TLS 1.0 and up, or TLS 1.0 only), built once per process. Building
/// one per session, as before, loaded the system's CA file each time (the connector builder
/// sets the default verify paths) and, under OpenSSL 3, made the sessions queue on its
/// decoder and provider locks: in the 10,000-target hostile run that was a third of the
/// prober's CPU, and the wait pushed sessions past their deadline.
fn connector(tls10_only: bool) -> Result<&'static SslConnector, String> {
    static ANY: std::sync::OnceLock<Result<SslConnector, String>> = std::sync::OnceLock::new();
    static TLS10: std::sync::OnceLock<Result<SslConnector, String>> = std::sync::OnceLock::new();
    let cell = if tls10_only { &TLS10 } else { &ANY };
    cell.get_or_init(|| build_connector(tls10_only).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

fn exchange<S: Read + Write>(
    s: &mut S,
    rd: &mut ReplyReader,
    cmd: &str,
    step: Duration,
) -> Result<SmtpReply, (ProbeStatus, Option<String>)> {
    let deadline = Instant::now() + step;
    s.write_all(format!("{cmd}\r\n").as_bytes())
        .and_then(|_| s.flush())
        .map_err(|e| io_fail(&e))?;
    let mut buf = [0u8; 2048];
    loop {
        match rd.next_reply() {
            Ok(Some(r)) => return Ok(r),
            Ok(None) => {}
            Err(e) => {
                let st = match e {
                    super::reply::ReplyError::TooLarge { .. } => ProbeStatus::ReplyTooLarge,
                    _ => ProbeStatus::ProtocolError,
                };
                return Err((st, Some(e.to_string())));
            }
        }
        if Instant::now() >= deadline {
            return Err((ProbeStatus::StepTimeout, None));
        }
        let n = s.read(&mut buf).map_err(|e| io_fail(&e))?;
        if n == 0 {
            return Err((
                ProbeStatus::ProtocolError,
                Some("connection closed by the server".into()),
            ));
        }
        rd.feed(&buf[..n])
            .map_err(|e| (ProbeStatus::ReplyTooLarge, Some(e.to_string())))?;
    }
}

fn io_fail(e: &std::io::Error) -> (ProbeStatus, Option<String>) {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::WouldBlock | K::TimedOut => (ProbeStatus::StepTimeout, None),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
            (ProbeStatus::Reset, Some(e.to_string()))
        }
        _ => (ProbeStatus::ProtocolError, Some(e.to_string())),
    }
}

/// Handshake on `tcp` (STARTTLS already accepted), EHLO inside TLS, QUIT. Each of the three
/// steps gets `step`, and nothing runs past `session_end`. `tls10_only`: offer TLS 1.0 and
/// nothing newer (a ClientHello whose version is TLS 1.0, for version-intolerant servers).
pub fn session(
    tcp: std::net::TcpStream,
    sni: Option<&str>,
    ehlo_name: &str,
    step: Duration,
    session_end: Instant,
    limits: Limits,
    tls10_only: bool,
) -> LegacyOutcome {
    let mut out = LegacyOutcome::default();
    let setup = tcp.set_nonblocking(false);
    if let Err(e) = setup {
        out.error = Some(e.to_string());
        out.fail = Some((ProbeStatus::TlsFailed, ProbeStep::Tls, Some(e.to_string())));
        return out;
    }
    let conn = match connector(tls10_only).and_then(|c| c.configure().map_err(|e| e.to_string())) {
        Ok(c) => c
            .use_server_name_indication(sni.is_some())
            .verify_hostname(false),
        Err(e) => {
            out.error = Some(e.to_string());
            out.fail = Some((ProbeStatus::TlsFailed, ProbeStep::Tls, Some(e.to_string())));
            return out;
        }
    };
    let tcp = DeadlineStream {
        inner: tcp,
        deadline: (Instant::now() + step).min(session_end),
    };
    let mut stream = match conn.connect(sni.unwrap_or("invalid"), tcp) {
        Ok(s) => s,
        Err(HandshakeError::Failure(mid)) => {
            if let Some(c) = mid.ssl().peer_cert_chain() {
                out.chain = c.iter().filter_map(|x| x.to_der().ok()).collect();
            }
            let msg = mid.error().to_string();
            use std::io::ErrorKind as K;
            let kind = mid.error().io_error().map(std::io::Error::kind);
            out.error = Some(msg.clone());
            out.fail = Some(match kind {
                Some(K::TimedOut | K::WouldBlock) => {
                    (ProbeStatus::StepTimeout, ProbeStep::Tls, None)
                }
                // Hung up on this handshake too: the status says so, as for the first one.
                Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe) => {
                    (ProbeStatus::Reset, ProbeStep::Tls, Some(msg))
                }
                _ => (ProbeStatus::TlsFailed, ProbeStep::Tls, Some(msg)),
            });
            return out;
        }
        Err(HandshakeError::WouldBlock(mid)) => {
            if let Some(c) = mid.ssl().peer_cert_chain() {
                out.chain = c.iter().filter_map(|x| x.to_der().ok()).collect();
            }
            out.error = Some("handshake timed out".into());
            out.fail = Some((ProbeStatus::StepTimeout, ProbeStep::Tls, None));
            return out;
        }
        Err(HandshakeError::SetupFailure(e)) => {
            out.error = Some(e.to_string());
            out.fail = Some((ProbeStatus::TlsFailed, ProbeStep::Tls, Some(e.to_string())));
            return out;
        }
    };
    out.established = true;
    {
        let ssl = stream.ssl();
        out.version = Some(ssl.version_str().to_string());
        out.cipher = ssl.current_cipher().map(|c| c.name().to_string());
        if let Some(c) = ssl.peer_cert_chain() {
            out.chain = c.iter().filter_map(|x| x.to_der().ok()).collect();
        }
        if out.chain.is_empty()
            && let Some(c) = ssl.peer_certificate()
            && let Ok(d) = c.to_der()
        {
            out.chain.push(d);
        }
    }
    let mut rd = ReplyReader::new(limits);
    stream.get_mut().deadline = (Instant::now() + step).min(session_end);
    match exchange(&mut stream, &mut rd, &format!("EHLO {ehlo_name}"), step) {
        Ok(r) => out.ehlo = Some(r),
        Err((st, e)) => {
            out.fail = Some((st, ProbeStep::TlsEhlo, e));
            return out;
        }
    }
    stream.get_mut().deadline = (Instant::now() + step).min(session_end);
    match exchange(&mut stream, &mut rd, "QUIT", step) {
        Ok(r) => out.quit = Some(r),
        Err((st, e)) => {
            out.fail = Some((st, ProbeStep::Quit, e));
            return out;
        }
    }
    let _ = stream.shutdown();
    out
}
