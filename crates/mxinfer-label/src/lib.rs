//! Label: the priority-based provider inference of METHOD.md sections 2 to 9.
//!
//! Pure computation over the resolve records ([`DomainDns`]) and probe records
//! ([`HostProbe`]); the origin ASes come from the caller (the pipeline looks them up in [`pfx2as`]).
//!
//! The work is batch-aware, so it runs in three phases:
//! 1. [`Labeller::add_probe`] for every address: its evidence is reduced at once to a compact
//!    form (parsed banner and EHLO candidates, leaf names with their registered domains,
//!    trust, origin ASes); the names on each trusted certificate are joined (union-find over
//!    registered domains).
//! 2. [`Labeller::add_domain`] for every domain: the primary set (METHOD.md 2) is chosen and
//!    the batch counts numIP, numMX, numCert are updated. Only a compact per-domain form is
//!    kept (names interned, addresses as indexes).
//! 3. [`Labeller::finish`] names the certificate groups (popularity, then the
//!    lexicographically smaller registered domain); then [`Labeller::label`] gives each
//!    domain's record with all four approaches, and [`Labeller::claims`] the suspicious
//!    claims.
//!
//! Readings of METHOD.md worth knowing: an exchange at the primary preference with no live
//! address stays in the primary set and is labelled from its MX name (2.3 read literally);
//! certificate names are joined across every trusted leaf of the probe file, popularity is
//! counted over the domains' primary sets; a check "applies" when it raises a flag or a
//! suggestion (otherwise the next check runs); the certificate pattern check runs for
//! certificate- and banner-sourced IDs; a provider ID needs a listed public suffix.
//!
//! Submodules: [`psl`] (registered domains), [`banner`] (banner/EHLO parser), [`data`] (the
//! tables of data/).

pub mod banner;
pub mod data;
mod error;
mod hash;
pub mod json;
pub mod pfx2as;
pub mod psl;

pub use error::{DataError, EntryError};

use banner::Parsed;
use data::{LabelData, PatternScope};
use mxinfer_record::{
    Approach, ApproachResult, Approaches, Claim, ClaimReason, DnsStatus, DomainDns, DomainDnsView,
    DomainLabel, ExchangerFlag, ExchangerResult, HostProbe, InputRef, LabelFlag, LabelSource,
    LabelStatus, PrimaryExchanger, ProviderShare, SignalOutcome, TrailStep, UntrustedReason,
};
use psl::Psl;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Default score threshold below which the checks run (METHOD.md 7).
pub const DEFAULT_THRESHOLD: u64 = 5;
/// Domains listed per address in a claim.
pub const CLAIM_DOMAINS_LISTED: usize = 100;

const NONE: u32 = u32::MAX;
/// Per-address summary value: the address's own names point at different IDs.
const DISAGREE: u32 = u32::MAX - 1;

/// Settings of a label run.
#[derive(Debug, Clone)]
pub struct LabelSettings {
    pub threshold: u64,
    pub approach: Approach,
}

impl Default for LabelSettings {
    fn default() -> Self {
        LabelSettings {
            threshold: DEFAULT_THRESHOLD,
            approach: Approach::Priority,
        }
    }
}

use hash::HashMap;

/// String interner: every name and ID is stored once and referred to by index.
#[derive(Default)]
struct Interner {
    map: HashMap<Box<str>, u32>,
    strs: Vec<Box<str>>,
}

impl Interner {
    fn get_or_add(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.strs.len() as u32;
        self.strs.push(s.into());
        self.map.insert(s.into(), i);
        i
    }
    fn get(&self, i: u32) -> &str {
        &self.strs[i as usize]
    }
}

/// A parsed banner or EHLO reply, interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cand {
    Nothing,
    Unusable,
    /// Host name and provider ID.
    Usable(u32, u32),
}

/// One certificate name with its registered domain's node in the union-find.
#[derive(Debug, Clone, Copy)]
struct CertName {
    name: u32,
    node: u32,
}

