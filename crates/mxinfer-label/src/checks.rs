//! The misidentification checks (METHOD.md 7), run in order below the score threshold: the AS
//! check, the banner pattern check, the certificate pattern check.

use crate::Labeller;
use crate::data::PatternScope;
use crate::evidence::{AddrEv, Cand};
use crate::primary::Ex;
use mxinfer_record::{LabelFlag, LabelSource};

impl Labeller {
    /// METHOD.md 7 checks for one exchanger's ID; returns (flags, suggested ID).
    pub(crate) fn checks(
        &self,
        x: &Ex,
        id: u32,
        source: LabelSource,
    ) -> (Vec<LabelFlag>, Option<String>) {
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
}
