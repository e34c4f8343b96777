//! `mxinfer export`.

use crate::cli::{ExportArgs, TableArg, TableFormatArg};
use crate::exit::Exit;
use mxinfer_core::export::{ExportSettings, Table, TableFormat, check_date};

/// One stage output into its snapshot partition; rejected when some lines were not records.
pub fn export(a: &ExportArgs) -> anyhow::Result<Exit> {
    let s = ExportSettings {
        table: match a.table {
            TableArg::Labels => Table::Labels,
            TableArg::Dns => Table::Dns,
            TableArg::Probes => Table::Probes,
        },
        file: a.file.clone(),
        out_dir: a.out_dir.clone(),
        format: match a.format {
            TableFormatArg::Parquet => TableFormat::Parquet,
            TableFormatArg::Csv => TableFormat::Csv,
        },
        snapshot: a.snapshot.as_deref().map(check_date).transpose()?,
    };
    let o = mxinfer_core::export::export(&s)?;
    eprintln!(
        "export: {} rows to {}{}",
        o.rows,
        o.path.display(),
        if o.bad > 0 {
            format!(
                "; {} lines of {} were not records (skipped)",
                o.bad,
                a.file.display()
            )
        } else {
            String::new()
        }
    );
    Ok(Exit::rejected_if(o.bad))
}
