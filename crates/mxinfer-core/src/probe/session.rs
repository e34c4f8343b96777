//! The SMTP dialogue with one address: banner, EHLO (HELO if refused), STARTTLS when
//! offered, a TLS handshake that records the chain, EHLO inside TLS, QUIT. Never MAIL FROM,
//! never RCPT TO.
//!
//! Deadlines: every step (connect, banner, each command and its reply, the handshake) has its
//! own deadline, and the whole session has one. A step that runs into the session deadline is
//! reported as `session-timeout` (with the step), otherwise as `banner-timeout` or
//! `step-timeout`. A server that drips one byte a second cannot stretch a step: the step
//! deadline is absolute, not per read.
//!
//! Partial results survive every failure: the record is filled as the dialogue goes, and a
//! failure only sets `status`, `step` and `error`.

use super::reply::{Limits, ReplyError, ReplyReader, capabilities, has_capability};
use super::tls;
use super::verify::ChainJudge;
use mxinfer_record::{HostProbe, ProbeFlag, ProbeStatus, ProbeStep, SmtpReply, TlsInfo};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// Settings of the prober.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    pub port: u16,
    /// The name sent with EHLO/HELO (never empty).
    pub ehlo_name: String,
    pub connect_timeout: Duration,
    pub step_timeout: Duration,
    pub session_timeout: Duration,
    pub limits: Limits,
    /// Try the OpenSSL stack when rustls cannot talk to the server.
    pub legacy_tls: bool,
    /// Least time between two connections to one address (from `--rate-per-ip`).
    pub min_interval: Duration,
}

/// Probes addresses; shared by all concurrent probes of a run.
pub struct Prober {
    settings: ProbeSettings,
    provider: Arc<rustls::crypto::CryptoProvider>,
    judge: Arc<ChainJudge>,
    summaries: tls::SummaryCache,
    template: rustls::ClientConfig,
}

/// Why a step ended the dialogue.
#[derive(Debug)]
struct Fail {
    status: ProbeStatus,
    error: Option<String>,
}

impl Fail {
    fn new(status: ProbeStatus, error: impl Into<String>) -> Self {
        Fail {
            status,
            error: Some(error.into()),
        }
    }
}

/// What went wrong while reading one reply.
enum ReadFail {
    Timeout,
    Closed,
    Io(std::io::Error),
    Reply(ReplyError),
}

fn io_status(e: &std::io::Error) -> ProbeStatus {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => ProbeStatus::Reset,
        K::ConnectionRefused => ProbeStatus::Refused,
        K::TimedOut => ProbeStatus::ConnectTimeout,
        K::HostUnreachable | K::NetworkUnreachable => ProbeStatus::Unreachable,
        _ => ProbeStatus::ProtocolError,
    }
}

/// EMFILE, ENFILE (no file descriptor), EADDRNOTAVAIL (no local port), ENOBUFS (Linux
/// numbers).
fn is_local_exhaustion(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24 | 99 | 105))
}

/// Status of a failed connect, from the OS error kind (not everything is a timeout).
fn connect_status(e: &std::io::Error) -> ProbeStatus {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => ProbeStatus::Refused,
        K::TimedOut => ProbeStatus::ConnectTimeout,
        K::ConnectionReset | K::ConnectionAborted => ProbeStatus::Reset,
        _ => ProbeStatus::Unreachable,
    }
}

fn partial_reply(lines: &[String]) -> Option<SmtpReply> {
    let first = lines.first()?;
    let code = first.get(..3)?.parse::<u16>().ok()?;
    Some(SmtpReply {
        code,
        lines: lines.to_vec(),
    })
}

/// Whether the greeting has the word ESMTP (a whole word: `no-esmtp.example` does not count).
fn mentions_esmtp(banner: &SmtpReply) -> bool {
    banner.lines.iter().any(|l| {
        l.get(4..).unwrap_or("").split_whitespace().any(|w| {
            w.trim_matches(|c: char| !c.is_ascii_alphanumeric())
                .eq_ignore_ascii_case("ESMTP")
        })
    })
}

/// Deadline of a step starting now.
fn step_deadline(settings: &ProbeSettings, session: Instant) -> Instant {
    (Instant::now() + settings.step_timeout).min(session)
}

