//! The resolve stage: from a domain to its complete mail-routing picture ([`DomainDns`]).
//!
//! Per domain: the MX set (sorted by preference, with TTL), the CNAME chain at the apex,
//! RFC 7505 null MX (alone: `null-mx`; mixed with other records: flagged), RFC 5321 implicit
//! MX when there is no MX record (`no-mx`, or `no-mail` when the domain has no address either),
//! and for every exchanger its A and AAAA lookups, each with its own status and TTL, its CNAME
//! (forbidden by RFC 2181 10.3, flagged), a flag when it has no address or is an IP literal,
//! and every address classified. Optionally the SPF record (TXT) and the PTR of each address.
//!
//! The stage does not decide retries across passes; it reports through
//! [`needs_second_pass`] whether a record holds a transient failure, and the pipeline asks again.

pub mod cache;
pub mod client;
/// The classification rules (shared with ingest): `mxinfer_ingest::classify`.
pub use mxinfer_ingest::classify;
pub mod dns;

use crate::input::InputDomain;
use cache::LookupCache;
use dns::{Answer, Dns, QType, Value};
use mxinfer_record::*;
use std::net::IpAddr;
use std::sync::Arc;

/// What to resolve besides MX, A and AAAA.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResolveOptions {
    /// TXT of the domain, for SPF.
    pub txt: bool,
    /// PTR of every exchanger address.
    pub ptr: bool,
}

/// The resolve stage with its shared state.
pub struct DomainResolver {
    dns: Arc<dyn Dns>,
    cache: LookupCache,
    opts: ResolveOptions,
}

impl DomainResolver {
    pub fn new(dns: Arc<dyn Dns>, cache_capacity: usize, opts: ResolveOptions) -> Self {
        DomainResolver {
            dns,
            cache: LookupCache::new(cache_capacity),
            opts,
        }
    }

    pub fn cache(&self) -> &LookupCache {
        &self.cache
    }

    pub fn queries_sent(&self) -> u64 {
        self.dns.queries_sent()
    }

    /// Resolves one domain; `pass` is recorded (1 or 2).
    pub async fn resolve(&self, d: &InputDomain, pass: u8) -> DomainDns {
        let mx = self.dns.query(&d.domain, QType::Mx).await;
        let mut rec = DomainDns {
            domain: d.domain.clone(),
            input: d.input.clone(),
            status: DnsStatus::Ok,
            flags: Vec::new(),
            cname: mx.cname.clone(),
            mx: Vec::new(),
            mx_ttl: mx.ttl,
            exchangers: Vec::new(),
            config_class: ConfigClass::NonIdentified,
            spf: None,
            passes: pass,
            resolved_at: String::new(),
            error: mx.error.clone(),
            shard: None,
        };
        if !rec.cname.is_empty() {
            rec.flags.push(DomainFlag::ApexCname);
        }
        match mx.status {
            LookupStatus::Ok => self.with_mx_set(&mut rec, &mx).await,
            LookupStatus::Nodata => self.implicit_mx(&mut rec).await,
            LookupStatus::Nxdomain => rec.status = DnsStatus::Nxdomain,
            LookupStatus::Servfail => rec.status = DnsStatus::Servfail,
            LookupStatus::Refused => rec.status = DnsStatus::Refused,
            LookupStatus::Timeout => rec.status = DnsStatus::Timeout,
            LookupStatus::Error => rec.status = DnsStatus::Error,
        }
        if self.opts.txt && !matches!(rec.status, DnsStatus::Nxdomain) {
            let txt = self.dns.query(&d.domain, QType::Txt).await;
            let spf = spf_from(&txt);
            if spf.records.len() > 1 {
                rec.flags.push(DomainFlag::MultipleSpf);
            }
            rec.spf = Some(spf);
        }
        rec.flags.sort();
        rec.flags.dedup();
        rec.resolved_at = crate::util::now_rfc3339();
        rec
    }

    async fn with_mx_set(&self, rec: &mut DomainDns, mx: &Answer) {
        let ttl = mx.ttl.unwrap_or(0);
        let mut set: Vec<MxRecord> = mx
            .values
            .iter()
            .filter_map(|v| match v {
                Value::Mx {
                    preference,
                    exchange,
                } => Some(MxRecord {
                    preference: *preference,
                    exchange: exchange.clone(),
                    ttl,
                }),
                _ => None,
            })
            .collect();
        set.sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
        let nulls = set.iter().filter(|m| m.exchange == ".").count();
        if nulls > 0 && nulls == set.len() {
            rec.status = DnsStatus::NullMx;
            rec.mx = set;
            return;
        }
        if nulls > 0 {
            rec.flags.push(DomainFlag::NullMxMixed);
        }
        let real: Vec<&MxRecord> = set.iter().filter(|m| m.exchange != ".").collect();
        let futs = real
            .iter()
            .map(|m| self.exchanger(&m.exchange, m.preference, false));
        rec.exchangers = futures::future::join_all(futs).await;
        rec.status = DnsStatus::Ok;
        classify::finish_domain_flags(&rec.exchangers, &mut rec.flags);
        let (v4, v6) = classify::distinct_families(&rec.exchangers);
        rec.config_class = classify::config_class(real.len(), v4, v6);
        rec.mx = set;
    }

