//! A small in-process authoritative DNS server for a world's zone (`mxinfer sim serve`).
//!
//! Built on hickory-proto (already a dependency) rather than hickory-server: the world's zone is
//! one flat root zone with A, AAAA, MX, NS and SOA records only, so a map from (name, type) to
//! records is the whole server. UDP and TCP on the same port: a UDP answer larger than the
//! client's limit (512 bytes, or its EDNS payload size) comes back truncated with no records,
//! and the client asks again over TCP (RFC 7766), where answers go up to 65,535 bytes.
//! Negative answers carry the SOA; names that only exist as parents of other names
//! (`l.google.com`) are empty non-terminals (NOERROR, no data), not NXDOMAIN.

use anyhow::{Context, bail};
use hickory_proto::op::{Edns, Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, MX, NS, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;

const TTL: u32 = 3600;

/// The records of one zone, indexed for answering.
pub struct ZoneDb {
    records: HashMap<(Name, RecordType), Vec<Record>>,
    names: HashSet<Name>,
    soa: Option<Record>,
}

fn name(s: &str) -> anyhow::Result<Name> {
    if s == "." {
        return Ok(Name::root());
    }
    Name::from_ascii(s).with_context(|| format!("bad name {s:?}"))
}

impl ZoneDb {
    /// Parses the master-format subset the world generator writes: one record per line,
    /// absolute names, `name IN TYPE rdata`; comments (`;`) and `$` directives are skipped.
    pub fn parse(text: &str) -> anyhow::Result<ZoneDb> {
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
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 4 || f[1] != "IN" {
                bail!("line {}: unsupported record {line:?}", n + 1);
            }
            let owner = name(f[0])?;
            let rdata = match (f[2], &f[3..]) {
                ("A", [a]) => RData::A(A(a.parse()?)),
                ("AAAA", [a]) => RData::AAAA(AAAA(a.parse()?)),
                ("MX", [p, x]) => RData::MX(MX::new(p.parse()?, name(x)?)),
                ("NS", [x]) => RData::NS(NS(name(x)?)),
                ("SOA", [m, r, s, rf, rt, ex, mi]) => RData::SOA(SOA::new(
                    name(m)?,
                    name(r)?,
                    s.parse()?,
                    rf.parse()?,
                    rt.parse()?,
                    ex.parse()?,
                    mi.parse()?,
                )),
                _ => bail!("line {}: unsupported record {line:?}", n + 1),
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
fn bind_pair(addr: SocketAddr) -> anyhow::Result<(std::net::UdpSocket, std::net::TcpListener)> {
    let mut tries = 0;
    loop {
        tries += 1;
        let udp = std::net::UdpSocket::bind(addr).with_context(|| format!("binding udp {addr}"))?;
        let got = udp.local_addr()?;
        match std::net::TcpListener::bind(got) {
            Ok(tcp) => {
                udp.set_nonblocking(true)?;
                tcp.set_nonblocking(true)?;
                return Ok((udp, tcp));
            }
            Err(e) if addr.port() == 0 && tries < 20 => {
                tracing::debug!("sim dns: tcp {got}: {e}; trying another port");
            }
            Err(e) => return Err(e).with_context(|| format!("binding tcp {got}")),
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
    pub fn start(addr: SocketAddr, db: ZoneDb) -> anyhow::Result<DnsServer> {
        if !addr.ip().is_loopback() {
            bail!("the simulated DNS only listens on loopback, not {addr}");
        }
        let (sock, tcp) = bind_pair(addr)?;
        let addr = sock.local_addr()?;
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
            })?;
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