async fn read_reply<S: AsyncRead + Unpin>(
    s: &mut S,
    rd: &mut ReplyReader,
    deadline: Instant,
) -> Result<SmtpReply, ReadFail> {
    let mut buf = [0u8; 2048];
    loop {
        match rd.next_reply() {
            Ok(Some(r)) => return Ok(r),
            Ok(None) => {}
            Err(e) => return Err(ReadFail::Reply(e)),
        }
        let n = match timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return Err(ReadFail::Timeout),
            Ok(Err(e)) => return Err(ReadFail::Io(e)),
            Ok(Ok(n)) => n,
        };
        if n == 0 {
            return Err(ReadFail::Closed);
        }
        rd.feed(&buf[..n]).map_err(ReadFail::Reply)?;
    }
}

/// The session state: the record being filled and the deadlines.
struct Dialogue<'a> {
    settings: &'a ProbeSettings,
    rec: &'a mut HostProbe,
    session_deadline: Instant,
    rd: ReplyReader,
}

impl Dialogue<'_> {
    fn step(&mut self, s: ProbeStep) {
        self.rec.step = Some(s);
    }

    /// Turns a read failure into the record's status; keeps partial lines via `keep`.
    fn read_fail(&self, f: ReadFail, step: ProbeStep) -> (Fail, Vec<String>) {
        let timed_out = |this: &Self| {
            if Instant::now() >= this.session_deadline {
                ProbeStatus::SessionTimeout
            } else if step == ProbeStep::Banner {
                ProbeStatus::BannerTimeout
            } else {
                ProbeStatus::StepTimeout
            }
        };
        match f {
            ReadFail::Timeout => (
                Fail {
                    status: timed_out(self),
                    error: None,
                },
                Vec::new(),
            ),
            ReadFail::Closed => (
                Fail::new(
                    ProbeStatus::ProtocolError,
                    "connection closed by the server",
                ),
                Vec::new(),
            ),
            ReadFail::Io(e) => (Fail::new(io_status(&e), e.to_string()), Vec::new()),
            ReadFail::Reply(e) => {
                let status = match e {
                    ReplyError::TooLarge { .. } => ProbeStatus::ReplyTooLarge,
                    ReplyError::Syntax { .. } => ProbeStatus::ProtocolError,
                };
                let partial = e.partial().to_vec();
                (Fail::new(status, e.to_string()), partial)
            }
        }
    }

    async fn send<S: AsyncWrite + Unpin>(
        &mut self,
        s: &mut S,
        cmd: &str,
        deadline: Instant,
    ) -> Result<(), Fail> {
        let mut line = Vec::with_capacity(cmd.len() + 2);
        line.extend_from_slice(cmd.as_bytes());
        line.extend_from_slice(b"\r\n");
        let w = async {
            s.write_all(&line).await?;
            s.flush().await
        };
        match timeout_at(deadline, w).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Fail::new(io_status(&e), e.to_string())),
            Err(_) => Err(Fail {
                status: if Instant::now() >= self.session_deadline {
                    ProbeStatus::SessionTimeout
                } else {
                    ProbeStatus::StepTimeout
                },
                error: None,
            }),
        }
    }

    /// Sends `cmd` (if any) and reads one reply within one step deadline.
    async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        s: &mut S,
        cmd: Option<&str>,
        step: ProbeStep,
    ) -> Result<SmtpReply, (Fail, Option<SmtpReply>)> {
        self.step(step);
        let deadline = step_deadline(self.settings, self.session_deadline);
        if let Some(c) = cmd {
            self.send(s, c, deadline).await.map_err(|f| (f, None))?;
        }
        match read_reply(s, &mut self.rd, deadline).await {
            Ok(r) => Ok(r),
            Err(f) => {
                let (fail, partial) = self.read_fail(f, step);
                Err((fail, partial_reply(&partial)))
            }
        }
    }

    /// Banner, EHLO (HELO), and STARTTLS up to its 220; returns whether TLS should follow.
    /// `record` says whether replies go into the record (not on the legacy re-dialogue).
    async fn plaintext<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        s: &mut S,
        record: bool,
    ) -> Result<bool, Fail> {
        // Banner.
        let banner = match self.exchange(s, None, ProbeStep::Banner).await {
            Ok(r) => r,
            Err((f, partial)) => {
                if record {
                    self.rec.banner = partial;
                }
                return Err(f);
            }
        };
        let code = banner.code;
        if record {
            if !mentions_esmtp(&banner) {
                self.rec.flags.push(ProbeFlag::NoEsmtpInBanner);
            }
            self.rec.banner = Some(banner);
        }
        if code != 220 {
            let status = if (400..600).contains(&code) {
                ProbeStatus::BannerRejected
            } else {
                ProbeStatus::ProtocolError
            };
            let _ = self.quit(s, false).await;
            self.step(ProbeStep::Banner);
            return Err(Fail::new(status, format!("greeting code {code}")));
        }
        // EHLO, then HELO if EHLO is refused.
        let ehlo_cmd = format!("EHLO {}", self.settings.ehlo_name);
        let ehlo = match self.exchange(s, Some(&ehlo_cmd), ProbeStep::Ehlo).await {
            Ok(r) => r,
            Err((f, partial)) => {
                if record {
                    self.rec.ehlo = partial;
                }
                return Err(f);
            }
        };
        let via_helo = !(200..300).contains(&ehlo.code);
        let ehlo = if !via_helo {
            ehlo
        } else {
            let helo_cmd = format!("HELO {}", self.settings.ehlo_name);
            match self.exchange(s, Some(&helo_cmd), ProbeStep::Ehlo).await {
                Ok(h) if (200..300).contains(&h.code) => {
                    if record {
                        self.rec.flags.push(ProbeFlag::HeloFallback);
                    }
                    h
                }
                Ok(h) => {
                    if record {
                        self.rec.ehlo = Some(ehlo);
                    }
                    let _ = self.quit(s, false).await;
                    self.step(ProbeStep::Ehlo);
                    return Err(Fail::new(
                        ProbeStatus::EhloFailed,
                        format!("HELO answered {}", h.code),
                    ));
                }
                Err((f, _)) => {
                    if record {
                        self.rec.ehlo = Some(ehlo);
                    }
                    return Err(f);
                }
            }
        };
        // A HELO reply has no capability lines.
        let caps = if via_helo {
            Vec::new()
        } else {
            capabilities(&ehlo)
        };
        let offered = has_capability(&caps, "STARTTLS");
        if record {
            self.rec.ehlo = Some(ehlo);
            self.rec.capabilities = caps;
        }
        if !offered {
            return Ok(false);
        }
        // STARTTLS.
        let reply = match self
            .exchange(s, Some("STARTTLS"), ProbeStep::Starttls)
            .await
        {
            Ok(r) => r,
            Err((f, partial)) => {
                if record {
                    self.rec.starttls = partial;
                }
                return Err(f);
            }
        };
        let code = reply.code;
        if record {
            self.rec.starttls = Some(reply);
        }
        if code != 220 {
            let _ = self.quit(s, false).await;
            self.step(ProbeStep::Starttls);
            return Err(Fail::new(
                ProbeStatus::StarttlsRefused,
                format!("STARTTLS answered {code}"),
            ));
        }
        if self.rd.buffered() > 0 {
            if record {
                self.rec.flags.push(ProbeFlag::StarttlsInjection);
            }
            // Never act on plaintext sent before the handshake.
            self.rd.clear();
        }
        Ok(true)
    }

    /// QUIT and its reply; with `record`, a failure is the record's failure.
    async fn quit<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        s: &mut S,
        record: bool,
    ) -> Result<(), Fail> {
        match self.exchange(s, Some("QUIT"), ProbeStep::Quit).await {
            Ok(r) => {
                if record {
                    self.rec.quit = Some(r);
                }
                Ok(())
            }
            Err((f, _)) => Err(f),
        }
    }
}

