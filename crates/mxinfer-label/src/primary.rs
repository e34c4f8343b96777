//! The primary set of a domain (METHOD.md 2): phase 2, each resolve record reduced to its
//! primary exchangers and their live addresses; the batch counts numIP, numMX and numCert
//! (METHOD.md 7) are updated once per domain.

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

    /// Lists domain `idx` (named `name`, not yet in `self.domains`) among the domains a claim
    /// of address `a` names: the [`CLAIM_DOMAINS_LISTED`] smallest names, whatever the order
    /// the domains come in. `dmax` keeps the position of the largest listed one, so most
    /// domains of a busy address cost one comparison.
    fn list_domain(&mut self, a: u32, idx: u32, name: &str) {
        let domains = &self.domains;
        let ev = &mut self.addrs[a as usize];
        let full = ev.domains.len() == CLAIM_DOMAINS_LISTED;
        if full {
            let max = &*domains[ev.domains[ev.dmax as usize] as usize].domain;
            if name >= max {
                return;
            }
            ev.domains[ev.dmax as usize] = idx;
        } else {
            ev.domains.push(idx);
            if ev.domains.len() < CLAIM_DOMAINS_LISTED {
                return;
            }
        }
        // The position of the largest name listed (the new domain is not in `domains` yet).
        let name_at = |j: usize| -> &str {
            let d = ev.domains[j];
            if d == idx {
                name
            } else {
                &domains[d as usize].domain
            }
        };
        let mut best = 0;
        for j in 1..ev.domains.len() {
            if name_at(j) > name_at(best) {
                best = j;
            }
        }
        ev.dmax = best as u8;
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
        let domain: &str = &d.domain;
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
                self.list_domain(a, idx, domain);
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
        Work::Evidence {
            primary_preference: pref,
            dead,
            exs,
            no_evidence,
        }
    }
}
