//! The IO of reports: reading label and truth JSON Lines, writing the report files, and the
//! run metadata's certificate groups.

use super::Report;
use super::render;
use anyhow::Context;
use std::path::Path;

/// The certificate groups of two or more registered domains recorded in a label run's
/// metadata (`stage.certificate_groups_joined`); none when the file has no such list.
pub fn label_groups(meta: &Path) -> anyhow::Result<Vec<mxinfer_label::CertGroup>> {
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
