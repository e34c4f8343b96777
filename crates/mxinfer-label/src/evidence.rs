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
use serde::{Deserialize, Serialize};
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

    /// Phase 1: one probe record, with the origin ASes of its address (the same as
    /// [`Labeller::add_evidence`] of [`AddressEvidence::from_probe`]).
    pub fn add_probe(&mut self, p: &HostProbe, asns: &[u32]) {
        self.add_evidence(&AddressEvidence::from_probe(p, asns));
    }

    /// Phase 1: the evidence of one probe record. Of several for one address, the one
    /// [`AddressEvidence::wins_over`] the others is kept, whatever their order.
    pub fn add_evidence(&mut self, e: &AddressEvidence) {
        assert!(!self.finished, "add_evidence after finish");
        self.counts.probe_records += 1;
        let live = e.is_live();
        if let Some(&i) = self.addr_index.get(&e.ip) {
            let old = &self.addrs[i as usize];
            if !e
                .key()
                .gt(&(old.live, &*old.started_at, std::cmp::Reverse(old.digest)))
            {
                return; // the record kept so far wins (module documentation)
            }
        }
        let banner = match &e.banner {
            Some(lines) => banner::parse_reply(lines, &self.psl, &self.data),
            None => Parsed::Nothing,
        };
        let ehlo = match &e.ehlo {
            Some(lines) => banner::parse_reply(lines, &self.psl, &self.data),
            None => Parsed::Nothing,
        };
        let banner = self.cand(banner);
        let ehlo = self.cand(ehlo);
        let mut trusted = None;
        let mut reason = None;
        let mut names = Vec::new();
        if let Some(leaf) = &e.leaf {
            trusted = Some(leaf.trusted);
            reason = leaf.reason;
            if leaf.trusted {
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
            ip: e.ip,
            live,
            banner,
            ehlo,
            trusted,
            reason,
            names,
            asns: e.asns.as_slice().into(),
            domains: Vec::new(),
            dmax: 0,
            started_at: e.started_at.as_str().into(),
            digest: e.digest,
        };
        let sm = Summary {
            live,
            has_names: !ev.names.is_empty(),
            num_ip: 0,
            cert_id: NONE,
            banner_id: NONE,
            max_num_cert: 0,
        };
        match self.addr_index.get(&e.ip) {
            Some(&i) => {
                self.addrs[i as usize] = ev;
                self.summ[i as usize] = sm;
            }
            None => {
                self.addr_index.insert(e.ip, self.addrs.len() as u32);
                self.addrs.push(ev);
                self.summ.push(sm);
            }
        }
    }
}

/// Phase 1's input as plain data: what the labeller reads of one probe record, with the
/// origin ASes of its address. Small, serialisable and independent of any labeller, so a
/// distributed runner can compute it where the probe records are, keep one per address
/// with [`AddressEvidence::wins_over`] (a reduction by address), and ship the winners to
/// every worker ([`Labeller::add_evidence`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressEvidence {
    pub ip: IpAddr,
    /// The greeting's lines, when one was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<Vec<String>>,
    /// The EHLO (or HELO) reply's lines, when one was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ehlo: Option<Vec<String>>,
    /// The leaf certificate, when a chain was presented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf: Option<LeafEvidence>,
    /// Origin ASes of the address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asns: Vec<u32>,
    /// When the probe started (RFC 3339): the later of two records wins.
    pub started_at: String,
    /// Digest of the evidence (banner and EHLO lines, leaf names, verdict, ASes): the last
    /// tie-break between two records of an address.
    pub digest: u64,
}

/// The part of a presented chain the method reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafEvidence {
    /// The chain's verdict (false without a verdict).
    pub trusted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<UntrustedReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_cn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub san_dns: Vec<String>,
}

/// What phase 1 reads of a probe record, borrowed from wherever the record is (a
/// [`HostProbe`], a row of an exported table): the input of [`AddressEvidence::from_parts`].
#[derive(Debug, Clone, Copy)]
pub struct ProbeParts<'a> {
    pub ip: IpAddr,
    /// The greeting's lines, when one was received.
    pub banner: Option<&'a [String]>,
    /// The EHLO (or HELO) reply's lines, when one was received.
    pub ehlo: Option<&'a [String]>,
    /// TLS, when STARTTLS led to a handshake attempt.
    pub tls: Option<TlsParts<'a>>,
    pub started_at: &'a str,
}