impl Prober {
    pub fn new(settings: ProbeSettings, judge: Arc<ChainJudge>) -> Self {
        let provider = tls::provider();
        Prober {
            settings,
            template: tls::client_template(&provider),
            provider,
            judge,
            summaries: tls::SummaryCache::default(),
        }
    }

    pub fn settings(&self) -> &ProbeSettings {
        &self.settings
    }

    /// Probes `ip` (exchanger `names`, first for SNI) and returns its record.
    pub async fn probe(&self, ip: IpAddr, names: Vec<String>) -> HostProbe {
        let started_at = crate::util::now_rfc3339();
        let t0 = std::time::Instant::now();
        let mut rec = HostProbe {
            ip,
            port: self.settings.port,
            names,
            status: ProbeStatus::Ok,
            step: None,
            error: None,
            flags: Vec::new(),
            banner: None,
            ehlo: None,
            capabilities: Vec::new(),
            starttls: None,
            tls: None,
            quit: None,
            started_at,
            duration_ms: 0,
            shard: None,
        };
        let session_deadline = Instant::now() + self.settings.session_timeout;
        let result = {
            let fut = self.session(&mut rec, session_deadline);
            timeout_at(session_deadline, fut).await
        };
        match result {
            Ok(Ok(())) => {}
            Ok(Err(f)) => {
                rec.status = f.status;
                rec.error = f.error;
            }
            Err(_) => {
                rec.status = ProbeStatus::SessionTimeout;
                rec.error = None;
            }
        }
        if rec.status == ProbeStatus::Ok || rec.status == ProbeStatus::StarttlsNotOffered {
            rec.step = None;
        }
        rec.flags.sort();
        rec.flags.dedup();
        rec.duration_ms = t0.elapsed().as_millis() as u64;
        rec
    }

