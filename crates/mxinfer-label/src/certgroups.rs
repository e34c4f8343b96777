//! Certificate groups (METHOD.md 4): the registered domains on one trusted certificate are
//! joined (union-find); phase 3 names each group after its most popular member (ties: the
//! lexicographically smaller), then settles the per-address summaries and the companies.

use crate::evidence::Cand;
use crate::{DISAGREE, Labeller, NONE};
use std::collections::BTreeMap;

/// A certificate group of more than one registered domain (defined with the schema: it is
/// written in the label run's metadata).
pub use mxinfer_record::CertGroup;

impl Labeller {
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

    /// Phase 3: names the certificate groups. Call once, after all probes and domains.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        // The registered domains on the kept records' trusted certificates, joined per
        // certificate. Done here, not as the records come, so a record that another record
        // of its address replaced leaves nothing behind.
        for a in 0..self.addrs.len() {
            for j in 0..self.addrs[a].names.len() {
                let n = self.node(self.addrs[a].names[j].reg);
                self.addrs[a].names[j].node = n;
            }
            for j in 1..self.addrs[a].names.len() {
                let (x, y) = (self.addrs[a].names[0].node, self.addrs[a].names[j].node);
                self.union(x, y);
            }
        }
        for (n, reg) in self.node_str.iter().enumerate() {
            self.num_cert[n] = self.num_cert_of.get(reg).copied().unwrap_or(0);
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
        self.str_company = vec![NONE; self.strs.len()];
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
        self.counts.domains = self.domains.len() as u64 + self.counted_domains;
        self.finished = true;
    }

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
}
