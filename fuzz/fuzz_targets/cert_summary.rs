//! The certificate summary on arbitrary DER (and on real certificates the fuzzer mutates):
//! never panics, always gives the fingerprint.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxinfer_core::probe::tls::summarize;

fuzz_target!(|data: &[u8]| {
    let c = summarize(data);
    assert_eq!(c.sha256.len(), 64);
    if let Some(leaf) = Some(&c) {
        for n in &leaf.san_dns {
            let _ = mxinfer_core::probe::verify::name_matches(leaf, n);
        }
        if let Some(cn) = &leaf.subject_cn {
            let _ = mxinfer_core::probe::verify::name_matches(leaf, cn);
        }
    }
});