/// The TLS part of [`ProbeParts`].
#[derive(Debug, Clone, Copy)]
pub struct TlsParts<'a> {
    /// The chain's verdict: trusted, and why not.
    pub verdict: Option<(bool, Option<UntrustedReason>)>,
    /// The leaf certificate, when a chain was presented: subject CN and DNS SANs.
    pub leaf: Option<(Option<&'a str>, &'a [String])>,
}

impl AddressEvidence {
    /// The evidence of a probe record whose address has the origin ASes `asns`.
    pub fn from_probe(p: &HostProbe, asns: &[u32]) -> AddressEvidence {
        let tls = p.tls.as_ref().map(|t| TlsParts {
            verdict: t.verdict.as_ref().map(|v| (v.trusted, v.reason)),
            leaf: t
                .chain
                .first()
                .map(|c| (c.subject_cn.as_deref(), c.san_dns.as_slice())),
        });
        AddressEvidence::from_parts(
            &ProbeParts {
                ip: p.ip,
                banner: p.banner.as_ref().map(|r| r.lines.as_slice()),
                ehlo: p.ehlo.as_ref().map(|r| r.lines.as_slice()),
                tls,
                started_at: &p.started_at,
            },
            asns,
        )
    }

    /// The evidence of a probe record given by its parts (see [`ProbeParts`]).
    pub fn from_parts(p: &ProbeParts<'_>, asns: &[u32]) -> AddressEvidence {
        let leaf = p.tls.and_then(|t| {
            t.leaf.map(|(cn, san)| LeafEvidence {
                trusted: t.verdict.is_some_and(|v| v.0),
                reason: t.verdict.and_then(|v| v.1),
                subject_cn: cn.map(str::to_string),
                san_dns: san.to_vec(),
            })
        });
        AddressEvidence {
            ip: p.ip,
            banner: p.banner.map(<[String]>::to_vec),
            ehlo: p.ehlo.map(<[String]>::to_vec),
            leaf,
            asns: asns.to_vec(),
            started_at: p.started_at.to_string(),
            digest: evidence_digest(p, asns),
        }
    }

    /// Live: a banner, an EHLO reply or a certificate was received.
    pub fn is_live(&self) -> bool {
        self.banner.is_some() || self.ehlo.is_some() || self.leaf.is_some()
    }

    fn key(&self) -> (bool, &str, std::cmp::Reverse<u64>) {
        (
            self.is_live(),
            self.started_at.as_str(),
            std::cmp::Reverse(self.digest),
        )
    }

    /// Whether this record is kept over `other` (of the same address): a live one over one
    /// that is not, then the later `started_at`, then the smaller digest. Equal on all
    /// three, the two carry the same evidence. A total order: reducing any set of records
    /// of an address with it keeps the same one in any order.
    pub fn wins_over(&self, other: &AddressEvidence) -> bool {
        self.key() > other.key()
    }
}

/// A digest of what a probe record says that phase 1 reads (banner and EHLO lines, the
/// leaf's names, the verdict, the origin ASes): equal digests, equal evidence. The hash is
/// the stage's own fixed one, so the choice it makes is the same in every run.
fn evidence_digest(p: &ProbeParts<'_>, asns: &[u32]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = crate::hash::FastHasher::default();
    for reply in [p.banner, p.ehlo] {
        match reply {
            Some(lines) => {
                1u8.hash(&mut h);
                lines.hash(&mut h);
            }
            None => 0u8.hash(&mut h),
        }
    }
    if let Some(tls) = &p.tls {
        match tls.verdict {
            Some((trusted, reason)) => {
                trusted.hash(&mut h);
                reason.hash(&mut h);
            }
            None => 2u8.hash(&mut h),
        }
        if let Some((cn, san)) = tls.leaf {
            cn.hash(&mut h);
            san.hash(&mut h);
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
