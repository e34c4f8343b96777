//! The primary set of a domain (METHOD.md 2): phase 2, each resolve record reduced to its
//! primary exchangers and their live addresses; the batch counts numIP, numMX and numCert
//! (METHOD.md 7) are updated once per domain.
//!
//! Two ways to run it: [`Labeller::add_domain_view`] keeps each domain's compact form for
//! [`Labeller::label`] (memory grows with domains); [`Labeller::count_domain_view`] only
//! counts, and after [`Labeller::finish`] the same records are read again and labelled one
//! by one with [`Labeller::label_view`] (memory grows with addresses, names and
//! certificates, not with domains; `label_view` takes `&self`, so several threads label at
//! once).

use crate::evidence::{is_normal, norm};
use crate::{CLAIM_DOMAINS_LISTED, Labeller, NONE};
use mxinfer_record::{DnsStatus, DomainDns, DomainDnsView, ExchangerFlag, InputRef, LabelStatus};
use std::net::IpAddr;

/// One primary exchanger of a domain, compact.
pub(crate) struct Ex {
    pub(crate) name: u32,
    /// The MX-name ID (NONE: none; IP literals have none).
    pub(crate) mx: u32,
    pub(crate) preference: u16,
    pub(crate) implicit: bool,
    pub(crate) live: Vec<u32>,
}

pub(crate) enum Work {
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

pub(crate) struct DomainWork {
    pub(crate) domain: Box<str>,
    pub(crate) input: InputRef,
    pub(crate) dns_status: DnsStatus,
    /// Byte offset of the registered domain within `domain`.
    pub(crate) reg_off: Option<u16>,
    pub(crate) work: Work,
}

impl Labeller {
    /// Phase 2: one resolve record.
    pub fn add_domain(&mut self, d: &DomainDns) {
        self.add_domain_view(DomainDnsView::from(d));
    }

    /// Phase 2: one resolve record, read as the label stage's view; its compact form is kept
    /// for [`Labeller::label`].
    pub fn add_domain_view(&mut self, d: DomainDnsView<'_>) {
        assert!(!self.finished, "add_domain after finish");
        let w = self.counted_work(d);
        self.domains.push(w);
    }

    /// Phase 2 of a two-pass run: counts one resolve record's contribution (numIP, numMX,
    /// numCert, the domains a claim lists) and keeps nothing of it. After
    /// [`Labeller::finish`], [`Labeller::label_view`] labels the same records.
    pub fn count_domain_view(&mut self, d: DomainDnsView<'_>) {
        assert!(!self.finished, "count_domain after finish");
        self.counted_domains += 1;
        // Only the primary set counts: no copy of the name, no registered domain of it.
        let Some(pre) = self.pre_primary(&d) else {
            return; // null MX, no mail, DNS failure: nothing to count
        };
        let names = self.interned_primary_names(&d, &pre);
        let work = self.primary_set(&d, pre, &names);
        self.count(&work, &d.domain);
    }

    /// The interned name and registered domain of each exchanger at the primary preference
    /// (`None` for the others).
    fn interned_primary_names(
        &mut self,
        d: &DomainDnsView<'_>,
        p: &PrePrimary,
    ) -> Vec<Option<(u32, Option<u32>)>> {
        d.exchangers
            .iter()
            .map(|e| {
                (Some(e.preference) == p.pref).then(|| {
                    if is_normal(&e.name) {
                        self.intern_name(&e.name)
                    } else {
                        self.intern_name(&norm(&e.name))
                    }
                })
            })
            .collect()
    }

    /// The compact form of one domain, its contributions counted.
    fn counted_work(&mut self, d: DomainDnsView<'_>) -> DomainWork {
        let pre = self.pre_primary(&d);
        let names = match &pre {
            Some(p) => self.interned_primary_names(&d, p),
            None => Vec::new(),
        };
        let w = self.work(d, pre, &names);
        self.count(&w.work, &w.domain);
        w
    }

    /// The compact form of one domain for labelling after a counting pass: every name it
    /// needs was interned by [`Labeller::count_domain_view`]; a record that pass did not see
    /// is [`UnseenDomain`].
    pub(crate) fn looked_up_work(&self, d: DomainDnsView<'_>) -> Result<DomainWork, UnseenDomain> {
        let pre = self.pre_primary(&d);
        let mut names = Vec::new();
        if let Some(p) = &pre {
            for e in &d.exchangers {
                if Some(e.preference) != p.pref {
                    names.push(None);
                    continue;
                }
                let n = if is_normal(&e.name) {
                    self.look_up_name(&e.name)
                } else {
                    self.look_up_name(&norm(&e.name))
                };
                match n {
                    Some(n) => names.push(Some(n)),
                    None => {
                        return Err(UnseenDomain {
                            domain: d.domain.to_string(),
                        });
                    }
                }
            }
        }
        Ok(self.work(d, pre, &names))
    }

