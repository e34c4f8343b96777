//! The domain-list reader (plain, Tranco CSV, CSV with a header) on arbitrary bytes: never
//! panics, every line lands in exactly one bucket, accepted names are normalised.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxinfer_core::input::{DomainReader, Entry, normalize_domain};

fuzz_target!(|data: &[u8]| {
    let mut r = DomainReader::new(std::io::BufReader::with_capacity(7, data));
    let mut out = 0u64;
    let mut rejected = 0u64;
    for e in r.by_ref() {
        match e.expect("reading from memory cannot fail") {
            Entry::Domain(d) => {
                out += 1;
                assert_eq!(normalize_domain(&d.domain).as_deref(), Ok(d.domain.as_str()));
                assert!(d.input.line >= 1);
            }
            Entry::Rejected(b) => {
                rejected += 1;
                assert!(b.line >= 1);
            }
        }
    }
    let c = r.counts();
    assert_eq!(c.accepted, out);
    assert_eq!(c.rejected, rejected);
    assert_eq!(
        c.lines,
        c.blank + c.comments + c.header + c.accepted + c.duplicates + c.rejected
    );
});
