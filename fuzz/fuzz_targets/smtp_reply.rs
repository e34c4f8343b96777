//! The SMTP reply reader: arbitrary bytes fed in arbitrary chunks never panic, never yield
//! a reply over the bounds, and the capability parser accepts whatever comes out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxinfer_core::probe::reply::{Limits, ReplyReader, capabilities};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size (socket reads of any length), the next two small
    // bounds so the limits are reached often.
    let (Some(&c), Some(&l), Some(&n)) = (data.first(), data.get(1), data.get(2)) else {
        return;
    };
    let limits = Limits {
        max_line: 16 + l as usize * 8,
        max_lines: 1 + n as usize % 64,
        max_bytes: 4096,
    };
    let chunk = 1 + c as usize % 64;
    let mut rd = ReplyReader::new(limits);
    'outer: for part in data[3..].chunks(chunk) {
        if rd.feed(part).is_err() {
            break;
        }
        loop {
            match rd.next_reply() {
                Ok(Some(r)) => {
                    assert!(!r.lines.is_empty() && r.lines.len() <= limits.max_lines);
                    assert!((100..600).contains(&r.code));
                    for line in &r.lines {
                        assert!(!line.contains('\0'));
                    }
                    let _ = capabilities(&r);
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = e.to_string();
                    break 'outer;
                }
            }
        }
    }
    assert!(rd.total_bytes() <= data.len());
});
