//! The simulated Internet used by tests and benchmarks: the SMTP farm ([`farm`]) with its
//! personas (data/sim-personas.json) and certificates ([`certs`]), and the generated world
//! with ground truth ([`world`]).
//!
//! Errors are typed, one enum per module ([`CertError`], [`DnsError`], [`FarmError`],
//! [`WorldError`]): each says what failed and where (file, address, persona, zone line), and
//! chains the underlying error as its `source` instead of repeating its text.

pub mod certs;
pub mod dns;
pub mod farm;
pub mod world;

pub use certs::CertError;
pub use dns::DnsError;
pub use farm::FarmError;
pub use world::WorldError;

/// `e` and its sources, joined by ": " (for log lines, where no caller prints the chain).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    /// The binary turns these into `anyhow::Error` with `?`: they must be thread-safe and
    /// owned.
    #[test]
    fn errors_are_send_sync_static() {
        fn ok<E: std::error::Error + Send + Sync + 'static>() {}
        ok::<super::CertError>();
        ok::<super::DnsError>();
        ok::<super::FarmError>();
        ok::<super::WorldError>();
    }

    #[test]
    fn chain_joins_sources() {
        let e = super::WorldError::Read {
            path: "/x/world.zone".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(super::chain(&e), "reading /x/world.zone: gone");
    }
}
