//! mxinfer's own DNS client ([`UdpDns`], the default behind [`Dns`]): hickory-proto's wire
//! format and nothing else of hickory.
//!
//! Why: hickory-resolver opens a UDP socket and spawns a future per query; at a scan's rate
//! that, not DNS, was most of the resolve stage's CPU (README "Benchmarks", resolve).
//!
//! - A fixed pool of UDP sockets, each bound to a port the kernel picks at random
//!   (`bind(0)`), with one receiving task per socket: no socket and no task per query.
//! - Each query gets a random ID (a CSPRNG, `rand`'s thread RNG) not in flight on its socket.
//!   An answer is taken only when its ID is in flight on that socket, it comes from the
//!   address and port the query went to, it is a response, and its question is the query's
//!   (name, case-insensitively, and type). Anything else is dropped and counted
//!   ([`UdpDns::ignored_answers`]); the query goes on waiting for the real answer.
//! - The wait is a timeout on a oneshot channel in the caller's own future (a timer entry, no
//!   task). A query that is dropped (its domain abandoned) leaves the in-flight table.
//! - `attempts` tries, each with the full `timeout`; with several name servers, each try goes
//!   to the next one (one at a time: a scan should not double its load on the servers), and a
//!   SERVFAIL or REFUSED is asked of the next server too while tries remain.
//! - A truncated answer (TC) is asked again over TCP, on a connection of its own.
//! - A window of queries in flight per server, sized like TCP's congestion window (see
//!   `Window`): from [`WINDOW_START`], growing with answers up to `--dns-window`, halved by
//!   a lost query: a run starts with a burst of one query per domain of its concurrency,
//!   which a slower server's receive buffer drops, while a resolver with latency needs many
//!   queries in flight.
//! - EDNS0 with a 1232-byte payload when enabled; recursion desired.
//! - A CNAME whose target's records are not in the answer is followed with a query for the
//!   target (at most [`MAX_CNAME_QUERIES`]), as hickory-resolver does, so authoritative
//!   servers that answer only the CNAME give the same records as recursive ones.
//!
//! The answer is classified by the same rules as before (hickory-resolver's view of a
//! response: errors by response code, NODATA/NXDOMAIN with the SOA's negative TTL, a referral
//! from a server that does not recurse) so records do not change with the client.

use super::dns::{Answer, Dns, DnsSettings, DnsSetupError, QType, answer_from_records};
use futures::future::BoxFuture;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use mxinfer_record::LookupStatus;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// UDP sockets of the pool.
pub const SOCKETS: usize = 4;
/// Largest UDP answer read (EDNS0 asks for 1232; a server may send more).
const MAX_UDP: usize = 4096;
/// The default of `--dns-window`: the most UDP queries in flight at once to one name server.
pub const WINDOW: usize = 1024;
/// Where each server's window starts: a run begins with a burst of one query per domain of its
/// concurrency, and unbounded, that burst overflowed the receive buffer of a slower server
/// (the simulated Internet's DNS: 397 of 23,246 queries lost, each then waiting out a full
/// timeout; 256 in flight still lost 60, 128 none).
pub const WINDOW_START: usize = 128;
/// The smallest a window gets after losses.
pub const WINDOW_MIN: usize = 16;

/// The in-flight window of one name server, sized like TCP's congestion window: it starts at
/// [`WINDOW_START`], grows by one query per window's worth of answers (so it follows a server
/// that keeps up, and a resolver's latency, up to the maximum), and halves when a query goes
/// unanswered (down to [`WINDOW_MIN`]).
struct Window {
    sem: tokio::sync::Semaphore,
    state: Mutex<WindowState>,
}

struct WindowState {
    size: f64,
    /// Permits in existence (available or held): the window's integer size.
    permits: usize,
    /// Permits held by queries in flight that are not to be given back (the window shrank).
    debt: usize,
    max: usize,
}

/// How a query's slot of the window ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SlotEnd {
    Answered,
    Lost,
    /// Not a sign of the server's load (a send error, a cancelled query).
    Neutral,
}

/// A query's place in a server's window; given back when dropped.
struct Slot<'a> {
    window: &'a Window,
    end: SlotEnd,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.window.release(self.end);
    }
}

impl Window {
    fn new(max: usize) -> Self {
        let max = max.max(1);
        let start = WINDOW_START.min(max);
        Window {
            sem: tokio::sync::Semaphore::new(start),
            state: Mutex::new(WindowState {
                size: start as f64,
                permits: start,
                debt: 0,
                max,
            }),
        }
    }