/// The compact evidence of one address.
struct AddrEv {
    ip: IpAddr,
    live: bool,
    banner: Cand,
    ehlo: Cand,
    /// Some(trusted) when a chain was presented.
    trusted: Option<bool>,
    reason: Option<UntrustedReason>,
    /// Leaf names with a registered domain (only kept for trusted chains).
    names: Vec<CertName>,
    asns: Box<[u32]>,
    /// Domains (indexes) whose primary set uses the address, the first few.
    domains: Vec<u32>,
}

/// The hot part of an address's evidence, kept apart in a dense vector (16 bytes per
/// address) so the per-domain passes stay in cache.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    live: bool,
    has_names: bool,
    /// Domains whose primary set includes the address.
    num_ip: u32,
    /// After `finish`: the group ID of the trusted names (NONE, DISAGREE or a string index)
    /// and the banner/EHLO ID (same encoding).
    cert_id: u32,
    banner_id: u32,
    /// After `finish`: the highest numCert of the names.
    max_num_cert: u32,
}

/// One primary exchanger of a domain, compact.
struct Ex {
    name: u32,
    /// The MX-name ID (NONE: none; IP literals have none).
    mx: u32,
    preference: u16,
    implicit: bool,
    live: Vec<u32>,
}

enum Work {
    /// Null MX, no mail, DNS failure: no exchangers to label.
    Final(LabelStatus),
    Evidence {
        primary_preference: Option<u16>,
        dead: Vec<u16>,
        exs: Vec<Ex>,
        /// No live address on any exchanger (labelled from MX names only).
        no_evidence: bool,
    },
}

struct DomainWork {
    domain: Box<str>,
    input: InputRef,
    dns_status: DnsStatus,
    /// Byte offset of the registered domain within `domain`.
    reg_off: Option<u16>,
    work: Work,
}

/// A certificate group of more than one registered domain (see [`Labeller::joined_groups`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CertGroup {
    /// The group's name: the provider ID its members get.
    pub id: String,
    /// Each member registered domain with its numCert (domains whose trusted certificates
    /// carry it), sorted by name.
    pub members: Vec<(String, u32)>,
}

/// Counters for the run metadata.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LabelCounts {
    pub probe_records: u64,
    pub addresses: u64,
    pub live_addresses: u64,
    pub trusted_addresses: u64,
    pub domains: u64,
    pub certificate_groups: u64,
    pub dead_primary_fallbacks: u64,
}

/// Per-exchanger signal results, independent of the approach.
struct Signals {
    cert: Result<u32, SignalOutcome>,
    banner: Result<u32, SignalOutcome>,
    mx: Result<u32, SignalOutcome>,
}

/// Per exchanger: the evaluated result of the certificate, banner and MX signals.
type Evals = [Option<ExchangerResult>; 3];

/// The labeller of one batch.
pub struct Labeller {
    psl: Psl,
    data: LabelData,
    settings: LabelSettings,
    strs: Interner,
    /// Registered domain of an interned name (NONE: none; unset entries are computed).
    reg_cache: HashMap<u32, u32>,
    addr_index: HashMap<IpAddr, u32>,
    addrs: Vec<AddrEv>,
    summ: Vec<Summary>,
    /// Union-find over registered domains seen on trusted certificates.
    node_of: HashMap<u32, u32>,
    node_str: Vec<u32>,
    parent: Vec<u32>,
    num_cert: Vec<u32>,
    /// Group name (string index) per node, after `finish`.
    group: Vec<u32>,
    num_mx: HashMap<u32, u32>,
    domains: Vec<DomainWork>,
    /// Interned strings that are provider IDs (registered domains, alias IDs).
    id_strs: Vec<u32>,
    /// Company index per interned string (NONE: none), filled by `finish` for IDs.
    str_company: Vec<u32>,
    counts: LabelCounts,
    finished: bool,
    /// Reused per-domain scratch space.
    scratch_addr: Vec<u32>,
    scratch_node: Vec<u32>,
}

