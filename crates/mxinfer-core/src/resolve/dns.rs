//! The DNS client behind the resolve stage: one query in, one classified [`Answer`] out.
//!
//! [`Dns`] is the seam tests and the simulated Internet can replace; [`HickoryDns`] is the real
//! implementation on hickory-resolver with explicit name servers, fully qualified queries, and
//! hickory's own cache switched off (the stage shares exchanger lookups itself, see
//! [`super::cache`]). Truncated UDP answers are retried over TCP by hickory's name-server pool.

use futures::future::BoxFuture;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::{Resolver, TokioResolver};
use mxinfer_record::LookupStatus;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The record types the stage asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QType {
    Mx,
    A,
    Aaaa,
    Txt,
    Ptr,
}

impl QType {
    pub(crate) fn record_type(self) -> RecordType {
        match self {
            QType::Mx => RecordType::MX,
            QType::A => RecordType::A,
            QType::Aaaa => RecordType::AAAA,
            QType::Txt => RecordType::TXT,
            QType::Ptr => RecordType::PTR,
        }
    }
}

/// One answer value of the asked type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Mx {
        preference: u16,
        exchange: String,
    },
    Ip(IpAddr),
    /// TXT: the character-strings of one record, joined without separator (RFC 7208 3.3).
    Txt(String),
    /// PTR target name.
    Name(String),
}

/// A classified answer to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: LookupStatus,
    /// CNAME chain from the query name, in order (target names, lower case, no trailing dot).
    pub cname: Vec<String>,
    pub values: Vec<Value>,
    /// Smallest TTL of the answer records; for negative answers the negative-caching TTL.
    pub ttl: Option<u32>,
    pub error: Option<String>,
}

impl Answer {
    pub fn failed(status: LookupStatus, error: impl Into<String>) -> Self {
        Answer {
            status,
            cname: Vec::new(),
            values: Vec::new(),
            ttl: None,
            error: Some(error.into()),
        }
    }
}

/// Something that answers DNS queries.
pub trait Dns: Send + Sync {
    /// Asks for `rtype` records of `name` (ASCII, no trailing dot).
    fn query<'a>(&'a self, name: &'a str, rtype: QType) -> BoxFuture<'a, Answer>;
    /// Queries sent so far (for the run metadata).
    fn queries_sent(&self) -> u64;
}

/// Settings of the real client.
#[derive(Debug, Clone)]
pub struct DnsSettings {
    /// Name servers with ports; several are used as a pool.
    pub nameservers: Vec<SocketAddr>,
    /// Per-query timeout.
    pub timeout: Duration,
    /// Retries per query after the first try (hickory's `attempts`).
    pub attempts: usize,
    /// EDNS0 with a 1232-byte UDP payload; off gives classic 512-byte UDP answers.
    pub edns0: bool,
    /// Queries that may be in flight at once on one multiplexed (TCP) connection; hickory
    /// answers `Busy` past it (its default of 32 is far below a scan's concurrency).
    pub max_in_flight: usize,
    /// Own client: UDP queries in flight at once to one name server (`--dns-window`).
    pub window: usize,
}

