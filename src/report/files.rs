//! The IO of reports: reading label and truth JSON Lines, writing the report files, and the
//! `mxinfer report` / `mxinfer eval` commands.

use super::eval::Evaluator;
use super::render;
use super::{Report, ReportOptions, ShareTally};
use crate::cli::{ApproachArg, EvalArgs, EvalFormat, ReportArgs, ReportFormat};
use crate::record::{Approach, DomainLabel, Truth};
use anyhow::Context;
use std::io::{BufRead, Write};
use std::path::Path;

/// Reads JSON Lines records of type `T`, calling `f` for each; returns the number of lines
/// that are not such a record (each reported through `tracing`). Blank lines are skipped.
pub fn read_records<T: serde::de::DeserializeOwned>(
    path: &Path,
    mut f: impl FnMut(T),
) -> anyhow::Result<u64> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    let (mut n, mut bad) = (0u64, 0u64);
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)
            .with_context(|| format!("reading {}", path.display()))?
            == 0
        {
            break;
        }
        n += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<T>(&line) {
            Ok(v) => f(v),
            Err(e) => {
                bad += 1;
                tracing::warn!("{}:{n}: not a record: {e}", path.display());
            }
        }
    }
    Ok(bad)
}

/// The certificate groups of two or more registered domains recorded in a label run's
/// metadata (`stage.certificate_groups_joined`); none when the file has no such list.
pub fn label_groups(meta: &Path) -> anyhow::Result<Vec<crate::label::CertGroup>> {
    let text =
        std::fs::read_to_string(meta).with_context(|| format!("reading {}", meta.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a JSON document", meta.display()))?;
    match v.pointer("/stage/certificate_groups_joined") {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(g) => serde_json::from_value(g.clone()).with_context(|| {
            format!(
                "{}: stage.certificate_groups_joined is not a list of groups",
                meta.display()
            )
        }),
    }
}

/// Writes `report.md`, `report.json` and `report.html` into `dir` (created if missing).
pub fn write_report_dir(dir: &Path, report: &Report) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, text) in [
        ("report.md", render::report_markdown(report)),
        ("report.json", render::report_json(report)),
        ("report.html", render::report_html(report)),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

fn write_out(out: &str, text: &str) -> anyhow::Result<()> {
    let mut w = crate::pipeline::open_output(out)?;
    w.write_all(text.as_bytes())
        .and_then(|_| w.flush())
        .with_context(|| format!("writing {out}"))
}

/// `mxinfer report`: exit code 0, or 3 when some lines were not label records.
pub fn report_command(args: &ReportArgs) -> anyhow::Result<u8> {
    let mut t = ShareTally::new(ReportOptions {
        by: args.by,
        top: args.top,
        company: args.company.clone(),
        credit_no_smtp: args.credit_no_smtp,
        approach: args.approach.map(|a| match a {
            ApproachArg::Priority => Approach::Priority,
            ApproachArg::MxOnly => Approach::MxOnly,
            ApproachArg::Certificate => Approach::Certificate,
            ApproachArg::Banner => Approach::Banner,
        }),
    });
    let bad = read_records::<DomainLabel>(&args.labels, |l| t.add(&l))?;
    let r = t.finish();
    let text = match args.format {
        ReportFormat::Table => render::report_text(&r),
        ReportFormat::Md => render::report_markdown(&r),
        ReportFormat::Json => render::report_json(&r),
        ReportFormat::Html => render::report_html(&r),
    };
    write_out(&args.out, &text)?;
    Ok(if bad > 0 { 3 } else { 0 })
}

/// `mxinfer eval`: exit code 0, or 3 when some lines were not records.
pub fn eval_command(args: &EvalArgs) -> anyhow::Result<u8> {
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
    Ok(if bad_t + bad_l > 0 { 3 } else { 0 })
}