    /// The compact form: the final status, or the primary set (`names`: the interned name and
    /// registered domain of each exchanger at the primary preference, `None` for the others).
    fn work(
        &self,
        d: DomainDnsView<'_>,
        pre: Option<PrePrimary>,
        names: &[Option<(u32, Option<u32>)>],
    ) -> DomainWork {
        let reg_off = self
            .psl
            .registered(&d.domain)
            .map(|r| (d.domain.len() - r.len()) as u16);
        let work = match (d.status, pre) {
            (DnsStatus::NullMx, _) => Work::Final(LabelStatus::NullMx),
            (DnsStatus::NoMail, _) => Work::Final(LabelStatus::NoMail),
            (
                DnsStatus::Nxdomain
                | DnsStatus::Servfail
                | DnsStatus::Refused
                | DnsStatus::Timeout
                | DnsStatus::Error,
                _,
            ) => Work::Final(LabelStatus::DnsFailed),
            (DnsStatus::Ok | DnsStatus::NoMx, Some(pre)) => self.primary_set(&d, pre, names),
            (DnsStatus::Ok | DnsStatus::NoMx, None) => unreachable!("pre_primary of an ok record"),
        };
        DomainWork {
            domain: d.domain.into_owned().into_boxed_str(),
            input: d.input,
            dns_status: d.status,
            reg_off,
            work,
        }
    }

    /// The batch counts of one domain (once per domain), and its place in the claims' lists.
    fn count(&mut self, w: &Work, domain: &str) {
        let Work::Evidence { dead, exs, .. } = w else {
            return;
        };
        if !dead.is_empty() {
            self.counts.dead_primary_fallbacks += 1;
        }
        let mut seen_addr = std::mem::take(&mut self.scratch_addr);
        let mut seen_node = std::mem::take(&mut self.scratch_node);
        seen_addr.clear();
        seen_node.clear();
        for x in exs {
            let i = x.name as usize;
            if self.num_mx.len() <= i {
                self.num_mx.resize(i + 1, 0);
            }
            self.num_mx[i] += 1;
            for &a in &x.live {
                if seen_addr.contains(&a) {
                    continue;
                }
                seen_addr.push(a);
                let sm = &mut self.summ[a as usize];
                sm.num_ip += 1;
                let has_names = sm.has_names;
                self.list_domain(a, domain);
                if has_names {
                    for n in &self.addrs[a as usize].names {
                        if !seen_node.contains(&n.reg) {
                            seen_node.push(n.reg);
                        }
                    }
                }
            }
        }
        for &reg in &seen_node {
            *self.num_cert_of.entry(reg).or_default() += 1;
        }
        self.scratch_addr = seen_addr;
        self.scratch_node = seen_node;
    }

    /// Lists `name` among the domains a claim of address `a` names: the
    /// [`CLAIM_DOMAINS_LISTED`] smallest names, whatever the order the domains come in.
    /// `dmax` keeps the position of the largest listed one, so most domains of a busy address
    /// cost one comparison.
    pub(crate) fn list_domain(&mut self, a: u32, name: &str) {
        let ev = &mut self.addrs[a as usize];
        if ev.domains.len() == CLAIM_DOMAINS_LISTED {
            if name >= &*ev.domains[ev.dmax as usize] {
                return;
            }
            ev.domains[ev.dmax as usize] = name.into();
        } else {
            ev.domains.push(name.into());
            if ev.domains.len() < CLAIM_DOMAINS_LISTED {
                return;
            }
        }
        let mut best = 0;
        for j in 1..ev.domains.len() {
            if ev.domains[j] > ev.domains[best] {
                best = j;
            }
        }
        ev.dmax = best as u8;
    }

    /// What the primary set of an `ok`/`no-mx` record rests on: the live addresses of each
    /// exchanger, the primary preference, the dead better preferences (None for a record
    /// without exchangers to label).
    fn pre_primary(&self, d: &DomainDnsView<'_>) -> Option<PrePrimary> {
        if !matches!(d.status, DnsStatus::Ok | DnsStatus::NoMx) {
            return None;
        }
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
        Some(PrePrimary {
            live,
            pref,
            no_evidence,
            dead,
        })
    }

    /// METHOD.md 2: the primary set.
    fn primary_set(
        &self,
        d: &DomainDnsView<'_>,
        pre: PrePrimary,
        names: &[Option<(u32, Option<u32>)>],
    ) -> Work {
        let mut exs = Vec::new();
        for ((e, l), n) in d.exchangers.iter().zip(pre.live).zip(names) {
            let Some((name, reg)) = *n else {
                continue; // not at the primary preference
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
        Work::Evidence {
            primary_preference: pre.pref,
            dead: pre.dead,
            exs,
            no_evidence: pre.no_evidence,
        }
    }
}

/// What the primary set rests on (see [`Labeller::pre_primary`]).
struct PrePrimary {
    live: Vec<Vec<u32>>,
    pref: Option<u16>,
    no_evidence: bool,
    dead: Vec<u16>,
}

/// A resolve record given to [`Labeller::label_view`] that the counting pass did not see
/// (one of its primary exchangers was never counted): the two passes read different input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{domain}: not seen by the counting pass (the input changed between the two reads)")]
pub struct UnseenDomain {
    pub domain: String,
}