impl Labeller {
    pub fn new(psl: Psl, data: LabelData, settings: LabelSettings) -> Labeller {
        Labeller {
            psl,
            data,
            settings,
            strs: Interner::default(),
            reg_cache: HashMap::default(),
            addr_index: HashMap::default(),
            addrs: Vec::new(),
            summ: Vec::new(),
            node_of: HashMap::default(),
            node_str: Vec::new(),
            parent: Vec::new(),
            num_cert: Vec::new(),
            group: Vec::new(),
            num_mx: HashMap::default(),
            domains: Vec::new(),
            id_strs: Vec::new(),
            str_company: Vec::new(),
            counts: LabelCounts::default(),
            finished: false,
            scratch_addr: Vec::new(),
            scratch_node: Vec::new(),
        }
    }

    pub fn counts(&self) -> &LabelCounts {
        &self.counts
    }

    pub fn settings(&self) -> &LabelSettings {
        &self.settings
    }

    /// Number of domains added.
    pub fn len(&self) -> usize {
        self.domains.len()
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// Interns a lower-case name and its registered domain; returns both indexes.
    fn intern_name(&mut self, s: &str) -> (u32, Option<u32>) {
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

    fn node(&mut self, reg: u32) -> u32 {
        if let Some(&n) = self.node_of.get(&reg) {
            return n;
        }
        let n = self.parent.len() as u32;
        self.parent.push(n);
        self.node_str.push(reg);
        self.num_cert.push(0);
        self.node_of.insert(reg, n);
        n
    }

    fn find(&mut self, mut n: u32) -> u32 {
        while self.parent[n as usize] != n {
            let p = self.parent[n as usize];
            self.parent[n as usize] = self.parent[p as usize];
            n = p;
        }
        n
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb) as usize] = ra.min(rb);
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

    /// Phase 2: one resolve record.
    pub fn add_domain(&mut self, d: &DomainDns) {
        self.add_domain_view(DomainDnsView::from(d));
    }

    /// Phase 2: one resolve record, read as the label stage's view.
    pub fn add_domain_view(&mut self, d: DomainDnsView<'_>) {
        assert!(!self.finished, "add_domain after finish");
        let idx = self.domains.len() as u32;
        let reg_off = self
            .psl
            .registered(&d.domain)
            .map(|r| (d.domain.len() - r.len()) as u16);
        let work = match d.status {
            DnsStatus::NullMx => Work::Final(LabelStatus::NullMx),
            DnsStatus::NoMail => Work::Final(LabelStatus::NoMail),
            DnsStatus::Nxdomain
            | DnsStatus::Servfail
            | DnsStatus::Refused
            | DnsStatus::Timeout
            | DnsStatus::Error => Work::Final(LabelStatus::DnsFailed),
            DnsStatus::Ok | DnsStatus::NoMx => self.primary_set(&d, idx),
        };
        self.domains.push(DomainWork {
            domain: d.domain.into_owned().into_boxed_str(),
            input: d.input,
            dns_status: d.status,
            reg_off,
            work,
        });
    }

    /// METHOD.md 2: the primary set, and the batch counts it feeds.
    fn primary_set(&mut self, d: &DomainDnsView<'_>, idx: u32) -> Work {
        // Live addresses of each exchanger.
        let live: Vec<Vec<u32>> = d
            .exchangers
            .iter()
            .map(|e| {
                let mut v: Vec<u32> = e
                    .addresses
                    .iter()
                    .filter_map(|a| self.addr_index.get(&a.ip).copied())
                    .filter(|&i| self.summ[i as usize].live)
                    .collect();
                v.dedup();
                v
            })
            .collect();
        let best_live = d
            .exchangers
            .iter()
            .zip(&live)
            .filter(|(_, l)| !l.is_empty())
            .map(|(e, _)| e.preference)
            .min();
        let (pref, no_evidence) = match best_live {
            Some(p) => (Some(p), false),
            None => (d.exchangers.iter().map(|e| e.preference).min(), true),
        };
        let mut dead: Vec<u16> = match (best_live, pref) {
            (Some(p), _) => d
                .exchangers
                .iter()
                .map(|e| e.preference)
                .filter(|&q| q < p)
                .collect(),
            _ => Vec::new(),
        };
        dead.sort_unstable();
        dead.dedup();
        if !dead.is_empty() {
            self.counts.dead_primary_fallbacks += 1;
        }
        let mut exs = Vec::new();
        for (e, l) in d.exchangers.iter().zip(live) {
            if Some(e.preference) != pref {
                continue;
            }
            let (name, reg) = if is_normal(&e.name) {
                self.intern_name(&e.name)
            } else {
                self.intern_name(&norm(&e.name))
            };
            if exs.iter().any(|x: &Ex| x.name == name) {
                continue; // the same exchange listed twice
            }
            let mx = match reg {
                Some(r) if e.name.parse::<IpAddr>().is_err() => r,
                _ => NONE,
            };
            exs.push(Ex {
                name,
                mx,
                preference: e.preference,
                implicit: e.flags.contains(&ExchangerFlag::Implicit),
                live: l,
            });
        }
        // Batch counts, once per domain.
        let mut seen_addr = std::mem::take(&mut self.scratch_addr);
        let mut seen_node = std::mem::take(&mut self.scratch_node);
        seen_addr.clear();
        seen_node.clear();
        for x in &exs {
            *self.num_mx.entry(x.name).or_default() += 1;
            for &a in &x.live {
                if seen_addr.contains(&a) {
                    continue;
                }
                seen_addr.push(a);
                let sm = &mut self.summ[a as usize];
                sm.num_ip += 1;
                let has_names = sm.has_names;
                let ev = &mut self.addrs[a as usize];
                if ev.domains.len() < CLAIM_DOMAINS_LISTED {
                    ev.domains.push(idx);
                }
                if has_names {
                    for n in &ev.names {
                        if !seen_node.contains(&n.node) {
                            seen_node.push(n.node);
                        }
                    }
                }
            }
        }
        for &n in &seen_node {
            self.num_cert[n as usize] += 1;
        }
        self.scratch_addr = seen_addr;
        self.scratch_node = seen_node;
        Work::Evidence {
            primary_preference: pref,
            dead,
            exs,
            no_evidence,
        }
    }

    /// Phase 3: names the certificate groups. Call once, after all probes and domains.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        let n = self.parent.len();
        let mut best: Vec<u32> = vec![NONE; n];
        for i in 0..n as u32 {
            let r = self.find(i) as usize;
            let cand = i;
            let cur = best[r];
            let better = cur == NONE || {
                let (cc, bc) = (self.num_cert[cand as usize], self.num_cert[cur as usize]);
                cc > bc
                    || (cc == bc
                        && self.strs.get(self.node_str[cand as usize])
                            < self.strs.get(self.node_str[cur as usize]))
            };
            if better {
                best[r] = cand;
            }
        }
        self.group = (0..n as u32)
            .map(|i| {
                let r = self.find(i) as usize;
                self.node_str[best[r] as usize]
            })
            .collect();
        // Per-address summaries, so each exchanger of each domain combines a few numbers.
        let merge = |cur: u32, v: u32| match cur {
            NONE => v,
            DISAGREE => DISAGREE,
            c if c == v => c,
            _ => DISAGREE,
        };
        for a in 0..self.addrs.len() {
            let ev = &self.addrs[a];
            let mut cert = NONE;
            let mut max_nc = 0;
            for n in &ev.names {
                cert = merge(cert, self.group[n.node as usize]);
                max_nc = max_nc.max(self.num_cert[n.node as usize]);
            }
            let mut ban = NONE;
            for c in [ev.banner, ev.ehlo] {
                if let Cand::Usable(_, id) = c {
                    ban = merge(ban, id);
                }
            }
            let sm = &mut self.summ[a];
            sm.cert_id = cert;
            sm.banner_id = ban;
            sm.max_num_cert = max_nc;
        }
        self.str_company = vec![NONE; self.strs.strs.len()];
        let mut ids = std::mem::take(&mut self.id_strs);
        ids.sort_unstable();
        ids.dedup();
        for i in ids {
            if let Some(c) = self.data.company_of(self.strs.get(i)) {
                self.str_company[i as usize] = c as u32;
            }
        }
        self.counts.certificate_groups = best.iter().filter(|&&b| b != NONE).count() as u64;
        self.counts.addresses = self.addrs.len() as u64;
        self.counts.live_addresses = self.addrs.iter().filter(|a| a.live).count() as u64;
        self.counts.trusted_addresses = self
            .addrs
            .iter()
            .filter(|a| a.trusted == Some(true))
            .count() as u64;
        self.counts.domains = self.domains.len() as u64;
        self.finished = true;
    }

