//! The prefix-to-AS loaders (CAIDA pfx2as, pyasn IPASN, range CSV) on arbitrary bytes: never
//! panic; whatever loads answers lookups.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxinfer_label::pfx2as::{AsTable, parse_origins, range_to_prefixes};

fuzz_target!(|data: &[u8]| {
    let mut t = AsTable::new();
    let _ = t.load(std::io::BufReader::with_capacity(5, data), "fuzz");
    for ip in ["0.0.0.0", "10.1.2.3", "255.255.255.255", "::", "2001:db8::1"] {
        let _ = t.lookup(ip.parse().unwrap());
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_origins(s);
    }
    if data.len() >= 33 {
        let a = u128::from_le_bytes(data[..16].try_into().unwrap());
        let b = u128::from_le_bytes(data[16..32].try_into().unwrap());
        let width = if data[32] & 1 == 0 { 32 } else { 128 };
        let (a, b) = if width == 32 {
            (a & 0xffff_ffff, b & 0xffff_ffff)
        } else {
            (a, b)
        };
        let (lo, hi) = (a.min(b), a.max(b));
        // Only short ranges: a wide one has up to 2 * width prefixes, still fine.
        let v = range_to_prefixes(lo, hi, width);
        assert!(v.len() <= 2 * width as usize);
    }
});
