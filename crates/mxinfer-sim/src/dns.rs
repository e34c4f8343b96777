//! A small in-process authoritative DNS server for a world's zone (`mxinfer sim serve`).
//!
//! Built on hickory-proto (already a dependency) rather than hickory-server: the world's zone is
//! one flat root zone with A, AAAA, MX, NS and SOA records only, so a map from (name, type) to
//! records is the whole server. UDP and TCP on the same port: a UDP answer larger than the
//! client's limit (512 bytes, or its EDNS payload size) comes back truncated with no records,
//! and the client asks again over TCP (RFC 7766), where answers go up to 65,535 bytes.
//! Negative answers carry the SOA; names that only exist as parents of other names
//! (`l.google.com`) are empty non-terminals (NOERROR, no data), not NXDOMAIN.

use hickory_proto::ProtoError;
use hickory_proto::op::{Edns, Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, MX, NS, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;

const TTL: u32 = 3600;

/// What went wrong parsing a zone or starting the server: the zone line (1-based) and
/// field, or the address, with the underlying error as the source.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// A line that is not `name IN TYPE rdata` with a supported type and field count.
    #[error("line {line}: unsupported record {text:?}")]
    UnsupportedRecord { line: usize, text: String },
    /// An owner or target name that is not a valid domain name.
    #[error("line {line}: bad name {name:?}")]
    BadName {
        line: usize,
        name: String,
        #[source]
        source: ProtoError,
    },
    /// An A or AAAA record whose address does not parse.
    #[error("line {line}: bad {rtype} address {value:?}")]
    BadAddress {
        line: usize,
        rtype: &'static str,
        value: String,
        #[source]
        source: std::net::AddrParseError,
    },
    /// A number of an MX or SOA record (`field`: "MX preference", "SOA serial", …) that
    /// does not parse.
    #[error("line {line}: bad {field} {value:?}")]
    BadNumber {
        line: usize,
        field: &'static str,
        value: String,
        #[source]
        source: std::num::ParseIntError,
    },
    /// The server was asked to listen on a non-loopback address.
    #[error("the simulated DNS only listens on loopback, not {addr}")]
    NotLoopback { addr: SocketAddr },
    #[error("binding udp {addr}")]
    BindUdp {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("binding tcp {addr}")]
    BindTcp {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// Another socket operation (`op`: "reading the local address of udp", "setting
    /// non-blocking tcp", …) on `addr`.
    #[error("{op} {addr}")]
    Socket {
        op: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("starting the DNS thread for {addr}")]
    Thread {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The records of one zone, indexed for answering.
pub struct ZoneDb {
    records: HashMap<(Name, RecordType), Vec<Record>>,
    names: HashSet<Name>,
    soa: Option<Record>,
}

/// The name `s` of zone line `line`.
fn name(line: usize, s: &str) -> Result<Name, DnsError> {
    if s == "." {
        return Ok(Name::root());
    }
    Name::from_ascii(s).map_err(|source| DnsError::BadName {
        line,
        name: s.to_string(),
        source,
    })
}

/// The number `s` (the `field` of zone line `line`).
fn number<T: std::str::FromStr<Err = std::num::ParseIntError>>(
    line: usize,
    field: &'static str,
    s: &str,
) -> Result<T, DnsError> {
    s.parse().map_err(|source| DnsError::BadNumber {
        line,
        field,
        value: s.to_string(),
        source,
    })
}

/// The address `s` of an `rtype` record on zone line `line`.
fn address<T: std::str::FromStr<Err = std::net::AddrParseError>>(
    line: usize,
    rtype: &'static str,
    s: &str,
) -> Result<T, DnsError> {
    s.parse().map_err(|source| DnsError::BadAddress {
        line,
        rtype,
        value: s.to_string(),
        source,
    })
}

impl ZoneDb {
    /// Parses the master-format subset the world generator writes: one record per line,
    /// absolute names, `name IN TYPE rdata`; comments (`;`) and `$` directives are skipped.
    pub fn parse(text: &str) -> Result<ZoneDb, DnsError> {
        let mut db = ZoneDb {
            records: HashMap::new(),
            names: HashSet::new(),
            soa: None,
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('$') {
                continue;
            }
            let ln = n + 1;
            let unsupported = || DnsError::UnsupportedRecord {
                line: ln,
                text: line.to_string(),
            };
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 4 || f[1] != "IN" {
                return Err(unsupported());
            }
            let owner = name(ln, f[0])?;
            let rdata = match (f[2], &f[3..]) {
                ("A", [a]) => RData::A(A(address(ln, "A", a)?)),
                ("AAAA", [a]) => RData::AAAA(AAAA(address(ln, "AAAA", a)?)),
                ("MX", [p, x]) => RData::MX(MX::new(number(ln, "MX preference", p)?, name(ln, x)?)),
                ("NS", [x]) => RData::NS(NS(name(ln, x)?)),
                ("SOA", [m, r, s, rf, rt, ex, mi]) => RData::SOA(SOA::new(
                    name(ln, m)?,
                    name(ln, r)?,
                    number(ln, "SOA serial", s)?,
                    number(ln, "SOA refresh", rf)?,
                    number(ln, "SOA retry", rt)?,
                    number(ln, "SOA expire", ex)?,
                    number(ln, "SOA minimum", mi)?,
                )),
                _ => return Err(unsupported()),
            };
            let rtype = rdata.record_type();
            let rec = Record::from_rdata(owner.clone(), TTL, rdata);
            if rtype == RecordType::SOA {
                db.soa = Some(rec.clone());
            }
            let mut p = owner.clone();
            while !db.names.contains(&p) {
                db.names.insert(p.clone());
                if p.is_root() {
                    break;
                }
                p = p.base_name();
            }
            db.records.entry((owner, rtype)).or_default().push(rec);
        }
        Ok(db)
    }

    /// The response to one query message received over UDP (wire format), or `None` to stay
    /// silent.
    pub fn answer(&self, req: &[u8]) -> Option<Vec<u8>> {
        self.answer_within(req, None)
    }

    /// As [`ZoneDb::answer`]; `tcp_limit` set: the query came over TCP, and the answer may
    /// be that long.
    pub fn answer_within(&self, req: &[u8], tcp_limit: Option<usize>) -> Option<Vec<u8>> {
        let msg = Message::from_vec(req).ok()?;
        if msg.metadata.message_type != MessageType::Query {
            return None;
        }
        let mut resp = Message::response(msg.metadata.id, msg.metadata.op_code);
        resp.metadata.recursion_desired = msg.metadata.recursion_desired;
        let limit = match &msg.edns {
            Some(e) => {
                let mut edns = Edns::new();
                edns.set_max_payload(1232);
                resp.set_edns(edns);
                e.max_payload().clamp(512, 1232) as usize
            }
            None => 512,
        };
        let limit = tcp_limit.unwrap_or(limit);
        let Some(q) = msg.queries.first() else {
            resp.metadata.response_code = ResponseCode::FormErr;
            return resp.to_vec().ok();
        };
        resp.add_query(q.clone());
        resp.metadata.authoritative = true;
        let qn = q.name().clone();
        if let Some(v) = self.records.get(&(qn.clone(), q.query_type())) {
            resp.add_answers(v.iter().cloned());
        } else {
            if !self.names.contains(&qn) {
                resp.metadata.response_code = ResponseCode::NXDomain;
            }
            if let Some(soa) = &self.soa {
                resp.add_authority(soa.clone());
            }
        }
        let wire = resp.to_vec().ok()?;
        if wire.len() <= limit {
            return Some(wire);
        }
        resp.answers.clear();
        resp.authorities.clear();
        resp.metadata.truncation = true;
        resp.to_vec().ok()
    }
}

/// A UDP socket and a TCP listener on the same address and port (port 0: one free for
/// both, a few tries).
/// A 4 MiB receive buffer (capped by net.core.rmem_max), as a name server set up for load
/// has (NSD's and unbound's `so-rcvbuf`): with the default (about 208 KiB) a scanner's burst
/// of queries overflowed it while this one-task server was answering.
fn receive_buffer(udp: &std::net::UdpSocket) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 4 << 20;
    // SAFETY: a valid socket descriptor, a c_int option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            udp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn bind_pair(addr: SocketAddr) -> Result<(std::net::UdpSocket, std::net::TcpListener), DnsError> {
    let socket =
        |op: &'static str, addr: SocketAddr| move |source| DnsError::Socket { op, addr, source };
    let mut tries = 0;
    loop {
        tries += 1;
        let udp =
            std::net::UdpSocket::bind(addr).map_err(|source| DnsError::BindUdp { addr, source })?;
        let got = udp
            .local_addr()
            .map_err(socket("reading the local address of udp", addr))?;
        match std::net::TcpListener::bind(got) {
            Ok(tcp) => {
                udp.set_nonblocking(true)
                    .map_err(socket("setting non-blocking udp", got))?;
                receive_buffer(&udp).map_err(socket("setting the udp receive buffer", got))?;
                tcp.set_nonblocking(true)
                    .map_err(socket("setting non-blocking tcp", got))?;
                return Ok((udp, tcp));
            }
            Err(e) if addr.port() == 0 && tries < 20 => {
                tracing::debug!("sim dns: tcp {got}: {e}; trying another port");
            }
            Err(source) => return Err(DnsError::BindTcp { addr: got, source }),
        }
    }
}

/// One DNS-over-TCP connection: length-prefixed queries answered in order until the client
/// closes or stays idle for 10 seconds.
async fn serve_tcp_conn(mut conn: tokio::net::TcpStream, db: Arc<ZoneDb>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let idle = std::time::Duration::from_secs(10);
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(idle, conn.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let mut req = vec![0u8; u16::from_be_bytes(len) as usize];
        match tokio::time::timeout(idle, conn.read_exact(&mut req)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let Some(r) = db.answer_within(&req, Some(u16::MAX as usize)) else {
            continue;
        };
        let mut out = Vec::with_capacity(r.len() + 2);
        out.extend_from_slice(&(r.len() as u16).to_be_bytes());
        out.extend_from_slice(&r);
        if conn.write_all(&out).await.is_err() {
            return;
        }
    }
}

/// A running DNS server; stops when dropped.
pub struct DnsServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DnsServer {
    /// Serves `db` on UDP and TCP `addr` (loopback only; port 0 picks one free for both) on
    /// its own thread.
    pub fn start(addr: SocketAddr, db: ZoneDb) -> Result<DnsServer, DnsError> {
        if !addr.ip().is_loopback() {
            return Err(DnsError::NotLoopback { addr });
        }
        let (sock, tcp) = bind_pair(addr)?;
        let addr = sock.local_addr().map_err(|source| DnsError::Socket {
            op: "reading the local address of udp",
            addr,
            source,
        })?;
        let db = Arc::new(db);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sim-dns".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(_) => return,
                };
                rt.block_on(async move {
                    let (Ok(sock), Ok(tcp)) = (
                        tokio::net::UdpSocket::from_std(sock),
                        tokio::net::TcpListener::from_std(tcp),
                    ) else {
                        return;
                    };
                    let udp_db = db.clone();
                    let serve_udp = async {
                        let mut buf = vec![0u8; 4096];
                        loop {
                            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                                continue;
                            };
                            if let Some(r) = udp_db.answer(&buf[..n]) {
                                let _ = sock.send_to(&r, peer).await;
                            }
                        }
                    };
                    let serve_tcp = async {
                        loop {
                            let Ok((conn, _)) = tcp.accept().await else {
                                continue;
                            };
                            tokio::spawn(serve_tcp_conn(conn, db.clone()));
                        }
                    };
                    tokio::select! {
                        _ = serve_udp => {}
                        _ = serve_tcp => {}
                        _ = stop_rx => {}
                    }
                });
            })
            .map_err(|source| DnsError::Thread { addr, source })?;
        Ok(DnsServer {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Blocks until the server stops (never, unless its thread dies).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    fn ask(db: &ZoneDb, n: &str, t: RecordType) -> Message {
        let mut q = Message::query();
        q.add_query(Query::query(Name::from_ascii(n).unwrap(), t));
        Message::from_vec(&db.answer(&q.to_vec().unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn answers_records_nodata_and_nxdomain() {
        let mut z = Vec::new();
        let mut p = Vec::new();
        let mut t = Vec::new();
        let mut w = super::super::world::tests_support::writers(&mut z, &mut p, &mut t);
        super::super::world::tests_support::generate(200, 4, &mut w);
        let db = ZoneDb::parse(std::str::from_utf8(&z).unwrap()).unwrap();
        let r = ask(&db, "aspmx.l.google.com.", RecordType::A);
        assert!(r.metadata.authoritative);
        assert_eq!(r.answers.len(), 2);
        let r = ask(&db, "l.google.com.", RecordType::A);
        assert_eq!(r.metadata.response_code, ResponseCode::NoError);
        assert!(r.answers.is_empty());
        assert_eq!(r.authorities.len(), 1);
        let r = ask(&db, "nothing.here.test.", RecordType::MX);
        assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    }

    #[test]
    fn zone_errors_name_the_line_and_field() {
        let soa = ". IN SOA ns.sim. hostmaster.sim. 1 3600 600 86400 300\n";
        let err = |zone: &str| {
            let e = ZoneDb::parse(zone).err().unwrap();
            (e.to_string(), crate::chain(&e))
        };
        let (msg, _) = err(&format!("{soa}a.test. IN TXT hello\n"));
        assert_eq!(msg, "line 2: unsupported record \"a.test. IN TXT hello\"");
        let (msg, _) = err(&format!("{soa}\n; comment\na.test. IN\n"));
        assert!(msg.starts_with("line 4: unsupported record"), "{msg}");
        let (msg, full) = err(&format!("{soa}a.test. IN MX ten mx.a.test.\n"));
        assert_eq!(msg, "line 2: bad MX preference \"ten\"");
        assert!(
            full.starts_with("line 2: bad MX preference \"ten\": "),
            "{full}"
        );
        let (msg, _) = err(&format!("{soa}a.test. IN A 127.0.0.300\n"));
        assert_eq!(msg, "line 2: bad A address \"127.0.0.300\"");
        let (msg, _) = err(". IN SOA ns.sim. hostmaster.sim. 1 3600 600 86400 -5\n");
        assert_eq!(msg, "line 1: bad SOA minimum \"-5\"");
        let long = "x".repeat(70);
        let (msg, full) = err(&format!("{soa}{long}.test. IN A 127.0.0.1\n"));
        assert_eq!(msg, format!("line 2: bad name \"{long}.test.\""));
        assert!(full.len() > msg.len(), "the name error is chained: {full}");
    }

    #[test]
    fn start_refuses_a_non_loopback_address() {
        let e = DnsServer::start("192.0.2.1:53".parse().unwrap(), ZoneDb::parse("").unwrap())
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "the simulated DNS only listens on loopback, not 192.0.2.1:53"
        );
    }

    #[test]
    fn a_truncated_udp_answer_comes_whole_over_tcp_on_the_same_port() {
        use std::io::{Read, Write};
        let mut zone = String::from(". IN SOA ns.sim. hostmaster.sim. 1 3600 600 86400 300\n");
        for i in 0..60 {
            zone.push_str(&format!("big.test. IN MX {i} mx{i}.big.test.\n"));
        }
        let db = ZoneDb::parse(&zone).unwrap();
        let server = DnsServer::start("127.0.0.1:0".parse().unwrap(), db).unwrap();
        let mut q = Message::query();
        q.metadata.id = 4242;
        q.add_query(Query::query(
            Name::from_ascii("big.test.").unwrap(),
            RecordType::MX,
        ));
        let wire = q.to_vec().unwrap();

        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        udp.send_to(&wire, server.addr).unwrap();
        let mut buf = [0u8; 4096];
        let n = udp.recv(&mut buf).unwrap();
        let r = Message::from_vec(&buf[..n]).unwrap();
        assert!(r.metadata.truncation);
        assert!(r.answers.is_empty());

        let mut tcp = std::net::TcpStream::connect(server.addr).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        for _ in 0..2 {
            // Two queries on one connection, each answered whole.
            let mut framed = (wire.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&wire);
            tcp.write_all(&framed).unwrap();
            let mut len = [0u8; 2];
            tcp.read_exact(&mut len).unwrap();
            let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
            tcp.read_exact(&mut body).unwrap();
            let r = Message::from_vec(&body).unwrap();
            assert_eq!(r.metadata.id, 4242);
            assert!(!r.metadata.truncation);
            assert_eq!(r.answers.len(), 60);
        }
    }
}
