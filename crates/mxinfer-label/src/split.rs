//! From exchanges to the domain (METHOD.md 8): each approach's exchanger results split into
//! provider shares (weight 1/k, renormalised, credited to suggestions or the flagged row), and
//! the domain's label record with all four approaches (METHOD.md 10).

use crate::Labeller;
use crate::primary::{DomainWork, UnseenDomain, Work};
use crate::signals::{Evals, Signals};
use mxinfer_record::{
    Approach, ApproachResult, Approaches, COMPACT_KEEPS, DomainDnsView, DomainLabel,
    ExchangerResult, LabelSource, LabelStatus, PrimaryExchanger, ProviderShare,
};

impl Labeller {
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
        self.label_work(&self.domains[i])
    }

    /// The label of one resolve record after a counting pass
    /// ([`Labeller::count_domain_view`] over the same records, then [`Labeller::finish`]).
    pub fn label_view(&self, d: DomainDnsView<'_>) -> Result<DomainLabel, UnseenDomain> {
        Ok(self.label_work(&self.looked_up_work(d)?))
    }

    fn label_work(&self, w: &DomainWork) -> DomainLabel {
        assert!(self.finished, "label before finish");
        use LabelSource::{Banner, Certificate, Mx};
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
        // Every approach, or (compact) only the chosen one and MX-only.
        let order = |a: Approach| -> &[LabelSource] {
            match a {
                Approach::Priority => &[Certificate, Banner, Mx],
                Approach::MxOnly => &[Mx],
                Approach::Certificate => &[Certificate, Mx],
                Approach::Banner => &[Banner, Mx],
            }
        };
        let chosen = self.approach_result(w, &sigs, order(self.settings.approach));
        let others = |a: Approach| {
            (a != self.settings.approach && (!self.settings.compact || a == COMPACT_KEEPS))
                .then(|| self.approach_result(w, &sigs, order(a)))
        };
        let mut approaches = Approaches {
            priority: others(Approach::Priority),
            mx_only: others(Approach::MxOnly),
            certificate: others(Approach::Certificate),
            banner: others(Approach::Banner),
        };
        let (status, providers, self_hosted) =
            (chosen.status, chosen.providers.clone(), chosen.self_hosted);
        let slot = match self.settings.approach {
            Approach::Priority => &mut approaches.priority,
            Approach::MxOnly => &mut approaches.mx_only,
            Approach::Certificate => &mut approaches.certificate,
            Approach::Banner => &mut approaches.banner,
        };
        *slot = Some(chosen);
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
            status,
            approach: self.settings.approach,
            dns_status: w.dns_status,
            registered_domain: w.reg_off.map(|o| w.domain[o as usize..].to_string()),
            primary_preference,
            dead_preferences: dead,
            exchangers,
            providers,
            self_hosted,
            approaches,
        }
    }
}