    /// The company of an interned provider ID (after `finish`).
    fn company(&self, id: u32) -> Option<usize> {
        match self.str_company.get(id as usize) {
            Some(&c) if c != NONE => Some(c as usize),
            _ => None,
        }
    }

    fn signals(&self, x: &Ex) -> Signals {
        // Certificate (METHOD.md 4) and banner/EHLO (METHOD.md 5): every usable ID of every
        // live address must agree (per-address agreement was settled in `finish`).
        let combine = |pick: fn(&Summary) -> u32, none: SignalOutcome| {
            let mut cur = NONE;
            for &a in &x.live {
                let v = pick(&self.summ[a as usize]);
                if v == NONE {
                    continue;
                }
                if v == DISAGREE || (cur != NONE && cur != v) {
                    return Err(SignalOutcome::IdsDisagree);
                }
                cur = v;
            }
            if cur == NONE { Err(none) } else { Ok(cur) }
        };
        let cert = combine(|e| e.cert_id, SignalOutcome::NoTrustedName);
        let ban = combine(|e| e.banner_id, SignalOutcome::NoUsableName);
        // MX name (METHOD.md 6).
        let mx = if x.mx == NONE {
            Err(SignalOutcome::NoId)
        } else {
            Ok(x.mx)
        };
        Signals {
            cert,
            banner: ban,
            mx,
        }
    }