    async fn acquire(&self) -> Option<Slot<'_>> {
        self.sem.acquire().await.ok()?.forget();
        Some(Slot {
            window: self,
            end: SlotEnd::Neutral,
        })
    }

    fn release(&self, end: SlotEnd) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        let max = st.max as f64;
        match end {
            SlotEnd::Answered => st.size = (st.size + 1.0 / st.size).min(max),
            SlotEnd::Lost => st.size = (st.size / 2.0).max(WINDOW_MIN.min(st.max) as f64),
            SlotEnd::Neutral => {}
        }
        let want = (st.size as usize).max(1);
        // This query's permit goes back, unless the window owes one.
        let mut give = if st.debt > 0 {
            st.debt -= 1;
            0
        } else {
            1
        };
        if want > st.permits {
            give += want - st.permits;
            st.permits = want;
        } else if want < st.permits {
            let mut cut = st.permits - want;
            st.permits = want;
            let from_give = cut.min(give);
            give -= from_give;
            cut -= from_give;
            cut -= self.sem.forget_permits(cut);
            st.debt += cut;
        }
        drop(st);
        if give > 0 {
            self.sem.add_permits(give);
        }
    }

    /// The window's size now (tests, metadata).
    fn size(&self) -> usize {
        self.state.lock().map_or(0, |s| s.permits)
    }
}

/// Receive buffer asked for each socket: a burst of answers at a high concurrency must not
/// overflow the default (about 208 KiB), or answers are lost and their queries wait for a
/// retry (measured with scripts/bench-resolve.sh at concurrency 1000: 445 drops with the
/// default). The kernel caps it at net.core.rmem_max.
const RECEIVE_BUFFER: libc::c_int = 2 << 20;
/// Queries made to follow one CNAME chain.
pub const MAX_CNAME_QUERIES: usize = 8;

/// One query waiting for its answer.
struct Pending {
    server: SocketAddr,
    name: Name,
    rtype: RecordType,
    tx: tokio::sync::oneshot::Sender<Message>,
}

/// One socket of the pool and its queries in flight, by ID.
struct Sock {
    udp: tokio::net::UdpSocket,
    pending: Mutex<HashMap<u16, Pending>>,
}

/// What one exchange with a server gave instead of an answer.
#[derive(Debug)]
enum Failure {
    Timeout,
    Io(String),
}

/// Removes a query from its socket's table when the query ends, answered or not.
struct InFlight<'a> {
    sock: &'a Sock,
    id: u16,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut p) = self.sock.pending.lock() {
            p.remove(&self.id);
        }
    }
}

/// The client. The sockets are opened on the first query (inside the caller's runtime); the
/// receiving tasks end when the client is dropped.
pub struct UdpDns {
    servers: Vec<SocketAddr>,
    timeout: Duration,
    attempts: usize,
    edns0: bool,
    socks: tokio::sync::OnceCell<Vec<Arc<Sock>>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    next_sock: AtomicUsize,
    next_server: AtomicUsize,
    /// The in-flight window of each server (same order as `servers`).
    windows: Vec<Window>,
    sent: AtomicU64,
    ignored: Arc<AtomicU64>,
}

impl Drop for UdpDns {
    fn drop(&mut self) {
        if let Ok(t) = self.tasks.lock() {
            for h in t.iter() {
                h.abort();
            }
        }
    }
}