    async fn implicit_mx(&self, rec: &mut DomainDns) {
        let ex = self.exchanger(&rec.domain, 0, true).await;
        rec.status = if !ex.addresses.is_empty() {
            DnsStatus::NoMx
        } else if ex.a.status.is_transient() || ex.aaaa.status.is_transient() {
            // Not knowing whether the domain has an address is not "no mail".
            if ex.a.status == LookupStatus::Timeout || ex.aaaa.status == LookupStatus::Timeout {
                DnsStatus::Timeout
            } else {
                DnsStatus::Servfail
            }
        } else {
            DnsStatus::NoMail
        };
        // Without addresses the implicit exchanger stays in the record (already flagged
        // `no-address`): its lookups say why there is no mail route.
        rec.exchangers.push(ex);
    }

    /// Resolves one exchanger (shared across domains through the cache).
    async fn exchanger(&self, name: &str, preference: u16, implicit: bool) -> Exchanger {
        let (a, aaaa) = futures::join!(
            self.cache.get(&*self.dns, name, QType::A),
            self.cache.get(&*self.dns, name, QType::Aaaa)
        );
        let mut flags = Vec::new();
        if implicit {
            flags.push(ExchangerFlag::Implicit);
        }
        if name.parse::<IpAddr>().is_ok() {
            flags.push(ExchangerFlag::IpLiteral);
        }
        // An alias at the apex of an implicit exchanger is the domain's CNAME, already
        // recorded on the domain; for a named exchanger it breaks RFC 2181 10.3.
        if !implicit && (!a.cname.is_empty() || !aaaa.cname.is_empty()) {
            flags.push(ExchangerFlag::Cname);
        }
        let mut ips: Vec<IpAddr> = Vec::new();
        for v in a.values.iter().chain(aaaa.values.iter()) {
            if let Value::Ip(ip) = v
                && !ips.contains(ip)
            {
                ips.push(*ip);
            }
        }
        let mut addresses = Vec::with_capacity(ips.len());
        for ip in ips {
            let ptr = if self.opts.ptr {
                let ans = self
                    .cache
                    .get(&*self.dns, &reverse_name(ip), QType::Ptr)
                    .await;
                Some(rrset(&ans))
            } else {
                None
            };
            addresses.push(Address {
                ip,
                class: classify::addr_class(ip),
                ptr,
            });
        }
        classify::finish_exchanger_flags(&addresses, &mut flags);
        Exchanger {
            name: name.to_string(),
            preference,
            flags,
            a: rrset(&a),
            aaaa: rrset(&aaaa),
            addresses,
        }
    }
}

/// The reverse-lookup name of an address (`in-addr.arpa` / `ip6.arpa`).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(72);
            for b in v6.octets().iter().rev() {
                s.push(char::from_digit((b & 0xf) as u32, 16).unwrap_or('0'));
                s.push('.');
                s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
                s.push('.');
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

/// An answer as a record-set lookup in the output.
pub fn rrset(a: &Answer) -> RrsetLookup {
    RrsetLookup {
        status: a.status,
        ttl: a.ttl,
        cname: a.cname.clone(),
        values: a
            .values
            .iter()
            .map(|v| match v {
                Value::Ip(ip) => ip.to_string(),
                Value::Txt(t) => t.clone(),
                Value::Name(n) => n.clone(),
                Value::Mx {
                    preference,
                    exchange,
                } => format!("{preference} {exchange}"),
            })
            .collect(),
        error: a.error.clone(),
    }
}

/// SPF from a TXT answer: records whose text starts with `v=spf1` followed by a space or the
/// end (RFC 7208 4.5, case-insensitive).
pub fn spf_from(txt: &Answer) -> Spf {
    let lookup = rrset(txt);
    let records: Vec<String> = lookup
        .values
        .iter()
        .filter(|t| {
            let b = t.as_bytes();
            b.len() >= 6 && b[..6].eq_ignore_ascii_case(b"v=spf1") && (b.len() == 6 || b[6] == b' ')
        })
        .cloned()
        .collect();
    Spf {
        present: !records.is_empty(),
        records,
        txt: lookup,
    }
}

/// Whether a record holds a failure that a second pass may mend.
pub fn needs_second_pass(r: &DomainDns) -> bool {
    r.status.is_transient()
        || r.exchangers.iter().any(|e| {
            e.a.status.is_transient()
                || e.aaaa.status.is_transient()
                || e.addresses
                    .iter()
                    .any(|a| a.ptr.as_ref().is_some_and(|p| p.status.is_transient()))
        })
        || r.spf.as_ref().is_some_and(|s| s.txt.status.is_transient())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.1".parse().unwrap()),
            "1.2.0.192.in-addr.arpa"
        );
        assert_eq!(
            reverse_name("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn spf_detection_follows_rfc_7208() {
        let mk = |vals: &[&str]| Answer {
            status: LookupStatus::Ok,
            cname: vec![],
            values: vals.iter().map(|v| Value::Txt(v.to_string())).collect(),
            ttl: Some(60),
            error: None,
        };
        let s = spf_from(&mk(&["google-site-verification=x", "V=SPF1 -all"]));
        assert!(s.present);
        assert_eq!(s.records, ["V=SPF1 -all"]);
        assert!(!spf_from(&mk(&["v=spf10 include:x"])).present);
        assert!(spf_from(&mk(&["v=spf1"])).present);
    }
}