    fn score(&self, x: &Ex, source: LabelSource) -> u64 {
        let ip = x
            .live
            .iter()
            .map(|&a| self.summ[a as usize].num_ip)
            .max()
            .unwrap_or(0) as u64;
        match source {
            LabelSource::Certificate => {
                let cert = x
                    .live
                    .iter()
                    .map(|&a| self.summ[a as usize].max_num_cert)
                    .max()
                    .unwrap_or(0) as u64;
                1.max(ip).max(cert)
            }
            LabelSource::Banner => {
                let mx = self.num_mx.get(&x.name).copied().unwrap_or(0) as u64;
                1.max(ip).max(mx)
            }
            LabelSource::Mx => 1,
        }
    }

    /// METHOD.md 7 checks for one exchanger's ID; returns (flags, suggested ID).
    fn checks(&self, x: &Ex, id: u32, source: LabelSource) -> (Vec<LabelFlag>, Option<String>) {
        if source == LabelSource::Mx {
            return (Vec::new(), None);
        }
        let company = self.company(id);
        // 1. AS check, only where some address has a known AS.
        let known: Vec<&AddrEv> = x
            .live
            .iter()
            .map(|&a| &self.addrs[a as usize])
            .filter(|e| !e.asns.is_empty())
            .collect();
        if !known.is_empty() {
            if let Some(c) = company {
                let comp = &self.data.companies[c];
                if !comp.asns.is_empty()
                    && known
                        .iter()
                        .any(|e| !e.asns.iter().any(|&a| comp.has_asn(a)))
                {
                    return (vec![LabelFlag::UnexpectedAs], None);
                }
            }
            for (si, s) in self.data.companies.iter().enumerate() {
                let Some(sug) = &s.suggest_id else { continue };
                if Some(si) == company {
                    continue;
                }
                if known.iter().all(|e| e.asns.iter().any(|&a| s.has_asn(a))) {
                    return (Vec::new(), Some(sug.clone()));
                }
            }
        }
        let Some(c) = company else {
            return (Vec::new(), None);
        };
        let comp = &self.data.companies[c];
        if comp.customer_hosts.is_empty() {
            return (Vec::new(), None);
        }
        // 2. Banner pattern check.
        if source == LabelSource::Banner {
            for &a in &x.live {
                let ev = &self.addrs[a as usize];
                for cand in [ev.banner, ev.ehlo] {
                    if let Cand::Usable(name, cid) = cand
                        && cid == id
                    {
                        let n = self.strs.get(name);
                        if comp
                            .customer_hosts
                            .iter()
                            .any(|h| h.matches(n, PatternScope::Banner))
                        {
                            return (vec![LabelFlag::CustomerHost], None);
                        }
                    }
                }
            }
        }
        // 3. Certificate pattern check.
        for &a in &x.live {
            for n in &self.addrs[a as usize].names {
                let name = self.strs.get(n.name);
                let name = name.strip_prefix("*.").unwrap_or(name);
                if comp
                    .customer_hosts
                    .iter()
                    .any(|h| h.matches(name, PatternScope::Certificate))
                {
                    return (vec![LabelFlag::CustomerHost], None);
                }
            }
        }
        (Vec::new(), None)
    }

