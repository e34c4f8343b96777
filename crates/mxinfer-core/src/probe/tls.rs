//! TLS capture: a rustls client that accepts any certificate but records the chain, and
//! certificate summaries (x509-parser).
//!
//! The danger is fenced off by name: [`dangerous::RecordingVerifier`] accepts every chain
//! (judging it is `verify`'s job, separately and after the fact) but still checks the
//! handshake signatures with the provider's algorithms, so the recorded chain is the one whose
//! key the server actually holds.

use mxinfer_record::Certificate;
use rustls::pki_types::CertificateDer;
use sha2::Digest;
use std::sync::{Arc, Mutex};

pub mod dangerous {
    //! A certificate verifier that verifies nothing about the chain. Only for recording.
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};
    use std::sync::{Arc, Mutex};

    /// Accepts any server chain and stores it (leaf first) in `seen`; checks the handshake
    /// signatures against the leaf's key.
    #[derive(Debug)]
    pub struct RecordingVerifier {
        pub provider: Arc<CryptoProvider>,
        pub seen: Arc<Mutex<Vec<CertificateDer<'static>>>>,
    }

    impl RecordingVerifier {
        /// The handshake signature checked against the leaf's key as x509-parser reads it:
        /// for leaves webpki refuses to parse (X.509 v1), whose key is still a key. `None`
        /// when the signature does not verify with any algorithm of the scheme.
        fn verify_raw(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Option<HandshakeSignatureValid> {
            let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
            let key = parsed.public_key().subject_public_key.data.as_ref();
            let algs = self
                .provider
                .signature_verification_algorithms
                .mapping
                .iter()
                .find(|(scheme, _)| *scheme == dss.scheme)?
                .1;
            algs.iter()
                .any(|a| a.verify_signature(key, message, dss.signature()).is_ok())
                .then(HandshakeSignatureValid::assertion)
        }
    }

    impl ServerCertVerifier for RecordingVerifier {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            let mut chain = Vec::with_capacity(1 + intermediates.len());
            chain.push(end_entity.clone().into_owned());
            chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
            if let Ok(mut s) = self.seen.lock() {
                *s = chain;
            }
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
            .or_else(|e| self.verify_raw(message, cert, dss).ok_or(e))
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
            .or_else(|e| self.verify_raw(message, cert, dss).ok_or(e))
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
}

/// Chain seen by one handshake.
pub type SeenChain = Arc<Mutex<Vec<CertificateDer<'static>>>>;

/// The shared part of every probe's client configuration: TLS 1.2 and 1.3, no resumption
/// (every target is a different server), no client certificate, and a recording verifier that
/// [`client_config`] replaces per probe.
pub fn client_template(provider: &Arc<rustls::crypto::CryptoProvider>) -> rustls::ClientConfig {
    let verifier = Arc::new(dangerous::RecordingVerifier {
        provider: provider.clone(),
        seen: Arc::new(Mutex::new(Vec::new())),
    });
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .expect("ring supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    cfg.resumption = rustls::client::Resumption::disabled();
    cfg
}

/// A client configuration for one probe: the template with its own recording verifier, so
/// the chain is kept even when the handshake fails after the certificate message.
pub fn client_config(
    template: &rustls::ClientConfig,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> (Arc<rustls::ClientConfig>, SeenChain) {
    let seen: SeenChain = Arc::new(Mutex::new(Vec::new()));
    let mut cfg = template.clone();
    cfg.dangerous()
        .set_certificate_verifier(Arc::new(dangerous::RecordingVerifier {
            provider: provider.clone(),
            seen: seen.clone(),
        }));
    (Arc::new(cfg), seen)
}

/// The process-wide crypto provider: ring, every suite it has, with TLS 1.3's
/// AES-128-GCM-SHA256 offered first (as browsers do; cheaper than the SHA-384 suite).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(aes128_first(rustls::crypto::ring::default_provider()))
}

/// Moves TLS13_AES_128_GCM_SHA256 to the front of the provider's suite list.
pub fn aes128_first(mut p: rustls::crypto::CryptoProvider) -> rustls::crypto::CryptoProvider {
    p.cipher_suites
        .sort_by_key(|s| s.suite() != rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
    p
}

/// Name of a rustls protocol version as recorded (`TLSv1.3`, `TLSv1.2`, …).
pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        rustls::ProtocolVersion::TLSv1_1 => "TLSv1.1".into(),
        rustls::ProtocolVersion::TLSv1_0 => "TLSv1.0".into(),
        other => format!("{other:?}"),
    }
}

/// Whether a rustls handshake error means "this server needs an older TLS stack"
/// (protocol version or no common cipher suite), so the legacy fallback is worth a try.
pub fn wants_legacy(e: &rustls::Error) -> bool {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::AlertReceived(a) => {
            matches!(
                a,
                A::ProtocolVersion
                    | A::HandshakeFailure
                    | A::InsufficientSecurity
                    | A::IllegalParameter
            )
        }
        rustls::Error::PeerIncompatible(_) => true,
        rustls::Error::InvalidMessage(_) => true,
        _ => false,
    }
}