impl UdpDns {
    pub fn new(settings: &DnsSettings) -> Result<Self, DnsSetupError> {
        if settings.nameservers.is_empty() {
            return Err(DnsSetupError::NoNameServer);
        }
        Ok(UdpDns {
            servers: settings.nameservers.clone(),
            timeout: settings.timeout,
            // `attempts` counts the retries after the first try (as hickory's option does).
            attempts: settings.attempts.max(1) + 1,
            edns0: settings.edns0,
            socks: tokio::sync::OnceCell::new(),
            tasks: Mutex::new(Vec::new()),
            next_sock: AtomicUsize::new(0),
            next_server: AtomicUsize::new(0),
            windows: settings
                .nameservers
                .iter()
                .map(|_| Window::new(settings.window))
                .collect(),
            sent: AtomicU64::new(0),
            ignored: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The in-flight window of each name server now.
    pub fn windows(&self) -> Vec<usize> {
        self.windows.iter().map(Window::size).collect()
    }

    /// Answers dropped because they did not match a query in flight (wrong ID, source or
    /// question, or not a response).
    pub fn ignored_answers(&self) -> u64 {
        self.ignored.load(Ordering::Relaxed)
    }

    async fn sockets(&self) -> std::io::Result<&Vec<Arc<Sock>>> {
        self.socks
            .get_or_try_init(|| async {
                let mut socks = Vec::with_capacity(SOCKETS);
                let mut tasks = Vec::with_capacity(SOCKETS);
                let v6 = self.servers.iter().all(SocketAddr::is_ipv6);
                for _ in 0..SOCKETS {
                    let bind: SocketAddr = if v6 {
                        "[::]:0".parse().expect("literal")
                    } else {
                        "0.0.0.0:0".parse().expect("literal")
                    };
                    let s = Arc::new(Sock {
                        udp: udp_socket(bind)?,
                        pending: Mutex::new(HashMap::new()),
                    });
                    tasks.push(tokio::spawn(receive(s.clone(), self.ignored.clone())));
                    socks.push(s);
                }
                if let Ok(mut t) = self.tasks.lock() {
                    t.extend(tasks);
                }
                Ok(socks)
            })
            .await
    }

    /// The query message, EDNS0 as configured.
    fn message(&self, id: u16, name: &Name, rtype: RecordType) -> Result<Vec<u8>, String> {
        let mut m = Message::new(id, MessageType::Query, OpCode::Query);
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(name.clone(), rtype));
        if self.edns0 {
            let mut e = Edns::new();
            e.set_max_payload(1232);
            m.set_edns(e);
        }
        m.to_vec().map_err(|e| format!("encoding the query: {e}"))
    }

    /// One question to one server over UDP, within the server's window.
    async fn udp(
        &self,
        server_index: usize,
        name: &Name,
        rtype: RecordType,
    ) -> Result<Message, Failure> {
        let server = self.servers[server_index];
        let mut slot = self.windows[server_index]
            .acquire()
            .await
            .ok_or_else(|| Failure::Io("window closed".into()))?;
        let socks = self
            .sockets()
            .await
            .map_err(|e| Failure::Io(format!("opening a UDP socket: {e}")))?;
        let sock = &socks[self.next_sock.fetch_add(1, Ordering::Relaxed) % socks.len()];
        let (tx, rx) = tokio::sync::oneshot::channel();
        let id = {
            let mut p = sock
                .pending
                .lock()
                .map_err(|_| Failure::Io("in-flight table poisoned".into()))?;
            if p.len() >= usize::from(u16::MAX) {
                return Err(Failure::Io("65,535 queries in flight on one socket".into()));
            }
            let id = loop {
                let id: u16 = rand::random();
                if !p.contains_key(&id) {
                    break id;
                }
            };
            p.insert(
                id,
                Pending {
                    server,
                    name: name.clone(),
                    rtype,
                    tx,
                },
            );
            id
        };
        let _guard = InFlight { sock, id };
        let bytes = self.message(id, name, rtype).map_err(Failure::Io)?;
        sock.udp
            .send_to(&bytes, server)
            .await
            .map_err(|e| Failure::Io(format!("sending to {server}: {e}")))?;
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(m)) => {
                slot.end = SlotEnd::Answered;
                Ok(m)
            }
            Ok(Err(_)) => Err(Failure::Io("receiver ended".into())),
            Err(_) => {
                slot.end = SlotEnd::Lost;
                Err(Failure::Timeout)
            }
        }
    }

