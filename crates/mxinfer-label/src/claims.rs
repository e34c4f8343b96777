//! Suspicious claims (METHOD.md 7, last paragraph): a banner, EHLO or certificate naming a known
//! company from an address outside that company's ASes, or with an untrusted certificate or one
//! that names someone else; listed by address with the evidence.

use crate::Labeller;
use crate::evidence::Cand;
use mxinfer_record::{Claim, ClaimReason};

impl Labeller {
    /// The suspicious claims of the batch (METHOD.md 7; issue 4 item 4), ordered by address.
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
            // The listed domains by name (the smallest ones: `primary::list_domain`), made
            // when the address has a claim.
            let mut listed: Option<Vec<String>> = None;
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
                    domains: listed
                        .get_or_insert_with(|| {
                            let mut v: Vec<String> =
                                ev.domains.iter().map(|d| d.to_string()).collect();
                            v.sort_unstable();
                            v
                        })
                        .clone(),
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
        // By address (stable: an address's claims keep the banner, EHLO, certificate order),
        // so the list does not depend on the order the probe records came in.
        out.sort_by_key(|c| c.ip);
        out
    }
}
