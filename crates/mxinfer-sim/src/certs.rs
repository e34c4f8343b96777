//! Certificates of the farm: a generated test CA (ECDSA P-256) and per-persona leaves.
//!
//! rcgen makes the v3 certificates. RSA keys and the X.509 v1 leaf (rcgen only writes v3)
//! come from the openssl crate (feature `legacy-tls`); without it, RSA personas get ECDSA
//! keys and the v1 persona is unavailable.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};

/// What went wrong making the test CA or a leaf: the step, for which certificate, and the
/// library's error as the source.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// rcgen failed one step (`what` names the step and the certificate, e.g. "CA key",
    /// "signing the leaf for mx.example").
    #[error("{what}")]
    Rcgen {
        what: String,
        #[source]
        source: rcgen::Error,
    },
    /// OpenSSL failed one step of an RSA key or the X.509 v1 leaf (`what` as above).
    #[cfg(feature = "legacy-tls")]
    #[error("{what}")]
    Openssl {
        what: String,
        #[source]
        source: openssl::error::ErrorStack,
    },
    /// The v1 kind was asked for without the `legacy-tls` feature (never returned with it).
    #[error("the X.509 v1 persona needs the legacy-tls feature (openssl)")]
    V1NeedsLegacyTls,
}

/// Wraps an rcgen error with the step that failed.
fn rc(what: impl Into<String>) -> impl FnOnce(rcgen::Error) -> CertError {
    let what = what.into();
    move |source| CertError::Rcgen { what, source }
}

/// Wraps an OpenSSL error with the step that failed.
#[cfg(feature = "legacy-tls")]
fn ossl(what: impl Into<String>) -> impl FnOnce(openssl::error::ErrorStack) -> CertError {
    let what = what.into();
    move |source| CertError::Openssl { what, source }
}

/// Which certificate a persona presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertKind {
    /// Issued by the test CA for the persona's name (chain: leaf, CA).
    Ca,
    /// Issued by the test CA, but the server sends only the leaf.
    LeafOnly,
    /// Self-signed for the persona's name.
    SelfSigned,
    /// Issued by the test CA, expired in 2021.
    Expired,
    /// Issued by the test CA for another name.
    WrongName,
    /// Issued by the test CA with the name only in the subject CN (no subjectAltName).
    CnOnly,
    /// X.509 version 1 (no extensions), issued by the test CA.
    V1,
}

/// The test CA: a root and an intermediate; leaves are issued by the intermediate and
/// servers send leaf + intermediate (except the `leaf-only` kind).
pub struct TestCa {
    /// The root (what `--roots` gets).
    pub cert_der: CertificateDer<'static>,
    pub cert_pem: String,
    /// The intermediate (what `--intermediates` gets to complete a leaf-only chain).
    pub inter_der: CertificateDer<'static>,
    pub inter_pem: String,
    key: KeyPair,
    params: CertificateParams,
}

/// A chain and its private key, ready for a TLS server.
#[derive(Clone)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key_pkcs8: Vec<u8>,
}

impl Identity {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()))
    }
}

impl TestCa {
    pub fn generate() -> Result<TestCa, CertError> {
        let key = KeyPair::generate().map_err(rc("CA key"))?;
        let ikey = KeyPair::generate().map_err(rc("intermediate key"))?;
        Self::build(key, ikey, "mxinfer farm test")
    }

    /// A CA derived from `seed` alone: Ed25519 keys from SHA-256 of the seed, fixed dates and
    /// serials from the public keys, and Ed25519 signatures (deterministic), so the same seed
    /// gives byte-identical root and intermediate PEM. Used by the simulated world, whose
    /// generator writes the root and whose farm issues the leaves.
    pub fn from_seed(seed: u64) -> Result<TestCa, CertError> {
        let key = ed25519_from_seed(seed, "root")?;
        let ikey = ed25519_from_seed(seed, "intermediate")?;
        Self::build(key, ikey, "mxinfer sim world public")
    }