/// The resolver could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DnsSetupError {
    #[error("no name server given")]
    NoNameServer,
    #[error("building the resolver")]
    Build(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// hickory-resolver based [`Dns`].
pub struct HickoryDns {
    resolver: TokioResolver,
    sent: AtomicU64,
}

impl HickoryDns {
    pub fn new(settings: &DnsSettings) -> Result<Self, DnsSetupError> {
        if settings.nameservers.is_empty() {
            return Err(DnsSetupError::NoNameServer);
        }
        let servers = settings
            .nameservers
            .iter()
            .map(|sa| {
                let mut udp = ConnectionConfig::udp();
                udp.port = sa.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = sa.port();
                NameServerConfig::new(sa.ip(), true, vec![udp, tcp])
            })
            .collect();
        let config = ResolverConfig::from_name_servers(servers);
        let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.cache_size = 0;
        opts.timeout = settings.timeout;
        opts.attempts = settings.attempts.max(1);
        opts.edns0 = settings.edns0;
        opts.ndots = 0;
        opts.preserve_intermediates = true;
        opts.try_tcp_on_error = true;
        opts.recursion_desired = true;
        opts.max_active_requests = settings.max_in_flight.max(32);
        // With several name servers, ask one at a time (the next only on failure): a scan
        // should not double its load on the servers.
        opts.num_concurrent_reqs = 1;
        let resolver = builder
            .build()
            .map_err(|e| DnsSetupError::Build(e.into()))?;
        Ok(HickoryDns {
            resolver,
            sent: AtomicU64::new(0),
        })
    }
}

/// Lower-case ASCII form of a name without the trailing dot (`.` for the root).
pub fn name_str(n: &Name) -> String {
    if n.is_root() {
        return ".".to_string();
    }
    let s = n.to_lowercase().to_ascii();
    s.strip_suffix('.').map(str::to_string).unwrap_or(s)
}

pub(crate) fn status_of_code(code: ResponseCode) -> LookupStatus {
    match code {
        ResponseCode::NoError => LookupStatus::Nodata,
        ResponseCode::NXDomain => LookupStatus::Nxdomain,
        ResponseCode::ServFail => LookupStatus::Servfail,
        ResponseCode::Refused => LookupStatus::Refused,
        _ => LookupStatus::Error,
    }
}

/// The query name of `name` (ASCII, no trailing dot), or the failed answer saying why not.
pub(crate) fn fully_qualified(name: &str) -> Result<Name, Answer> {
    Name::from_ascii(format!("{name}."))
        .map_err(|e| Answer::failed(LookupStatus::Error, format!("bad name: {e}")))
}

/// A response whose code is a failure (SERVFAIL, REFUSED, FORMERR, ...): its status, the code
/// as the error (a code that would read as NODATA is an error here).
pub(crate) fn response_code_failure(code: ResponseCode) -> Answer {
    let st = status_of_code(code);
    Answer::failed(
        if st == LookupStatus::Nodata {
            LookupStatus::Error
        } else {
            st
        },
        format!("response code {code}"),
    )
}

/// Maps a hickory error to a lookup status. `asked` is the query name: a negative answer for
/// another name means a CNAME was followed to it (hickory keeps only the last name of the
/// chain in that case, so the chain is recorded as that one target).
fn classify_error(e: &NetError, asked: &Name) -> Answer {
    match e {
        // No answer, no SOA, but NS records: a referral. The server asked is authoritative
        // for a parent zone and does not recurse; nothing is known about the name.
        NetError::Dns(DnsError::NoRecordsFound(nr))
            if nr.response_code == ResponseCode::NoError && nr.soa.is_none() && nr.ns.is_some() =>
        {
            let to = nr
                .ns
                .as_ref()
                .and_then(|v| v.first())
                .map(|f| name_str(&f.ns.name))
                .unwrap_or_default();
            Answer::failed(
                LookupStatus::Error,
                format!("referral to {to}: the name server does not recurse"),
            )
        }
        NetError::Dns(DnsError::NoRecordsFound(nr)) => {
            let mut a = Answer::failed(status_of_code(nr.response_code), "");
            a.error = None;
            a.ttl = nr.negative_ttl;
            let final_name = nr.query.name().to_lowercase();
            if final_name != asked.to_lowercase() && !final_name.is_root() {
                a.cname.push(name_str(&final_name));
            }
            a
        }
        NetError::Dns(DnsError::ResponseCode(code)) => response_code_failure(*code),
        NetError::Timeout => Answer::failed(LookupStatus::Timeout, "no answer in time"),
        // Too many queries in flight in the client itself: not an answer about the name, so
        // transient (the second pass asks again).
        NetError::Busy => Answer::failed(
            LookupStatus::Timeout,
            "resolver busy: too many queries in flight",
        ),
        other => {
            let text = other.to_string();
            // A pool whose servers all failed to answer surfaces as a generic error whose
            // text names the timeout; keep it a timeout so it gets the second pass.
            if text.contains("timed out") || text.contains("timeout") {
                Answer::failed(LookupStatus::Timeout, text)
            } else {
                Answer::failed(LookupStatus::Error, text)
            }
        }
    }
}

/// How often a query refused by the client's own full queue is asked again (with a backoff
/// from 1 ms doubling to 100 ms: about 5 s in all) before it counts as failed.
const LOCAL_RETRIES: u32 = 60;

/// Whether the error is the client's own backpressure (too many queries in flight, or a full
/// queue to a connection under load): the query never left.
fn is_local_backpressure(e: &NetError) -> bool {
    matches!(e, NetError::Busy) || e.to_string().contains("channel is full")
}

impl Dns for HickoryDns {
    fn query<'a>(&'a self, name: &'a str, rtype: QType) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            self.sent.fetch_add(1, Ordering::Relaxed);
            let fqdn = match fully_qualified(name) {
                Ok(n) => n,
                Err(a) => return a,
            };
            let rt = rtype.record_type();
            let mut backoff = std::time::Duration::from_millis(1);
            let mut tries = 0;
            loop {
                match self.resolver.lookup(fqdn.clone(), rt).await {
                    Ok(lookup) => {
                        let code = lookup.message().metadata.response_code;
                        return answer_from_records(&fqdn, rt, lookup.answers(), code);
                    }
                    // The client's own queue to a connection was full: nothing was asked
                    // yet, so wait a moment and ask (not an answer about the name).
                    Err(e) if is_local_backpressure(&e) && tries < LOCAL_RETRIES => {
                        tries += 1;
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(std::time::Duration::from_millis(100));
                    }
                    Err(e) => return classify_error(&e, &fqdn),
                }
            }
        })
    }

    fn queries_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