/// Whether a handshake that failed with the I/O error `e` (no TLS error) was a server hanging
/// up on our ClientHello: the connection ended (EOF) or was reset before any certificate
/// (`no_chain`) and without an alert. The cause as the record names it.
pub fn hung_up_after_client_hello(e: &std::io::Error, no_chain: bool) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    if !no_chain {
        return None;
    }
    match e.kind() {
        K::UnexpectedEof => Some("eof-after-client-hello"),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
            Some("reset-after-client-hello")
        }
        _ => None,
    }
}

/// Short, stable description of a rustls error for the record (`alert:handshake-failure`,
/// `peer-incompatible:…`, `invalid-message:…`).
pub fn describe_error(e: &rustls::Error) -> String {
    match e {
        rustls::Error::AlertReceived(a) => format!("alert:{}", kebab(&format!("{a:?}"))),
        rustls::Error::PeerIncompatible(p) => {
            format!("peer-incompatible:{}", kebab(&format!("{p:?}")))
        }
        rustls::Error::PeerMisbehaved(p) => format!("peer-misbehaved:{}", kebab(&format!("{p:?}"))),
        rustls::Error::InvalidMessage(m) => format!("invalid-message:{}", kebab(&format!("{m:?}"))),
        other => format!("{other}"),
    }
}

fn kebab(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, ch) in s.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(ch.to_ascii_lowercase());
        } else if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else {
            break;
        }
    }
    out
}

pub use mxinfer_ingest::cert::summarize;

/// Most certificate summaries kept (the map is emptied when full).
pub const SUMMARY_CACHE_MAX: usize = 100_000;

/// Summaries of certificates already seen in the run (keyed by SHA-256 of the DER): large
/// providers present the same certificates on thousands of addresses.
#[derive(Default)]
pub struct SummaryCache {
    map: Mutex<std::collections::HashMap<[u8; 32], Certificate>>,
}

impl SummaryCache {
    pub fn summarize(&self, der: &[u8]) -> Certificate {
        let key: [u8; 32] = sha2::Sha256::digest(der).into();
        if let Some(c) = self.map.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return c;
        }
        let c = summarize(der);
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= SUMMARY_CACHE_MAX {
                m.clear();
            }
            m.insert(key, c.clone());
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_generated_cert() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec![
            "mx.example.org".to_string(),
            "*.example.net".to_string(),
        ])
        .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "mx.example.org");
        let cert = params.self_signed(&key).unwrap();
        let s = summarize(cert.der());
        assert_eq!(s.version, 3);
        assert_eq!(s.subject_cn.as_deref(), Some("mx.example.org"));
        assert_eq!(s.san_dns, vec!["mx.example.org", "*.example.net"]);
        assert_eq!(s.key_type, "ecdsa");
        assert_eq!(s.key_bits, Some(256));
        assert!(s.self_signed);
        assert!(!s.is_ca);
        assert_eq!(s.sha256.len(), 64);
        assert!(s.not_before.ends_with('Z'));
    }

    #[test]
    fn garbage_still_summarised() {
        let s = summarize(b"not a certificate");
        assert_eq!(s.version, 0);
        assert_eq!(s.key_type, "unknown");
        assert_eq!(s.sha256.len(), 64);
    }

    #[test]
    fn error_names() {
        let e = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        assert_eq!(describe_error(&e), "alert:handshake-failure");
        assert!(wants_legacy(&e));
        let e = rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion);
        assert!(wants_legacy(&e));
        assert!(!wants_legacy(&rustls::Error::DecryptError));
    }
}
