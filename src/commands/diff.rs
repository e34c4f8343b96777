//! `mxinfer diff`.

use super::write_out;
use crate::cli::{DiffArgs, DiffFormat};
use crate::exit::Exit;
use crate::settings;
use mxinfer_core::diff::{DiffOptions, render};
use mxinfer_core::jsonl::read as read_records;
use mxinfer_record::DomainLabel;

/// Runs `mxinfer diff`; rejected when some input lines were not label records.
pub fn diff(a: &DiffArgs) -> anyhow::Result<Exit> {
    let mut old = Vec::new();
    let mut new = Vec::new();
    let bad_old = read_records::<DomainLabel>(&a.old, |l| old.push(l))?;
    let bad_new = read_records::<DomainLabel>(&a.new, |l| new.push(l))?;
    let o = DiffOptions {
        by: settings::group_by(a.by),
        approach: a.approach.map(settings::approach),
        credit_no_smtp: a.credit_no_smtp,
    };
    let d = mxinfer_core::diff::diff(&old, &new, &o)?;
    let text = match a.format {
        DiffFormat::Text => render(&d, false, a.top, a.max_list),
        DiffFormat::Md => render(&d, true, a.top, a.max_list),
        DiffFormat::Json => serde_json::to_string_pretty(&d)? + "\n",
    };
    write_out(&a.out, &text)?;
    for (bad, p) in [(bad_old, &a.old), (bad_new, &a.new)] {
        if bad > 0 {
            eprintln!(
                "mxinfer: {}: {bad} lines are not label records (skipped)",
                p.display()
            );
        }
    }
    Ok(Exit::rejected_if(bad_old + bad_new))
}
