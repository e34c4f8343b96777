//! The batch counts as plain data (METHOD.md 2, 7): what phase 2 adds up over every domain
//! and phase 3 and the labels read. Each part is a sum over domains (and the claim lists a
//! "smallest 100" over domains), so counts made apart over any split of the resolve records
//! merge into exactly the counts of the whole ([`BatchCounts::merge`]: associative and
//! commutative), and a labeller given the merged counts ([`Labeller::import_counts`])
//! labels as if it had counted every domain itself.

use crate::{CLAIM_DOMAINS_LISTED, Labeller};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The batch counts of some domains. Keys are sorted, entries with a count of 0 are left
/// out, so two equal batches give equal values (and equal serialisations).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchCounts {
    /// Domains counted.
    pub domains: u64,
    /// Domains whose primary preference passed over a better one without a live address.
    pub dead_primary_fallbacks: u64,
    /// numIP: per live address, the domains whose primary set uses it.
    pub num_ip: BTreeMap<IpAddr, u32>,
    /// numMX: per exchanger name (lower case, no trailing dot), the domains with it in
    /// their primary set.
    pub num_mx: BTreeMap<String, u32>,
    /// numCert: per registered domain named on a trusted certificate, the domains whose
    /// primary set has an address presenting it.
    pub num_cert: BTreeMap<String, u32>,
    /// Per address, the smallest [`CLAIM_DOMAINS_LISTED`] names of the domains counted in
    /// its numIP (a domain given twice is listed twice), sorted: the domains a claim lists.
    pub claim_domains: BTreeMap<IpAddr, Vec<String>>,
}

impl BatchCounts {
    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &BatchCounts) {
        self.domains += other.domains;
        self.dead_primary_fallbacks += other.dead_primary_fallbacks;
        for (k, v) in &other.num_ip {
            *self.num_ip.entry(*k).or_default() += v;
        }
        for (k, v) in &other.num_mx {
            *self.num_mx.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.num_cert {
            *self.num_cert.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.claim_domains {
            let list = self.claim_domains.entry(*k).or_default();
            list.extend(v.iter().cloned());
            list.sort_unstable();
            list.truncate(CLAIM_DOMAINS_LISTED);
        }
    }
}

/// Merged counts that do not fit this labeller's evidence: an address counted that no
/// evidence given to it has (the counts come from other probe records).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the counts name address {ip}, which the labeller has no evidence of (counts and evidence of different batches)"
)]
pub struct CountsMismatch {
    pub ip: IpAddr,
}

impl Labeller {
    /// Phase 2's result as plain data: the counts of the domains counted so far (by
    /// [`Labeller::count_domain_view`] or [`Labeller::add_domain_view`]).
    pub fn export_counts(&self) -> BatchCounts {
        let mut c = BatchCounts {
            domains: self.domains.len() as u64 + self.counted_domains,
            dead_primary_fallbacks: self.counts.dead_primary_fallbacks,
            ..BatchCounts::default()
        };
        for (a, sm) in self.summ.iter().enumerate() {
            if sm.num_ip == 0 {
                continue;
            }
            let ev = &self.addrs[a];
            c.num_ip.insert(ev.ip, sm.num_ip);
            let mut list: Vec<String> = ev.domains.iter().map(|d| d.to_string()).collect();
            list.sort_unstable();
            c.claim_domains.insert(ev.ip, list);
        }
        for (name, &n) in self.num_mx.iter().enumerate() {
            if n > 0 {
                c.num_mx.insert(self.strs.get(name as u32).to_string(), n);
            }
        }
        for (&reg, &n) in &self.num_cert_of {
            if n > 0 {
                c.num_cert.insert(self.strs.get(reg).to_string(), n);
            }
        }
        c
    }

    /// Replaces the counts of phase 2 with `merged` (the counts of the whole batch, merged
    /// from the parts counted apart). Call before [`Labeller::finish`]. Names this labeller
    /// never saw are not needed by it (no domain it labels uses them) and are skipped; the
    /// records it labels must have been counted by it first, so their names are known
    /// ([`Labeller::label_view`] reports any that were not).
    ///
    /// `merged.num_mx` may leave out the names counted once in the whole batch (most names:
    /// a self-hosted domain's own exchanger): a name it does not give keeps this labeller's
    /// own count, which is that one domain's if this labeller labels it. So a runner ships
    /// only the shared names, which grow with providers, not with domains.
    pub fn import_counts(&mut self, merged: &BatchCounts) -> Result<(), CountsMismatch> {
        assert!(!self.finished, "import_counts after finish");
        for (sm, ev) in self.summ.iter_mut().zip(self.addrs.iter_mut()) {
            sm.num_ip = 0;
            ev.domains.clear();
            ev.dmax = 0;
        }
        for (ip, &n) in &merged.num_ip {
            let Some(&a) = self.addr_index.get(ip) else {
                return Err(CountsMismatch { ip: *ip });
            };
            self.summ[a as usize].num_ip = n;
        }
        for (ip, list) in &merged.claim_domains {
            let Some(&a) = self.addr_index.get(ip) else {
                return Err(CountsMismatch { ip: *ip });
            };
            for d in list.iter().take(CLAIM_DOMAINS_LISTED) {
                self.list_domain(a, d);
            }
        }
        for (name, &n) in &merged.num_mx {
            if let Some(i) = self.strs.find(name) {
                let i = i as usize;
                if self.num_mx.len() <= i {
                    self.num_mx.resize(i + 1, 0);
                }
                self.num_mx[i] = n;
            }
        }
        self.num_cert_of.clear();
        for (reg, &n) in &merged.num_cert {
            if let Some(i) = self.strs.find(reg) {
                self.num_cert_of.insert(i, n);
            }
        }
        // `finish` counts the kept domains (if any) and the counted ones.
        self.counted_domains = merged.domains.saturating_sub(self.domains.len() as u64);
        self.counts.dead_primary_fallbacks = merged.dead_primary_fallbacks;
        Ok(())
    }
}