    async fn connect(&self, ip: IpAddr, session_deadline: Instant) -> Result<TcpStream, Fail> {
        let addr = SocketAddr::new(ip, self.settings.port);
        let deadline = (Instant::now() + self.settings.connect_timeout).min(session_deadline);
        let timed_out = || Fail {
            status: if Instant::now() >= session_deadline {
                ProbeStatus::SessionTimeout
            } else {
                ProbeStatus::ConnectTimeout
            },
            error: None,
        };
        loop {
            match timeout_at(deadline, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                // Out of file descriptors or local ports is our problem, not the server's:
                // wait for other probes to finish instead of recording a failure.
                Ok(Err(e)) if is_local_exhaustion(&e) => {
                    let next = Instant::now() + Duration::from_millis(20);
                    if next >= deadline {
                        return Err(Fail::new(
                            ProbeStatus::ConnectTimeout,
                            format!("local resources exhausted: {e}"),
                        ));
                    }
                    tokio::time::sleep_until(next).await;
                }
                Ok(Err(e)) => return Err(Fail::new(connect_status(&e), e.to_string())),
                Err(_) => return Err(timed_out()),
            }
        }
    }

    async fn session(&self, rec: &mut HostProbe, session_deadline: Instant) -> Result<(), Fail> {
        rec.step = Some(ProbeStep::Connect);
        let first_connect = Instant::now();
        let mut tcp = self.connect(rec.ip, session_deadline).await?;
        let mut d = Dialogue {
            settings: &self.settings,
            rec,
            session_deadline,
            rd: ReplyReader::new(self.settings.limits),
        };
        if !d.plaintext(&mut tcp, true).await? {
            d.quit(&mut tcp, true).await?;
            return Err(Fail {
                status: ProbeStatus::StarttlsNotOffered,
                error: None,
            });
        }
        // TLS with rustls.
        d.step(ProbeStep::Tls);
        let sni = d.rec.names.first().cloned();
        let server_name = match sni.as_deref().map(ServerName::try_from) {
            Some(Ok(n)) if sni.as_deref().is_some_and(|s| s.parse::<IpAddr>().is_err()) => {
                n.to_owned()
            }
            _ => ServerName::IpAddress(d.rec.ip.into()),
        };
        let sni_sent = match &server_name {
            ServerName::DnsName(n) => Some(n.as_ref().to_string()),
            _ => None,
        };
        let (cfg, seen) = tls::client_config(&self.template, &self.provider);
        let connector = tokio_rustls::TlsConnector::from(cfg);
        let deadline = step_deadline(&self.settings, session_deadline);
        let hs = timeout_at(deadline, connector.connect(server_name, tcp)).await;
        let mut info = TlsInfo {
            stack: "rustls".into(),
            established: false,
            version: None,
            cipher: None,
            sni: sni_sent.clone(),
            chain: Vec::new(),
            verdict: None,
            ehlo: None,
            error: None,
            legacy_retry: None,
        };
        match hs {
            Ok(Ok(mut stream)) => {
                let (_, conn) = stream.get_ref();
                info.established = true;
                info.version = conn.protocol_version().map(tls::version_name);
                info.cipher = conn
                    .negotiated_cipher_suite()
                    .map(|s| format!("{:?}", s.suite()));
                let chain: Vec<CertificateDer<'static>> = conn
                    .peer_certificates()
                    .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
                    .unwrap_or_default();
                self.fill_chain(&mut info, &chain, &d.rec.names);
                d.rec.tls = Some(info);
                d.rd.clear();
                let ehlo_cmd = format!("EHLO {}", self.settings.ehlo_name);
                match d
                    .exchange(&mut stream, Some(&ehlo_cmd), ProbeStep::TlsEhlo)
                    .await
                {
                    Ok(r) => {
                        if let Some(t) = d.rec.tls.as_mut() {
                            t.ehlo = Some(r);
                        }
                    }
                    Err((f, partial)) => {
                        if let Some(t) = d.rec.tls.as_mut() {
                            t.ehlo = partial;
                        }
                        return Err(f);
                    }
                }
                d.quit(&mut stream, true).await?;
                Ok(())
            }
            Ok(Err(e)) => {
                let chain = seen.lock().map(|c| c.clone()).unwrap_or_default();
                self.fill_chain(&mut info, &chain, &d.rec.names);
                let rustls_err = e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                    .cloned();
                let (status, msg) = match &rustls_err {
                    Some(re) => (ProbeStatus::TlsFailed, tls::describe_error(re)),
                    None => {
                        let st = io_status(&e);
                        let st = if st == ProbeStatus::ProtocolError {
                            ProbeStatus::TlsFailed
                        } else {
                            st
                        };
                        (st, format!("io:{e}"))
                    }
                };
                // Why the legacy stack may get what rustls did not: an alert or message that
                // says "too new for me", or a server that hung up on the ClientHello before
                // any answer (version-intolerant servers do so; they get TLS 1.0 only).
                let retry = match &rustls_err {
                    Some(re) if tls::wants_legacy(re) => Some((msg.clone(), false)),
                    Some(_) => None,
                    None => tls::hung_up_after_client_hello(&e, info.chain.is_empty())
                        .map(|cause| (cause.to_string(), true)),
                };
                info.error = Some(msg.clone());
                d.rec.tls = Some(info);
                if let Some((cause, tls10_only)) = retry.filter(|_| self.settings.legacy_tls) {
                    // Respect the per-address rate before the second connection.
                    let next = first_connect + self.settings.min_interval;
                    if next > Instant::now() {
                        tokio::time::sleep_until(next.min(session_deadline)).await;
                    }
                    let offered = if tls10_only {
                        "offered TLS 1.0 only"
                    } else {
                        "offered TLS 1.0-1.3"
                    };
                    if let Some(t) = d.rec.tls.as_mut() {
                        t.legacy_retry = Some(format!("{cause}; {offered}"));
                    }
                    return self.legacy(d, sni_sent, msg, tls10_only).await;
                }
                Err(Fail::new(status, msg))
            }
            Err(_) => {
                let chain = seen.lock().map(|c| c.clone()).unwrap_or_default();
                self.fill_chain(&mut info, &chain, &d.rec.names);
                d.rec.tls = Some(info);
                Err(Fail {
                    status: if Instant::now() >= session_deadline {
                        ProbeStatus::SessionTimeout
                    } else {
                        ProbeStatus::StepTimeout
                    },
                    error: None,
                })
            }
        }
    }

