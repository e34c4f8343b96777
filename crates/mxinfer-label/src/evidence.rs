//! Per-address evidence (METHOD.md 1): phase 1, each probe record reduced at once to a compact
//! form: parsed banner and EHLO candidates (5), trusted leaf names with their registered
//! domains (3, 4), trust and origin ASes. The names of each trusted certificate are joined
//! in phase 3, over the records that are kept.
//!
//! An address with several probe records (two scans, overlapping files) keeps one, chosen by
//! content so the result does not depend on the order of the records or of the files: a
//! record with evidence (banner, EHLO or certificate) over one without; then the later
//! `started_at` (compared as text: every stage writes RFC 3339 UTC with milliseconds); then
//! the smaller digest of the evidence it carries (banner and EHLO lines, the leaf's names,
//! the chain's verdict, the origin ASes). Two records equal on all three give the same
//! evidence, so either may be kept.

use crate::banner::{self, Parsed};
use crate::{Labeller, NONE, UNSET};
use mxinfer_record::{HostProbe, UntrustedReason};
use std::net::IpAddr;

/// A parsed banner or EHLO reply, interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cand {
    Nothing,
    Unusable,
    /// Host name and provider ID.
    Usable(u32, u32),
}

/// One certificate name with its registered domain and, after phase 3, the registered
/// domain's node in the union-find.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CertName {
    pub(crate) name: u32,
    pub(crate) reg: u32,
    /// NONE until `finish`.
    pub(crate) node: u32,
}

/// The compact evidence of one address.
pub(crate) struct AddrEv {
    pub(crate) ip: IpAddr,
    pub(crate) live: bool,
    pub(crate) banner: Cand,
    pub(crate) ehlo: Cand,
    /// Some(trusted) when a chain was presented.
    pub(crate) trusted: Option<bool>,
    pub(crate) reason: Option<UntrustedReason>,
    /// Leaf names with a registered domain (only kept for trusted chains).
    pub(crate) names: Vec<CertName>,
    pub(crate) asns: Box<[u32]>,
    /// Domains (indexes) whose primary set uses the address: the
    /// [`crate::CLAIM_DOMAINS_LISTED`] with the smallest names.
    pub(crate) domains: Vec<Box<str>>,
    /// With all listed: the position in `domains` of the largest name.
    pub(crate) dmax: u8,
    /// What decides between two records of the address (see the module documentation).
    pub(crate) started_at: Box<str>,
    pub(crate) digest: u64,
}

/// The hot part of an address's evidence, kept apart in a dense vector (16 bytes per
/// address) so the per-domain passes stay in cache.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Summary {
    pub(crate) live: bool,
    pub(crate) has_names: bool,
    /// Domains whose primary set includes the address.
    pub(crate) num_ip: u32,
    /// After `finish`: the group ID of the trusted names (NONE, DISAGREE or a string index)
    /// and the banner/EHLO ID (same encoding).
    pub(crate) cert_id: u32,
    pub(crate) banner_id: u32,
    /// After `finish`: the highest numCert of the names.
    pub(crate) max_num_cert: u32,
}

impl Labeller {
    /// Interns a lower-case name and its registered domain; returns both indexes.
    pub(crate) fn intern_name(&mut self, s: &str) -> (u32, Option<u32>) {
        let name = self.strs.get_or_add(s);
        let reg = self.reg_of_str(name, s);
        (name, reg)
    }

    /// The interned name and registered domain of a name interned before (None: never seen).
    pub(crate) fn look_up_name(&self, s: &str) -> Option<(u32, Option<u32>)> {
        let name = self.strs.find(s)?;
        let reg = match self.cached_reg(name) {
            Some(r) => (r != NONE).then_some(r),
            None => match self.psl.registered(s) {
                Some(r) => Some(self.strs.find(r)?),
                None => None,
            },
        };
        Some((name, reg))
    }

    /// The cached registered domain of an interned name (NONE: it has none; None: not
    /// computed yet).
    fn cached_reg(&self, name: u32) -> Option<u32> {
        match self.reg_cache.get(name as usize) {
            Some(&r) if r != UNSET => Some(r),
            _ => None,
        }
    }

    /// Interned registered domain of an interned name.
    fn reg_of(&mut self, name: u32) -> Option<u32> {
        if let Some(r) = self.cached_reg(name) {
            return (r != NONE).then_some(r);
        }
        let s = self.strs.get(name).to_string();
        self.reg_of_str(name, &s)
    }

    /// Registered domain of the interned name `name`, whose text is `s`.
    fn reg_of_str(&mut self, name: u32, s: &str) -> Option<u32> {
        if let Some(r) = self.cached_reg(name) {
            return (r != NONE).then_some(r);
        }
        let r = self.psl.registered(s);
        let id = match r {
            Some(r) => {
                let i = self.strs.get_or_add(r);
                self.id_strs.push(i);
                i
            }
            None => NONE,
        };
        if self.reg_cache.len() <= name as usize {
            self.reg_cache.resize(name as usize + 1, UNSET);
        }
        self.reg_cache[name as usize] = id;
        (id != NONE).then_some(id)
    }