    fn build(key: KeyPair, ikey: KeyPair, label: &str) -> Result<TestCa, CertError> {
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(rc("root parameters"))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, format!("{label} CA"));
        dn.push(DnType::OrganizationName, "mxinfer tests");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2045, 1, 1);
        let root = params
            .self_signed(&key)
            .map_err(rc(format!("self-signing the root {label:?} CA")))?;
        let mut iparams =
            CertificateParams::new(Vec::<String>::new()).map_err(rc("intermediate parameters"))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, format!("{label} intermediate"));
        dn.push(DnType::OrganizationName, "mxinfer tests");
        iparams.distinguished_name = dn;
        iparams.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        iparams.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        iparams.use_authority_key_identifier_extension = true;
        iparams.not_before = rcgen::date_time_ymd(2020, 1, 1);
        iparams.not_after = rcgen::date_time_ymd(2045, 1, 1);
        let issuer = Issuer::from_params(&params, &key);
        let inter = iparams
            .signed_by(&ikey, &issuer)
            .map_err(rc(format!("signing the {label:?} intermediate")))?;
        Ok(TestCa {
            cert_pem: root.pem(),
            cert_der: root.der().clone(),
            inter_pem: inter.pem(),
            inter_der: inter.der().clone(),
            key: ikey,
            params: iparams,
        })
    }

    /// A leaf for `name` of the given kind; `rsa` asks for an RSA 2048 key.
    pub fn identity(&self, kind: CertKind, name: &str, rsa: bool) -> Result<Identity, CertError> {
        self.identity_names(kind, &[name.to_string()], rsa)
    }

    /// A leaf for `names` (the first is also the CN) of the given kind.
    pub fn identity_names(
        &self,
        kind: CertKind,
        names: &[String],
        rsa: bool,
    ) -> Result<Identity, CertError> {
        let name = names.first().map(String::as_str).unwrap_or("unnamed.test");
        if kind == CertKind::V1 {
            return self.v1_identity(name);
        }
        let key = leaf_key(rsa, name)?;
        let (sans, cn) = match kind {
            CertKind::WrongName => (
                vec!["other-host.wrong.test".to_string()],
                "other-host.wrong.test",
            ),
            CertKind::CnOnly => (Vec::new(), name),
            _ => (names.to_vec(), name),
        };
        let mut params =
            CertificateParams::new(sans).map_err(rc(format!("leaf parameters for {name}")))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        if kind == CertKind::Expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        } else {
            params.not_before = rcgen::date_time_ymd(2024, 1, 1);
            params.not_after = rcgen::date_time_ymd(2044, 1, 1);
        }
        let cert = if kind == CertKind::SelfSigned {
            params
                .self_signed(&key)
                .map_err(rc(format!("self-signing the leaf for {name}")))?
        } else {
            let issuer = Issuer::from_params(&self.params, &self.key);
            params
                .signed_by(&key, &issuer)
                .map_err(rc(format!("signing the leaf for {name}")))?
        };
        let chain = match kind {
            CertKind::SelfSigned | CertKind::LeafOnly => vec![cert.der().clone()],
            _ => vec![cert.der().clone(), self.inter_der.clone()],
        };
        Ok(Identity {
            chain,
            key_pkcs8: key.serialize_der(),
        })
    }

    #[cfg(not(feature = "legacy-tls"))]
    fn v1_identity(&self, _name: &str) -> Result<Identity, CertError> {
        Err(CertError::V1NeedsLegacyTls)
    }

    /// An X.509 v1 leaf (no extensions) built with OpenSSL and signed by the CA key.
    #[cfg(feature = "legacy-tls")]
    fn v1_identity(&self, name: &str) -> Result<Identity, CertError> {
        use openssl::asn1::Asn1Time;
        use openssl::bn::BigNum;
        use openssl::ec::{EcGroup, EcKey};
        use openssl::hash::MessageDigest;
        use openssl::nid::Nid;
        use openssl::pkey::PKey;
        use openssl::x509::{X509, X509NameBuilder};
        let build = || -> Result<Identity, openssl::error::ErrorStack> {
            let ca_key = PKey::private_key_from_pem(self.key.serialize_pem().as_bytes())?;
            let ca_cert = X509::from_der(&self.inter_der)?;
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            let leaf_key = PKey::from_ec_key(EcKey::generate(&group)?)?;
            let mut nb = X509NameBuilder::new()?;
            nb.append_entry_by_nid(Nid::COMMONNAME, name)?;
            let subject = nb.build();
            let mut b = X509::builder()?;
            b.set_version(0)?;
            let serial = BigNum::from_u32(0x1001)?.to_asn1_integer()?;
            b.set_serial_number(&serial)?;
            b.set_subject_name(&subject)?;
            b.set_issuer_name(ca_cert.subject_name())?;
            b.set_pubkey(&leaf_key)?;
            let nb = Asn1Time::from_unix(1_704_067_200)?; // 2024-01-01
            b.set_not_before(&nb)?;
            let na = Asn1Time::from_unix(2_335_219_200)?; // 2044-01-01
            b.set_not_after(&na)?;
            b.sign(&ca_key, MessageDigest::sha256())?;
            let cert = b.build();
            Ok(Identity {
                chain: vec![CertificateDer::from(cert.to_der()?), self.inter_der.clone()],
                key_pkcs8: leaf_key.private_key_to_pkcs8()?,
            })
        };
        build().map_err(ossl(format!("building the X.509 v1 leaf for {name}")))
    }
}

