//! Signals and scores: per primary exchanger, the certificate (METHOD.md 4), banner/EHLO (5)
//! and MX-name (6) IDs; each ID's score, checks and company (7); one approach's order of the
//! signals (10).

use crate::evidence::Summary;
use crate::primary::Ex;
use crate::{DISAGREE, Labeller, NONE};
use mxinfer_record::{ExchangerResult, LabelSource, SignalOutcome, TrailStep};

/// Per-exchanger signal results, independent of the approach.
pub(crate) struct Signals {
    pub(crate) cert: Result<u32, SignalOutcome>,
    pub(crate) banner: Result<u32, SignalOutcome>,
    pub(crate) mx: Result<u32, SignalOutcome>,
}

/// Per exchanger: the evaluated result of the certificate, banner and MX signals.
pub(crate) type Evals = [Option<ExchangerResult>; 3];

impl Labeller {
    /// The company of an interned provider ID (after `finish`).
    pub(crate) fn company(&self, id: u32) -> Option<usize> {
        match self.str_company.get(id as usize) {
            Some(&c) if c != NONE => Some(c as usize),
            _ => None,
        }
    }

    pub(crate) fn signals(&self, x: &Ex) -> Signals {
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
                let mx = self.num_mx.get(x.name as usize).copied().unwrap_or(0) as u64;
                1.max(ip).max(mx)
            }
            LabelSource::Mx => 1,
        }
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
    pub(crate) fn evaluate_all(&self, x: &Ex, sig: &Signals, own_reg: Option<&str>) -> Evals {
        let ev =
            |r: Result<u32, SignalOutcome>, s| r.ok().map(|id| self.evaluate(x, id, s, own_reg));
        [
            ev(sig.cert, LabelSource::Certificate),
            ev(sig.banner, LabelSource::Banner),
            ev(sig.mx, LabelSource::Mx),
        ]
    }

    pub(crate) fn exchanger_result(
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
}
