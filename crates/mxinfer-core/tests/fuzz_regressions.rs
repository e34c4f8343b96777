//! Inputs found by the fuzz targets of `fuzz/` (see fuzz/RESULTS.md), kept as regression
//! tests: each one crashed or misbehaved before its fix.

use mxinfer_core::input::{DomainReader, Entry};

fn read_all(data: &[u8]) -> Vec<Entry> {
    DomainReader::new(data)
        .map(|e| e.expect("reading from memory"))
        .collect()
}

#[test]
fn header_with_a_rank_column_and_a_short_row() {
    // The row has no rank field: rejected, not an index out of bounds.
    let v = read_all(b"domain,rank\na.example\n");
    assert_eq!(v.len(), 1);
    match &v[0] {
        Entry::Rejected(b) => {
            assert_eq!(b.line, 2);
            assert!(b.reason.contains("column"), "{}", b.reason);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fuzz_domain_list_crash_38c22c66() {
    // fuzz/artifacts/domain_list/crash-38c22c6634172dad5e1bd351ce34c02f1c403a9f (the seed
    // corpus of scripts/fuzz.sh): the third line lacks the rank column of the header.
    let v = read_all(b"category,domain,rank\nnews,a.example,7\nshop,b.example\n");
    assert_eq!(v.len(), 2);
    assert!(
        matches!(&v[0], Entry::Domain(d) if d.domain == "a.example" && d.input.rank == Some(7))
    );
    assert!(matches!(&v[1], Entry::Rejected(b) if b.line == 3 && b.reason == "no column 3 (rank)"));
}
