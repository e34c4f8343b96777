//! `mxinfer report` and `mxinfer eval` (no network, no runtime).

use super::write_out;
use crate::cli::{EvalArgs, EvalFormat, ReportArgs, ReportFormat};
use crate::exit::Exit;
use crate::settings;
use mxinfer_core::jsonl::read as read_records;
use mxinfer_core::report::eval::Evaluator;
use mxinfer_core::report::files::label_groups;
use mxinfer_core::report::{ReportOptions, ShareTally, render};
use mxinfer_record::{DomainLabel, Truth};

/// `mxinfer report`: complete, or rejected when some lines were not label records.
pub fn report(args: &ReportArgs) -> anyhow::Result<Exit> {
    let mut t = ShareTally::new(ReportOptions {
        by: settings::group_by(args.by),
        top: args.top,
        company: args.company.clone(),
        credit_no_smtp: args.credit_no_smtp,
        approach: args.approach.map(settings::approach),
    });
    let mut missing = None;
    let bad = read_records::<DomainLabel>(&args.labels, |l| {
        if missing.is_none() {
            missing = t.add(&l).err();
        }
    })?;
    if let Some(e) = missing {
        anyhow::bail!("{}: {e}", args.labels.display());
    }
    let r = t.finish();
    let text = match args.format {
        ReportFormat::Table => render::report_text(&r),
        ReportFormat::Md => render::report_markdown(&r),
        ReportFormat::Json => render::report_json(&r),
        ReportFormat::Html => render::report_html(&r),
    };
    write_out(&args.out, &text)?;
    Ok(Exit::rejected_if(bad))
}

/// `mxinfer eval`: complete, or rejected when some lines were not records.
pub fn eval(args: &EvalArgs) -> anyhow::Result<Exit> {
    let mut truth = Vec::new();
    let bad_t = read_records::<Truth>(&args.truth, |t| truth.push(t))?;
    let meta = match &args.label_meta {
        Some(p) => Some(p.clone()),
        None => {
            let p = std::path::PathBuf::from(format!("{}.meta.json", args.labels.display()));
            p.exists().then_some(p)
        }
    };
    let groups = match &meta {
        Some(p) => label_groups(p)?,
        None => Vec::new(),
    };
    let mut e = Evaluator::new(truth, args.max_misses).with_groups(&groups);
    let bad_l = read_records::<DomainLabel>(&args.labels, |l| e.add(&l))?;
    let ev = e.finish();
    let text = match args.format {
        EvalFormat::Md => render::eval_markdown(&ev),
        EvalFormat::Json => render::eval_json(&ev),
    };
    write_out(&args.out, &text)?;
    Ok(Exit::rejected_if(bad_t + bad_l))
}