    fn fill_chain(&self, info: &mut TlsInfo, chain: &[CertificateDer<'_>], names: &[String]) {
        if chain.is_empty() && !info.established {
            return;
        }
        info.chain = chain.iter().map(|c| self.summaries.summarize(c)).collect();
        info.verdict = Some(self.judge.judge(
            chain,
            &info.chain,
            names,
            UnixTime::now(),
            crate::util::now_rfc3339(),
        ));
    }

    #[cfg(not(feature = "legacy-tls"))]
    async fn legacy(
        &self,
        _d: Dialogue<'_>,
        _sni: Option<String>,
        msg: String,
        _tls10_only: bool,
    ) -> Result<(), Fail> {
        Err(Fail::new(ProbeStatus::TlsFailed, msg))
    }

    /// The OpenSSL fallback: a fresh connection, the plaintext dialogue again (not recorded
    /// twice), then a blocking OpenSSL handshake at security level 0 allowing TLS 1.0+
    /// (`tls10_only`: TLS 1.0 at most, for a server that hung up on a newer ClientHello).
    #[cfg(feature = "legacy-tls")]
    async fn legacy(
        &self,
        mut d: Dialogue<'_>,
        sni: Option<String>,
        rustls_msg: String,
        tls10_only: bool,
    ) -> Result<(), Fail> {
        d.step(ProbeStep::Connect);
        let mut tcp = self.connect(d.rec.ip, d.session_deadline).await?;
        d.rd = ReplyReader::new(self.settings.limits);
        if !d.plaintext(&mut tcp, false).await? {
            return Err(Fail::new(
                ProbeStatus::TlsFailed,
                format!("{rustls_msg}; legacy retry: STARTTLS no longer offered"),
            ));
        }
        d.step(ProbeStep::Tls);
        let std_tcp = tcp
            .into_std()
            .map_err(|e| Fail::new(ProbeStatus::TlsFailed, e.to_string()))?;
        let remaining = d
            .session_deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let step = self.settings.step_timeout.min(remaining);
        let ehlo_name = self.settings.ehlo_name.clone();
        let limits = self.settings.limits;
        let session_end = d.session_deadline.into_std();
        let job = tokio::task::spawn_blocking(move || {
            super::legacy::session(
                std_tcp,
                sni.as_deref(),
                &ehlo_name,
                step,
                session_end,
                limits,
                tls10_only,
            )
        });
        let out = match job.await {
            Ok(o) => o,
            Err(e) => return Err(Fail::new(ProbeStatus::TlsFailed, e.to_string())),
        };
        let names = d.rec.names.clone();
        let mut info = d.rec.tls.take().unwrap_or(TlsInfo {
            stack: String::new(),
            established: false,
            version: None,
            cipher: None,
            sni: None,
            chain: Vec::new(),
            verdict: None,
            ehlo: None,
            error: None,
            legacy_retry: None,
        });
        if out.established {
            info.stack = "openssl".into();
        }
        info.established = out.established;
        info.version = out.version;
        info.cipher = out.cipher;
        info.ehlo = out.ehlo;
        if !out.chain.is_empty() {
            let chain: Vec<CertificateDer<'static>> =
                out.chain.into_iter().map(CertificateDer::from).collect();
            self.fill_chain(&mut info, &chain, &names);
        }
        info.error = if out.established {
            None
        } else {
            Some(format!(
                "{rustls_msg}; openssl: {}",
                out.error.clone().unwrap_or_default()
            ))
        };
        if out.established {
            d.rec.flags.push(ProbeFlag::LegacyTls);
        }
        d.rec.quit = out.quit;
        let combined = info.error.clone();
        d.rec.tls = Some(info);
        match out.fail {
            None => Ok(()),
            Some((status, step, err)) => {
                d.rec.step = Some(step);
                let error = if step == ProbeStep::Tls {
                    combined.or(err)
                } else {
                    err
                };
                Err(Fail { status, error })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_error_kinds() {
        use std::io::{Error, ErrorKind as K};
        assert_eq!(
            connect_status(&Error::from(K::ConnectionRefused)),
            ProbeStatus::Refused
        );
        assert_eq!(
            connect_status(&Error::from(K::TimedOut)),
            ProbeStatus::ConnectTimeout
        );
        assert_eq!(
            connect_status(&Error::from(K::HostUnreachable)),
            ProbeStatus::Unreachable
        );
        assert_eq!(
            connect_status(&Error::from(K::NetworkUnreachable)),
            ProbeStatus::Unreachable
        );
        assert_eq!(
            io_status(&Error::from(K::ConnectionReset)),
            ProbeStatus::Reset
        );
    }

    #[test]
    fn esmtp_word() {
        let r = |l: &str| SmtpReply {
            code: 220,
            lines: vec![l.to_string()],
        };
        assert!(mentions_esmtp(&r("220 mx.example.org ESMTP Postfix")));
        assert!(mentions_esmtp(&r("220 mx.example.org (ESMTP) ready")));
        assert!(!mentions_esmtp(&r("220 no-esmtp.example.org ready")));
        assert!(!mentions_esmtp(&r("220 ESMTPS-less")));
    }

    #[test]
    fn partial_reply_needs_code() {
        assert_eq!(partial_reply(&[]), None);
        assert_eq!(partial_reply(&["xyz".into()]), None);
        assert_eq!(partial_reply(&["250-a".into()]).unwrap().code, 250);
    }
}
