//! Judging a presented chain, separately from the handshake: browser-trusted or not (and why),
//! and whether the leaf names one of the exchanger names, evaluated on its own.
//!
//! Trust: the leaf must chain to a root of the set (Mozilla's through webpki-roots, or the
//! PEM file of `--roots`) for serverAuth, through the certificates the server sent plus the
//! optional `--intermediates` pool, with validity dates checked at the time of the probe.
//! The name is not part of trust (METHOD.md section 1).
//!
//! Name match: the leaf's subjectAltName dNSNames (wildcards only as the whole left-most
//! label, RFC 6125 6.4.3); when the leaf has no dNSName at all, its subject CN, as MTAs
//! commonly accept (browsers do not; the record keeps both facts apart anyway).

use mxinfer_record::{Certificate, ChainVerdict, UntrustedReason};
use rustls::pki_types::{CertificateDer, TrustAnchor, UnixTime};
use sha2::Digest;
use std::collections::HashMap;

/// How long a cached trust result stays valid (validity dates move on during long runs).
pub const TRUST_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(600);
/// Most cached trust results (the map is emptied when full).
pub const TRUST_CACHE_MAX: usize = 100_000;

type Trust = (bool, Option<UntrustedReason>, Option<String>);

/// Root set and intermediate pool of a run, and a cache of trust results: many addresses
/// present the very same chain (large providers), so the path is built and its signatures
/// checked once per chain (keyed by the SHA-256 over the chain's DER) for
/// [`TRUST_CACHE_TTL`]; `checked_at` then says when that was.
pub struct ChainJudge {
    anchors: Vec<TrustAnchor<'static>>,
    pool: Vec<CertificateDer<'static>>,
    roots_label: String,
    cache: std::sync::Mutex<HashMap<[u8; 32], (std::time::Instant, Trust, String)>>,
}

/// A root or intermediate certificate file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RootsError {
    #[error("reading {}", path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("parsing PEM certificates in {}", path.display())]
    Pem {
        path: std::path::PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("{}: no PEM certificate found", path.display())]
    Empty { path: std::path::PathBuf },
    /// Certificate `index` (from 0) of `source` (a file, or a label) is not a usable
    /// trust anchor.
    #[error("{origin}: unusable root (certificate {index}): {reason}")]
    Unusable {
        origin: String,
        index: usize,
        reason: String,
    },
}