    /// One question to one server over TCP (after a truncated UDP answer).
    async fn tcp(
        &self,
        server: SocketAddr,
        name: &Name,
        rtype: RecordType,
    ) -> Result<Message, Failure> {
        let id: u16 = rand::random();
        let bytes = self.message(id, name, rtype).map_err(Failure::Io)?;
        let io = async {
            let mut s = tokio::net::TcpStream::connect(server).await?;
            let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
            let mut out = Vec::with_capacity(bytes.len() + 2);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&bytes);
            s.write_all(&out).await?;
            let mut lb = [0u8; 2];
            s.read_exact(&mut lb).await?;
            let mut buf = vec![0u8; usize::from(u16::from_be_bytes(lb))];
            s.read_exact(&mut buf).await?;
            Ok::<_, std::io::Error>(buf)
        };
        let buf = match tokio::time::timeout(self.timeout, io).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => return Err(Failure::Io(format!("TCP to {server}: {e}"))),
            Err(_) => return Err(Failure::Timeout),
        };
        let m = Message::from_vec(&buf)
            .map_err(|e| Failure::Io(format!("TCP answer from {server}: {e}")))?;
        if m.metadata.id != id || !answers_question(&m, name, rtype) {
            return Err(Failure::Io(format!(
                "TCP answer from {server} does not match the question"
            )));
        }
        Ok(m)
    }

    /// The answer to one question: the tries over the servers, TCP after truncation.
    async fn ask(&self, name: &Name, rtype: RecordType) -> Result<Message, Failure> {
        let start = self.next_server.fetch_add(1, Ordering::Relaxed);
        let mut last = Failure::Timeout;
        let mut kept: Option<Message> = None;
        for attempt in 0..self.attempts {
            let index = (start + attempt) % self.servers.len();
            let server = self.servers[index];
            let got = match self.udp(index, name, rtype).await {
                Ok(m) if m.metadata.truncation => self.tcp(server, name, rtype).await,
                other => other,
            };
            match got {
                Ok(m) => {
                    let code = m.metadata.response_code;
                    let next_may_know = self.servers.len() > 1
                        && attempt + 1 < self.attempts
                        && matches!(code, ResponseCode::ServFail | ResponseCode::Refused);
                    if !next_may_know {
                        return Ok(m);
                    }
                    kept = Some(m);
                }
                Err(f) => last = f,
            }
        }
        kept.ok_or(last)
    }

    /// The query and the CNAME chain's follow-up queries: every answer record, and the last
    /// response (its code and authority section decide a negative answer).
    async fn lookup(&self, qname: &Name, rtype: RecordType) -> Result<Message, Failure> {
        let mut m = self.ask(qname, rtype).await?;
        let mut records: Vec<Record> = std::mem::take(&mut m.answers);
        for _ in 0..MAX_CNAME_QUERIES {
            if m.metadata.response_code != ResponseCode::NoError {
                break;
            }
            let Some(target) = dangling_cname(qname, rtype, &records) else {
                break;
            };
            let mut next = self.ask(&target, rtype).await?;
            records.append(&mut next.answers);
            m = next;
        }
        m.answers = records;
        Ok(m)
    }
}

/// A UDP socket on a port the kernel picks, with a larger receive buffer.
fn udp_socket(bind: SocketAddr) -> std::io::Result<tokio::net::UdpSocket> {
    use std::os::fd::AsRawFd;
    let s = std::net::UdpSocket::bind(bind)?;
    let size = RECEIVE_BUFFER;
    // SAFETY: a valid socket descriptor, a c_int option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    s.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(s)
}

/// The end of the CNAME chain from `qname` in `records`, when it has no record of `rtype`
/// there (the answer stopped at the alias).
fn dangling_cname(qname: &Name, rtype: RecordType, records: &[Record]) -> Option<Name> {
    let mut owner = qname.clone();
    let mut hops = 0;
    loop {
        let next = records.iter().find_map(|r| match &r.data {
            RData::CNAME(c) if r.name == owner => Some(c.0.clone()),
            _ => None,
        });
        match next {
            Some(t) if hops < 16 => {
                owner = t;
                hops += 1;
            }
            _ => break,
        }
    }
    if hops == 0
        || records
            .iter()
            .any(|r| r.record_type() == rtype && r.name == owner)
    {
        return None;
    }
    Some(owner)
}

/// Whether `m` is a response to the question (`name` case-insensitively, `rtype`).
fn answers_question(m: &Message, name: &Name, rtype: RecordType) -> bool {
    m.metadata.message_type == MessageType::Response
        && m.queries.len() == 1
        && m.queries[0].query_type() == rtype
        && m.queries[0].name() == name
}