/// The PKCS#8 v1 wrapping of an Ed25519 secret (RFC 8410), before the 32 secret bytes
/// (hex 302e020100300506032b657004220420).
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// An Ed25519 key pair whose secret is SHA-256(domain tag, seed).
fn ed25519_from_seed(seed: u64, tag: &str) -> Result<KeyPair, CertError> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"mxinfer-sim-ca/");
    h.update(tag.as_bytes());
    h.update(seed.to_be_bytes());
    let secret = h.finalize();
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    der.extend_from_slice(&secret);
    KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(der), &rcgen::PKCS_ED25519)
        .map_err(rc(format!("Ed25519 key from seed {seed} ({tag})")))
}

/// The key of the leaf for `name`: RSA 2048 (`rsa`) or ECDSA P-256.
#[cfg(feature = "legacy-tls")]
fn leaf_key(rsa: bool, name: &str) -> Result<KeyPair, CertError> {
    if rsa {
        let pem = openssl::rsa::Rsa::generate(2048)
            .and_then(openssl::pkey::PKey::from_rsa)
            .and_then(|k| k.private_key_to_pem_pkcs8())
            .map_err(ossl(format!("RSA key for {name}")))?;
        // PEM is ASCII: the lossy conversion never replaces anything.
        return KeyPair::from_pem(&String::from_utf8_lossy(&pem))
            .map_err(rc(format!("loading the RSA key for {name}")));
    }
    KeyPair::generate().map_err(rc(format!("leaf key for {name}")))
}

/// The key of the leaf for `name`: ECDSA P-256 (RSA needs the `legacy-tls` feature).
#[cfg(not(feature = "legacy-tls"))]
fn leaf_key(_rsa: bool, name: &str) -> Result<KeyPair, CertError> {
    KeyPair::generate().map_err(rc(format!("leaf key for {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ca_is_reproducible_and_issues_multi_name_leaves() {
        let a = TestCa::from_seed(7).unwrap();
        let b = TestCa::from_seed(7).unwrap();
        assert_eq!(a.cert_pem, b.cert_pem);
        assert_eq!(a.inter_pem, b.inter_pem);
        assert_ne!(a.cert_pem, TestCa::from_seed(8).unwrap().cert_pem);
        let names = vec![
            "mx.google.com".to_string(),
            "*.aspmx.l.google.com".to_string(),
        ];
        let id = a.identity_names(CertKind::Ca, &names, false).unwrap();
        assert_eq!(id.chain.len(), 2);
        let (_, leaf) = x509_parser::parse_x509_certificate(&id.chain[0]).unwrap();
        let san = leaf.subject_alternative_name().unwrap().unwrap();
        assert_eq!(san.value.general_names.len(), 2);
    }
}