/// Builds an answer from the answer records: follows the CNAME chain from `qname` and keeps
/// the records of type `rt` owned by the end of the chain.
pub(crate) fn answer_from_records(
    qname: &Name,
    rt: RecordType,
    records: &[hickory_proto::rr::Record],
    code: ResponseCode,
) -> Answer {
    let mut owner = qname.to_lowercase();
    let mut chain = Vec::new();
    // Follow CNAMEs (bounded: a loop or a long chain ends the walk).
    for _ in 0..16 {
        let next = records.iter().find_map(|r| match &r.data {
            RData::CNAME(c) if r.name.to_lowercase() == owner => Some(c.0.to_lowercase()),
            _ => None,
        });
        match next {
            Some(t) if !chain.contains(&name_str(&t)) => {
                chain.push(name_str(&t));
                owner = t;
            }
            _ => break,
        }
    }
    let mut values = Vec::new();
    let mut ttl: Option<u32> = None;
    for r in records {
        if r.record_type() != rt || r.name.to_lowercase() != owner {
            continue;
        }
        let v = match &r.data {
            RData::MX(mx) => Value::Mx {
                preference: mx.preference,
                exchange: name_str(&mx.exchange),
            },
            RData::A(a) => Value::Ip(IpAddr::V4(a.0)),
            RData::AAAA(a) => Value::Ip(IpAddr::V6(a.0)),
            RData::TXT(t) => {
                let mut s = Vec::new();
                for part in t.txt_data.iter() {
                    s.extend_from_slice(part);
                }
                Value::Txt(String::from_utf8_lossy(&s).into_owned())
            }
            RData::PTR(p) => Value::Name(name_str(&p.0)),
            _ => continue,
        };
        ttl = Some(ttl.map_or(r.ttl, |t| t.min(r.ttl)));
        if !values.contains(&v) {
            values.push(v);
        }
    }
    let status = if !values.is_empty() {
        LookupStatus::Ok
    } else {
        status_of_code(code)
    };
    Answer {
        status,
        cname: chain,
        values,
        ttl,
        error: None,
    }
}

/// Shared handle.
pub type SharedDns = Arc<dyn Dns>;