    /// The result of one signal's ID for one exchanger (score, checks, company), without
    /// its trail; computed once per exchanger and signal, shared by the approaches.
    fn evaluate(
        &self,
        x: &Ex,
        id: u32,
        source: LabelSource,
        own_reg: Option<&str>,
    ) -> ExchangerResult {
        let score = self.score(x, source);
        // MX-sourced IDs get no checks (METHOD.md 7), so they are never marked checked.
        let checked = source != LabelSource::Mx && score < self.settings.threshold;
        let (flags, suggestion) = if checked {
            self.checks(x, id, source)
        } else {
            (Vec::new(), None)
        };
        let idstr = self.strs.get(id);
        let company = self
            .company(id)
            .map(|c| self.data.companies[c].name.clone());
        let suggested_company = suggestion
            .as_deref()
            .and_then(|s| self.data.company_of(s))
            .map(|c| self.data.companies[c].name.clone());
        ExchangerResult {
            id: Some(idstr.to_string()),
            source: Some(source),
            trail: Vec::new(),
            score: Some(score),
            checked,
            flags,
            suggestion,
            suggested_company,
            company,
            weight: 0.0,
            self_hosted: own_reg == Some(idstr),
        }
    }

    /// Evaluates every signal of an exchanger that gave an ID.
    fn evaluate_all(&self, x: &Ex, sig: &Signals, own_reg: Option<&str>) -> Evals {
        let ev =
            |r: Result<u32, SignalOutcome>, s| r.ok().map(|id| self.evaluate(x, id, s, own_reg));
        [
            ev(sig.cert, LabelSource::Certificate),
            ev(sig.banner, LabelSource::Banner),
            ev(sig.mx, LabelSource::Mx),
        ]
    }

    fn exchanger_result(
        &self,
        sig: &Signals,
        evals: &Evals,
        order: &[LabelSource],
    ) -> ExchangerResult {
        let mut trail = Vec::with_capacity(order.len());
        for &s in order {
            let (r, slot) = match s {
                LabelSource::Certificate => (sig.cert, 0),
                LabelSource::Banner => (sig.banner, 1),
                LabelSource::Mx => (sig.mx, 2),
            };
            match r {
                Ok(_) => {
                    trail.push(TrailStep {
                        source: s,
                        outcome: SignalOutcome::Ok,
                    });
                    if let Some(e) = &evals[slot] {
                        let mut res = e.clone();
                        res.trail = trail;
                        return res;
                    }
                    break;
                }
                Err(o) => trail.push(TrailStep {
                    source: s,
                    outcome: o,
                }),
            }
        }
        ExchangerResult {
            id: None,
            source: None,
            trail,
            score: None,
            checked: false,
            flags: Vec::new(),
            suggestion: None,
            suggested_company: None,
            company: None,
            weight: 0.0,
            self_hosted: false,
        }
    }

