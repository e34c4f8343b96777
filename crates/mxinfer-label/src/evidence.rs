//! Per-address evidence (METHOD.md 1): phase 1, each probe record reduced at once to a compact
//! form: parsed banner and EHLO candidates (5), trusted leaf names with their registered
//! domains (3, 4), trust and origin ASes; the names of each trusted certificate are joined.

use crate::banner::{self, Parsed};
use crate::{Labeller, NONE};
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

/// One certificate name with its registered domain's node in the union-find.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CertName {
    pub(crate) name: u32,
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
    /// Domains (indexes) whose primary set uses the address, the first few.
    pub(crate) domains: Vec<u32>,
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

    /// Interned registered domain of an interned name.
    fn reg_of(&mut self, name: u32) -> Option<u32> {
        if let Some(&r) = self.reg_cache.get(&name) {
            return (r != NONE).then_some(r);
        }
        let s = self.strs.get(name).to_string();
        self.reg_of_str(name, &s)
    }

    /// Registered domain of the interned name `name`, whose text is `s`.
    fn reg_of_str(&mut self, name: u32, s: &str) -> Option<u32> {
        if let Some(&r) = self.reg_cache.get(&name) {
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
        self.reg_cache.insert(name, id);
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
        if let Some(&i) = self.addr_index.get(&p.ip)
            && (self.summ[i as usize].live || !live)
        {
            return; // keep the first record with evidence for an address
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
                        let node = self.node(reg);
                        names.push(CertName { name, node });
                    }
                }
                for w in 1..names.len() {
                    self.union(names[0].node, names[w].node);
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

/// Already lower case without a trailing dot or spaces (the resolve stage's form).
pub(crate) fn is_normal(s: &str) -> bool {
    !s.ends_with('.') && !s.bytes().any(|b| b.is_ascii_uppercase() || b == b' ')
}

/// Lower case, no trailing dot.
pub(crate) fn norm(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}