fn read_pem_certs(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, RootsError> {
    use rustls::pki_types::pem::PemObject;
    let v: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|source| RootsError::Read {
            path: path.to_path_buf(),
            source,
        })?
        .collect::<Result<_, _>>()
        .map_err(|source| RootsError::Pem {
            path: path.to_path_buf(),
            source,
        })?;
    if v.is_empty() {
        return Err(RootsError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(v)
}

impl ChainJudge {
    /// Mozilla's roots (webpki-roots), or the certificates of `roots`; plus the optional pool.
    pub fn new(
        roots: Option<&std::path::Path>,
        intermediates: Option<&std::path::Path>,
    ) -> Result<Self, RootsError> {
        let (anchors, roots_label) = match roots {
            None => (
                webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                "mozilla".to_string(),
            ),
            Some(p) => {
                let certs = read_pem_certs(p)?;
                let mut a = Vec::new();
                for (index, c) in certs.iter().enumerate() {
                    let ta =
                        webpki::anchor_from_trusted_cert(c).map_err(|e| RootsError::Unusable {
                            origin: p.display().to_string(),
                            index,
                            reason: format!("{e:?}"),
                        })?;
                    a.push(ta.to_owned());
                }
                (a, p.display().to_string())
            }
        };
        let pool = match intermediates {
            None => Vec::new(),
            Some(p) => read_pem_certs(p)?,
        };
        Ok(ChainJudge {
            anchors,
            pool,
            roots_label,
            cache: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// A judge trusting exactly `roots` (DER), labelled `label`.
    pub fn from_roots(roots: &[CertificateDer<'_>], label: &str) -> Result<Self, RootsError> {
        let mut anchors = Vec::new();
        for (index, c) in roots.iter().enumerate() {
            let ta = webpki::anchor_from_trusted_cert(c).map_err(|e| RootsError::Unusable {
                origin: label.to_string(),
                index,
                reason: format!("{e:?}"),
            })?;
            anchors.push(ta.to_owned());
        }
        Ok(ChainJudge {
            anchors,
            pool: Vec::new(),
            roots_label: label.to_string(),
            cache: std::sync::Mutex::new(HashMap::new()),
        })
    }

    pub fn roots_label(&self) -> &str {
        &self.roots_label
    }

    /// The verdict on `chain` (DER, leaf first) with its summaries, for the exchanger `names`.
    pub fn judge(
        &self,
        chain: &[CertificateDer<'_>],
        summaries: &[Certificate],
        names: &[String],
        now: UnixTime,
        checked_at: String,
    ) -> ChainVerdict {
        let (name_match, matched_name) = match summaries.first() {
            Some(leaf) => match names.iter().find(|n| name_matches(leaf, n)) {
                Some(n) => (true, Some(n.clone())),
                None => (false, None),
            },
            None => (false, None),
        };
        let key: [u8; 32] = {
            let mut h = sha2::Sha256::new();
            for c in chain {
                h.update((c.len() as u64).to_be_bytes());
                h.update(c.as_ref());
            }
            h.finalize().into()
        };
        let cached = self.cache.lock().ok().and_then(|m| {
            m.get(&key)
                .filter(|(t, _, _)| t.elapsed() < TRUST_CACHE_TTL)
                .map(|(_, tr, at)| (tr.clone(), at.clone()))
        });
        let ((trusted, reason, detail), checked_at) = match cached {
            Some(hit) => hit,
            None => {
                let tr = self.trust(chain, summaries, now);
                if let Ok(mut m) = self.cache.lock() {
                    if m.len() >= TRUST_CACHE_MAX {
                        m.clear();
                    }
                    m.insert(
                        key,
                        (std::time::Instant::now(), tr.clone(), checked_at.clone()),
                    );
                }
                (tr, checked_at)
            }
        };
        ChainVerdict {
            trusted,
            reason,
            detail,
            name_match,
            matched_name,
            checked_at,
            roots: self.roots_label.clone(),
        }
    }

    fn trust(
        &self,
        chain: &[CertificateDer<'_>],
        summaries: &[Certificate],
        now: UnixTime,
    ) -> Trust {
        let Some(leaf_der) = chain.first() else {
            return (false, Some(UntrustedReason::NoCertificate), None);
        };
        let leaf_sum = summaries.first();
        if let Some(s) = leaf_sum
            && (s.version == 1 || s.version == 2)
        {
            return (
                false,
                Some(UntrustedReason::UnsupportedVersion),
                Some(format!("X.509 v{}", s.version)),
            );
        }
        let ee = match webpki::EndEntityCert::try_from(leaf_der) {
            Ok(ee) => ee,
            Err(e) => return (false, Some(map_error(&e, leaf_sum)), Some(format!("{e:?}"))),
        };
        let mut inter: Vec<CertificateDer<'_>> = chain[1..].to_vec();
        inter.extend(self.pool.iter().cloned());
        match ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.anchors,
            &inter,
            now,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        ) {
            Ok(_) => (true, None, None),
            Err(e) => (false, Some(map_error(&e, leaf_sum)), Some(format!("{e:?}"))),
        }
    }
}

fn map_error(e: &webpki::Error, leaf: Option<&Certificate>) -> UntrustedReason {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => UntrustedReason::Expired,
        E::CertNotValidYet { .. } => UntrustedReason::NotYetValid,
        E::UnknownIssuer => {
            if leaf.is_some_and(|l| l.self_signed) {
                UntrustedReason::SelfSigned
            } else {
                UntrustedReason::UnknownIssuer
            }
        }
        E::CaUsedAsEndEntity => UntrustedReason::CaAsLeaf,
        E::UnsupportedCertVersion => UntrustedReason::UnsupportedVersion,
        E::InvalidSignatureForPublicKey
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => UntrustedReason::BadSignature,
        E::RequiredEkuNotFoundContext(_) => UntrustedReason::WrongUsage,
        _ => {
            if leaf.is_some_and(|l| l.self_signed) {
                UntrustedReason::SelfSigned
            } else {
                UntrustedReason::Other
            }
        }
    }
}

pub use mxinfer_ingest::cert::name_matches;

/// The judge as ingest uses it for datasets without a verdict of their own.
impl mxinfer_ingest::trust::ChainJudging for ChainJudge {
    fn judge_chain(
        &self,
        chain: &[Vec<u8>],
        summaries: &[Certificate],
        names: &[String],
        at_unix: u64,
        checked_at: String,
    ) -> ChainVerdict {
        let chain: Vec<CertificateDer<'_>> = chain
            .iter()
            .map(|d| CertificateDer::from(d.as_slice()))
            .collect();
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at_unix));
        self.judge(&chain, summaries, names, at, checked_at)
    }

    fn roots_label(&self) -> &str {
        ChainJudge::roots_label(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(cn: Option<&str>, san: &[&str]) -> Certificate {
        Certificate {
            der: String::new(),
            sha256: String::new(),
            version: 3,
            subject: String::new(),
            subject_cn: cn.map(str::to_string),
            san_dns: san.iter().map(|s| s.to_string()).collect(),
            issuer: String::new(),
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            key_type: "ecdsa".into(),
            key_bits: None,
            self_signed: false,
            is_ca: false,
        }
    }

    #[test]
    fn names() {
        let l = leaf(
            Some("other.example"),
            &["mx.example.org", "*.mail.example.net"],
        );
        assert!(name_matches(&l, "MX.example.org."));
        assert!(name_matches(&l, "a.mail.example.net"));
        assert!(!name_matches(&l, "a.b.mail.example.net"));
        assert!(!name_matches(&l, "mail.example.net"));
        // CN ignored when SANs exist.
        assert!(!name_matches(&l, "other.example"));
        let cn_only = leaf(Some("mx.example.org"), &[]);
        assert!(name_matches(&cn_only, "mx.example.org"));
        assert!(!name_matches(&cn_only, "192.0.2.1"));
        // A bare wildcard over a TLD does not match.
        assert!(!name_matches(&leaf(None, &["*.org"]), "example.org"));
    }

    #[test]
    fn no_certificate() {
        let j = ChainJudge::new(None, None).unwrap();
        let v = j.judge(&[], &[], &[], UnixTime::now(), "t".into());
        assert!(!v.trusted);
        assert_eq!(v.reason, Some(UntrustedReason::NoCertificate));
        assert_eq!(v.roots, "mozilla");
    }

    fn root() -> (
        rcgen::KeyPair,
        rcgen::CertificateParams,
        CertificateDer<'static>,
    ) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "unit test root");
        let der = params.self_signed(&key).unwrap().der().clone();
        (key, params, der)
    }

    #[test]
    fn trusted_ca_as_leaf_and_cache() {
        let (rkey, rparams, rder) = root();
        let issuer = rcgen::Issuer::from_params(&rparams, &rkey);
        let j = ChainJudge::from_roots(std::slice::from_ref(&rder), "unit").unwrap();
        // A proper leaf: trusted, and the second verdict comes from the cache.
        let lkey = rcgen::KeyPair::generate().unwrap();
        let lparams = rcgen::CertificateParams::new(vec!["mx.example.org".to_string()]).unwrap();
        let leaf = lparams.signed_by(&lkey, &issuer).unwrap().der().clone();
        let chain = vec![leaf.clone()];
        let sums: Vec<_> = chain
            .iter()
            .map(|c| crate::probe::tls::summarize(c))
            .collect();
        let names = vec!["other.example".to_string(), "mx.example.org".to_string()];
        let v1 = j.judge(&chain, &sums, &names, UnixTime::now(), "t1".into());
        assert!(v1.trusted, "{v1:?}");
        assert_eq!(v1.matched_name.as_deref(), Some("mx.example.org"));
        let v2 = j.judge(&chain, &sums, &names[..1], UnixTime::now(), "t2".into());
        assert!(v2.trusted);
        assert_eq!(v2.checked_at, "t1", "cached trust keeps its time");
        assert!(!v2.name_match, "the name is judged every time");
        // A CA certificate presented as the leaf.
        let ckey = rcgen::KeyPair::generate().unwrap();
        let mut cparams =
            rcgen::CertificateParams::new(vec!["mx.example.org".to_string()]).unwrap();
        cparams.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_leaf = cparams.signed_by(&ckey, &issuer).unwrap().der().clone();
        let sums: Vec<_> = [ca_leaf.clone()]
            .iter()
            .map(|c| crate::probe::tls::summarize(c))
            .collect();
        let v = j.judge(&[ca_leaf], &sums, &names, UnixTime::now(), "t".into());
        assert!(!v.trusted);
        assert_eq!(v.reason, Some(UntrustedReason::CaAsLeaf));
    }

    #[test]
    fn self_signed_is_untrusted() {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["mx.example.org".to_string()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let der = cert.der().clone();
        let s = crate::probe::tls::summarize(&der);
        let j = ChainJudge::new(None, None).unwrap();
        let v = j.judge(
            &[der],
            &[s],
            &["mx.example.org".to_string()],
            UnixTime::now(),
            "t".into(),
        );
        assert!(!v.trusted);
        assert_eq!(v.reason, Some(UntrustedReason::SelfSigned));
        assert!(v.name_match);
    }
}