    fn approach_result(
        &self,
        w: &DomainWork,
        sigs: &[(Signals, Evals)],
        order: &[LabelSource],
    ) -> ApproachResult {
        let (exs, no_evidence) = match &w.work {
            Work::Final(s) => {
                return ApproachResult {
                    status: *s,
                    exchangers: Vec::new(),
                    providers: Vec::new(),
                    renormalised: false,
                    self_hosted: false,
                };
            }
            Work::Evidence {
                exs, no_evidence, ..
            } => (exs, *no_evidence),
        };
        debug_assert_eq!(exs.len(), sigs.len());
        let mut results: Vec<ExchangerResult> = sigs
            .iter()
            .map(|(s, e)| self.exchanger_result(s, e, order))
            .collect();
        let k = results.iter().filter(|r| r.id.is_some()).count();
        let mut providers: Vec<ProviderShare> = Vec::new();
        if k > 0 {
            let share = 1.0 / k as f64;
            for r in results.iter_mut().filter(|r| r.id.is_some()) {
                r.weight = share;
                let id = r.id.clone().unwrap_or_default();
                let credit = if r.suggestion.is_some() {
                    r.suggested_company
                        .clone()
                        .or_else(|| r.suggestion.clone())
                        .unwrap_or_default()
                } else if !r.flags.is_empty() {
                    "flagged".to_string()
                } else {
                    r.company.clone().unwrap_or_else(|| id.clone())
                };
                match providers
                    .iter_mut()
                    .find(|p| p.id == id && p.credit == credit)
                {
                    Some(p) => p.weight += share,
                    None => providers.push(ProviderShare {
                        id,
                        company: r.company.clone(),
                        weight: share,
                        credit,
                        self_hosted: r.self_hosted,
                    }),
                }
            }
        }
        let status = if k == 0 {
            LabelStatus::NoId
        } else if no_evidence {
            LabelStatus::NoSmtpEvidence
        } else {
            LabelStatus::Labelled
        };
        let self_hosted = !providers.is_empty() && providers.iter().all(|p| p.self_hosted);
        ApproachResult {
            status,
            renormalised: k > 0 && k < results.len(),
            exchangers: results,
            providers,
            self_hosted,
        }
    }

    /// The label record of domain `i` (in the order added).
    pub fn label(&self, i: usize) -> DomainLabel {
        assert!(self.finished, "label before finish");
        use LabelSource::{Banner, Certificate, Mx};
        let w = &self.domains[i];
        let own = w.reg_off.map(|o| &w.domain[o as usize..]);
        let sigs: Vec<(Signals, Evals)> = match &w.work {
            Work::Evidence { exs, .. } => exs
                .iter()
                .map(|x| {
                    let s = self.signals(x);
                    let e = self.evaluate_all(x, &s, own);
                    (s, e)
                })
                .collect(),
            Work::Final(_) => Vec::new(),
        };
        let approaches = Approaches {
            priority: self.approach_result(w, &sigs, &[Certificate, Banner, Mx]),
            mx_only: self.approach_result(w, &sigs, &[Mx]),
            certificate: self.approach_result(w, &sigs, &[Certificate, Mx]),
            banner: self.approach_result(w, &sigs, &[Banner, Mx]),
        };
        let chosen = approaches.get(self.settings.approach);
        let (primary_preference, dead, exchangers) = match &w.work {
            Work::Final(_) => (None, Vec::new(), Vec::new()),
            Work::Evidence {
                primary_preference,
                dead,
                exs,
                ..
            } => (
                *primary_preference,
                dead.clone(),
                exs.iter()
                    .map(|x| PrimaryExchanger {
                        name: self.strs.get(x.name).to_string(),
                        preference: x.preference,
                        live: x.live.iter().map(|&a| self.addrs[a as usize].ip).collect(),
                        implicit: x.implicit,
                    })
                    .collect(),
            ),
        };
        DomainLabel {
            domain: w.domain.to_string(),
            input: w.input.clone(),
            status: chosen.status,
            approach: self.settings.approach,
            dns_status: w.dns_status,
            registered_domain: w.reg_off.map(|o| w.domain[o as usize..].to_string()),
            primary_preference,
            dead_preferences: dead,
            exchangers,
            providers: chosen.providers.clone(),
            self_hosted: chosen.self_hosted,
            approaches,
        }
    }