/// The receiving loop of one socket: each datagram goes to the query it answers, or is
/// dropped and counted.
async fn receive(sock: Arc<Sock>, ignored: Arc<AtomicU64>) {
    let mut buf = vec![0u8; MAX_UDP];
    loop {
        let (n, from) = match sock.udp.recv_from(&mut buf).await {
            Ok(x) => x,
            // ICMP errors surface here on some systems; the query times out on its own.
            Err(_) => continue,
        };
        let Some(id) = buf.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
            ignored.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let matched = {
            let Ok(mut p) = sock.pending.lock() else {
                return;
            };
            match p.get(&id) {
                Some(q) if q.server == from => match Message::from_vec(&buf[..n]) {
                    Ok(m) if answers_question(&m, &q.name, q.rtype) => {
                        p.remove(&id).map(|q| (q, m))
                    }
                    _ => None,
                },
                _ => None,
            }
        };
        match matched {
            Some((q, m)) => {
                let _ = q.tx.send(m);
            }
            None => {
                ignored.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The classified answer of a response, by hickory-resolver's rules (see the module docs).
fn classify(qname: &Name, rtype: RecordType, m: &Message) -> Answer {
    let code = m.metadata.response_code;
    match code {
        ResponseCode::NoError | ResponseCode::NXDomain | ResponseCode::Unknown(_) => {}
        other => return super::dns::response_code_failure(other),
    }
    let has_answer = !m.answers.is_empty()
        || m.all_sections()
            .any(|r| r.record_type() == rtype && r.name == *qname);
    let negative = matches!(code, ResponseCode::NoError | ResponseCode::NXDomain);
    // The negative-caching TTL (RFC 2308 5): the SOA's TTL, at most its MINIMUM.
    let soa = m.authorities.iter().find_map(|r| match &r.data {
        RData::SOA(s) => Some((r.ttl, s.minimum)),
        _ => None,
    });
    if negative && !has_answer && !m.metadata.truncation {
        // A referral names the zone it delegates (the NS records' owner).
        let ns = m.authorities.iter().find_map(|r| match &r.data {
            RData::NS(_) => Some(super::dns::name_str(&r.name)),
            _ => None,
        });
        if code == ResponseCode::NoError
            && soa.is_none()
            && let Some(to) = ns
        {
            return Answer::failed(
                LookupStatus::Error,
                format!("referral to {to}: the name server does not recurse"),
            );
        }
        let mut a = Answer::failed(super::dns::status_of_code(code), "");
        a.error = None;
        a.ttl = soa.map(|(ttl, min)| ttl.min(min));
        return a;
    }
    let mut a = answer_from_records(qname, rtype, &m.answers, code);
    // A CNAME chain that ends without the records: negative for its last name.
    if a.values.is_empty() && a.ttl.is_none() && negative {
        a.ttl = soa.map(|(ttl, min)| ttl.min(min));
    }
    a
}

impl Dns for UdpDns {
    fn query<'a>(&'a self, name: &'a str, rtype: QType) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            self.sent.fetch_add(1, Ordering::Relaxed);
            let fqdn = match super::dns::fully_qualified(name) {
                Ok(n) => n,
                Err(a) => return a,
            };
            let rt = rtype.record_type();
            match self.lookup(&fqdn, rt).await {
                Ok(m) => classify(&fqdn, rt, &m),
                Err(Failure::Timeout) => Answer::failed(LookupStatus::Timeout, "no answer in time"),
                Err(Failure::Io(e)) => Answer::failed(LookupStatus::Error, e),
            }
        })
    }

    fn queries_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window grows by one per window's worth of answers, halves on a loss (the permits
    /// of queries still in flight are not given back until it is that small), never goes
    /// below its minimum or above its maximum, and never lets more queries fly than its size.
    #[tokio::test]
    async fn the_window_grows_with_answers_and_halves_on_loss() {
        let w = Window::new(200);
        assert_eq!(w.size(), WINDOW_START);
        for _ in 0..WINDOW_START + 1 {
            let mut s = w.acquire().await.unwrap();
            s.end = SlotEnd::Answered;
        }
        assert_eq!(w.size(), WINDOW_START + 1);
        // 100 in flight, one of them lost: 64 left; the 99 others come back as 35 permits.
        let mut held: Vec<Slot<'_>> = Vec::new();
        for _ in 0..100 {
            held.push(w.acquire().await.unwrap());
        }
        held[0].end = SlotEnd::Lost;
        held.remove(0);
        assert_eq!(w.size(), (WINDOW_START + 1) >> 1);
        drop(held);
        assert_eq!(w.sem.available_permits(), (WINDOW_START + 1) >> 1);
        // Losses stop at the minimum; answers stop at the maximum.
        for _ in 0..20 {
            w.acquire().await.unwrap().end = SlotEnd::Lost;
        }
        assert_eq!(w.size(), WINDOW_MIN);
        assert_eq!(w.sem.available_permits(), WINDOW_MIN);
        for _ in 0..100_000 {
            w.acquire().await.unwrap().end = SlotEnd::Answered;
        }
        assert_eq!(w.size(), 200);
        assert_eq!(w.sem.available_permits(), 200);
    }
}
