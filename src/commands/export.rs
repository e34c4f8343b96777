//! `mxinfer export`.

use crate::cli::{ExportArgs, TableArg, TableFormatArg};
use crate::exit::Exit;
use anyhow::{anyhow, bail};
use mxinfer_core::export::{ExportError, ExportSettings, Table, TableFormat, check_date};

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
        snapshot: a
            .snapshot
            .as_deref()
            .map(|d| check_date(d).map_err(|_| anyhow!("--snapshot {d:?}: expected YYYY-MM-DD")))
            .transpose()?,
    };
    let o = match mxinfer_core::export::export(&s) {
        Err(ExportError::NoSnapshot) => bail!("no snapshot date: give --snapshot YYYY-MM-DD"),
        Err(ExportError::NoParquet) => bail!(
            "Parquet output needs the `parquet` feature (cargo build --release --features parquet); \
             --to csv works without it"
        ),
        r => r?,
    };
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
