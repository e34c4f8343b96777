//! The banner/EHLO ID extractor (METHOD.md 5) on arbitrary reply lines: never panics, and a
//! usable result names a hostname whose ID is a suffix of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxinfer_label::banner::{is_hostname, parse_reply};
use mxinfer_label::data::LabelData;
use mxinfer_label::psl::Psl;
use std::sync::OnceLock;

static STATE: OnceLock<(Psl, LabelData)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (psl, ld) = STATE.get_or_init(|| (Psl::embedded(false), LabelData::embedded()));
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();
    let p = parse_reply(&lines, psl, ld);
    if let (Some(name), Some(id)) = (p.name(), p.id()) {
        // Banner aliases map bare tokens to an ID; anything else is a hostname under its ID.
        if is_hostname(name) {
            assert!(name.ends_with(id), "{name:?} -> {id:?}");
        }
    }
    for l in &lines {
        let _ = is_hostname(l);
    }
});
