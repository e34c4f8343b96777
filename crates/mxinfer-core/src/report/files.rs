//! The IO of reports: reading label and truth JSON Lines, writing the report files, and the
//! run metadata's certificate groups.

use super::Report;
use super::render;
use crate::Error;
use crate::error::FileContext;
use std::path::Path;

/// The certificate groups of two or more registered domains recorded in a label run's
/// metadata (`stage.certificate_groups_joined`); none when the file has no such list.
pub fn label_groups(meta: &Path) -> crate::Result<Vec<mxinfer_label::CertGroup>> {
    let text = std::fs::read_to_string(meta).file("reading", meta)?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::json(format!("{}: not a JSON document", meta.display()), e))?;
    match v.pointer("/stage/certificate_groups_joined") {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(g) => serde_json::from_value(g.clone()).map_err(|e| {
            Error::json(
                format!(
                    "{}: stage.certificate_groups_joined is not a list of groups",
                    meta.display()
                ),
                e,
            )
        }),
    }
}

/// Writes `report.md`, `report.json` and `report.html` into `dir` (created if missing).
pub fn write_report_dir(dir: &Path, report: &Report) -> Result<(), crate::FileError> {
    std::fs::create_dir_all(dir).file("creating", dir)?;
    for (name, text) in [
        ("report.md", render::report_markdown(report)),
        ("report.json", render::report_json(report)),
        ("report.html", render::report_html(report)),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).file("writing", &p)?;
    }
    Ok(())
}