    /// The suspicious claims of the batch (METHOD.md 7; issue 4 item 4), by address.
    /// The certificate groups that joined more than one registered domain, after
    /// [`Labeller::finish`]: the group's ID, its members (sorted, the ID among them) and the
    /// numCert of each member. These IDs name one provider (METHOD.md 4), so `eval` treats a
    /// member as the group's ID; the list is written into the label metadata.
    pub fn joined_groups(&self) -> Vec<CertGroup> {
        let mut by_group: BTreeMap<&str, Vec<(String, u32)>> = BTreeMap::new();
        for (node, g) in self.group.iter().enumerate() {
            by_group.entry(self.strs.get(*g)).or_default().push((
                self.strs.get(self.node_str[node]).to_string(),
                self.num_cert[node],
            ));
        }
        by_group
            .into_iter()
            .filter(|(_, m)| m.len() > 1)
            .map(|(id, mut members)| {
                members.sort();
                CertGroup {
                    id: id.to_string(),
                    members,
                }
            })
            .collect()
    }

    pub fn claims(&self) -> Vec<Claim> {
        assert!(self.finished, "claims before finish");
        let mut out = Vec::new();
        for (ev, sm) in self.addrs.iter().zip(&self.summ) {
            if !sm.live {
                continue;
            }
            let num_ip = sm.num_ip;
            let cert_ids: Vec<u32> = {
                let mut v: Vec<u32> = ev
                    .names
                    .iter()
                    .map(|n| self.group[n.node as usize])
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let cert_companies: Vec<Option<usize>> =
                cert_ids.iter().map(|&g| self.company(g)).collect();
            let outside = |c: usize| {
                let comp = &self.data.companies[c];
                !ev.asns.is_empty()
                    && !comp.asns.is_empty()
                    && !ev.asns.iter().any(|&a| comp.has_asn(a))
            };
            let mut emit = |claimed_in: &str, name: u32, id: u32, c: usize, reasons| {
                out.push(Claim {
                    ip: ev.ip,
                    claimed_in: claimed_in.to_string(),
                    claimed_name: self.strs.get(name).to_string(),
                    claimed_id: self.strs.get(id).to_string(),
                    claimed_company: self.data.companies[c].name.clone(),
                    reasons,
                    asns: ev.asns.to_vec(),
                    chain_trusted: ev.trusted,
                    chain_reason: if ev.trusted == Some(false) {
                        ev.reason
                    } else {
                        None
                    },
                    certificate_ids: cert_ids
                        .iter()
                        .map(|&g| self.strs.get(g).to_string())
                        .collect(),
                    domains: ev
                        .domains
                        .iter()
                        .map(|&d| self.domains[d as usize].domain.to_string())
                        .collect(),
                    domain_count: num_ip as u64,
                });
            };
            let mut banner_id = None;
            for (what, cand) in [("banner", ev.banner), ("ehlo", ev.ehlo)] {
                let Cand::Usable(name, id) = cand else {
                    continue;
                };
                if banner_id == Some(id) {
                    continue; // the EHLO repeats the banner's claim
                }
                banner_id = Some(id);
                let Some(c) = self.company(id) else {
                    continue;
                };
                let mut reasons = Vec::new();
                if outside(c) {
                    reasons.push(ClaimReason::AsOutsideCompany);
                }
                if ev.trusted == Some(false) {
                    reasons.push(ClaimReason::CertificateUntrusted);
                }
                if ev.trusted == Some(true)
                    && !cert_ids.is_empty()
                    && !cert_companies.contains(&Some(c))
                {
                    reasons.push(ClaimReason::CertificateNamesOther);
                }
                if !reasons.is_empty() {
                    emit(what, name, id, c, reasons);
                }
            }
            let mut done: Vec<usize> = Vec::new();
            for (gi, c) in cert_ids.iter().zip(&cert_companies) {
                let Some(c) = *c else { continue };
                if done.contains(&c) || !outside(c) {
                    continue;
                }
                done.push(c);
                let name = ev
                    .names
                    .iter()
                    .find(|n| self.group[n.node as usize] == *gi)
                    .map_or(*gi, |n| n.name);
                emit(
                    "certificate",
                    name,
                    *gi,
                    c,
                    vec![ClaimReason::AsOutsideCompany],
                );
            }
        }
        out
    }
}

/// Already lower case without a trailing dot or spaces (the resolve stage's form).
fn is_normal(s: &str) -> bool {
    !s.ends_with('.') && !s.bytes().any(|b| b.is_ascii_uppercase() || b == b' ')
}

/// Lower case, no trailing dot.
fn norm(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests;