    fn cand(&mut self, p: Parsed) -> Cand {
        match p {
            Parsed::Nothing => Cand::Nothing,
            Parsed::Unusable { .. } => Cand::Unusable,
            Parsed::Usable { name, id } => {
                let id = self.strs.get_or_add(&id);
                self.id_strs.push(id);
                Cand::Usable(self.strs.get_or_add(&name), id)
            }
        }
    }

    /// Phase 1: one probe record, with the origin ASes of its address.
    pub fn add_probe(&mut self, p: &HostProbe, asns: &[u32]) {
        assert!(!self.finished, "add_probe after finish");
        self.counts.probe_records += 1;
        let chain = p.tls.as_ref().map(|t| (t, t.chain.first()));
        let has_cert = matches!(chain, Some((_, Some(_))));
        let live = p.banner.is_some() || p.ehlo.is_some() || has_cert;
        let digest = evidence_digest(p, asns);
        if let Some(&i) = self.addr_index.get(&p.ip) {
            let old = &self.addrs[i as usize];
            let new_key = (live, p.started_at.as_str(), std::cmp::Reverse(digest));
            let old_key = (old.live, &*old.started_at, std::cmp::Reverse(old.digest));
            if new_key <= old_key {
                return; // the record kept so far wins (module documentation)
            }
        }
        let banner = match &p.banner {
            Some(r) => banner::parse_reply(&r.lines, &self.psl, &self.data),
            None => Parsed::Nothing,
        };
        let ehlo = match &p.ehlo {
            Some(r) => banner::parse_reply(&r.lines, &self.psl, &self.data),
            None => Parsed::Nothing,
        };
        let banner = self.cand(banner);
        let ehlo = self.cand(ehlo);
        let mut trusted = None;
        let mut reason = None;
        let mut names = Vec::new();
        if let Some((tls, Some(leaf))) = chain {
            let ok = tls.verdict.as_ref().is_some_and(|v| v.trusted);
            trusted = Some(ok);
            reason = tls.verdict.as_ref().and_then(|v| v.reason);
            if ok {
                let mut raw: Vec<String> = Vec::new();
                if let Some(cn) = &leaf.subject_cn
                    && cn.contains('.')
                {
                    raw.push(norm(cn));
                }
                raw.extend(leaf.san_dns.iter().map(|s| norm(s)));
                raw.sort();
                raw.dedup();
                for n in raw {
                    let name = self.strs.get_or_add(&n);
                    if let Some(reg) = self.reg_of(name) {
                        names.push(CertName {
                            name,
                            reg,
                            node: NONE,
                        });
                    }
                }
            }
        }
        let ev = AddrEv {
            ip: p.ip,
            live,
            banner,
            ehlo,
            trusted,
            reason,
            names,
            asns: asns.into(),
            domains: Vec::new(),
            dmax: 0,
            started_at: p.started_at.as_str().into(),
            digest,
        };
        let sm = Summary {
            live,
            has_names: !ev.names.is_empty(),
            num_ip: 0,
            cert_id: NONE,
            banner_id: NONE,
            max_num_cert: 0,
        };
        match self.addr_index.get(&p.ip) {
            Some(&i) => {
                self.addrs[i as usize] = ev;
                self.summ[i as usize] = sm;
            }
            None => {
                self.addr_index.insert(p.ip, self.addrs.len() as u32);
                self.addrs.push(ev);
                self.summ.push(sm);
            }
        }
    }
}

/// A digest of what a probe record says that phase 1 reads (banner and EHLO lines, the
/// leaf's names, the verdict, the origin ASes): equal digests, equal evidence. The hash is
/// the stage's own fixed one, so the choice it makes is the same in every run.
fn evidence_digest(p: &HostProbe, asns: &[u32]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = crate::hash::FastHasher::default();
    for reply in [&p.banner, &p.ehlo] {
        match reply {
            Some(r) => {
                1u8.hash(&mut h);
                r.lines.hash(&mut h);
            }
            None => 0u8.hash(&mut h),
        }
    }
    if let Some(tls) = &p.tls {
        match &tls.verdict {
            Some(v) => {
                v.trusted.hash(&mut h);
                v.reason.hash(&mut h);
            }
            None => 2u8.hash(&mut h),
        }
        if let Some(leaf) = tls.chain.first() {
            leaf.subject_cn.hash(&mut h);
            leaf.san_dns.hash(&mut h);
        }
    }
    asns.hash(&mut h);
    h.finish()
}

/// Already lower case without a trailing dot or spaces (the resolve stage's form).
pub(crate) fn is_normal(s: &str) -> bool {
    !s.ends_with('.') && !s.bytes().any(|b| b.is_ascii_uppercase() || b == b' ')
}

/// Lower case, no trailing dot.
pub(crate) fn norm(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}
