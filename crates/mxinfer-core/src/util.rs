//! Small shared helpers.

/// Current UTC time in RFC 3339 with millisecond precision.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&fmt).unwrap_or_default()
}

/// Writes `value` as pretty JSON to `path` atomically (temp file then rename).
pub fn write_json_file<T: serde::Serialize>(
    path: &std::path::Path,
    value: &T,
) -> crate::Result<()> {
    use crate::error::FileContext;
    let tmp = path.with_extension("tmp");
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| crate::Error::json(format!("encoding {}", path.display()), e))?;
    text.push('\n');
    std::fs::write(&tmp, text).file("writing", &tmp)?;
    std::fs::rename(&tmp, path).file("renaming to", path)?;
    Ok(())
}

/// The open-file limit cannot be read, or is too low for what was asked.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("cannot read the open-file limit")]
    Read(#[source] std::io::Error),
    /// `what` (the settings that need them) needs `needed` descriptors.
    #[error(
        "{what} needs about {needed} open files, but the open-file limit (RLIMIT_NOFILE, \
         `ulimit -n`) is {soft} (hard limit {hard}): raise it (`ulimit -n {needed}`) or lower {what}"
    )]
    TooLow {
        what: String,
        needed: u64,
        soft: u64,
        hard: u64,
    },
}

/// The open-file limit (RLIMIT_NOFILE, `ulimit -n`) after making room for `needed`
/// descriptors: a soft limit below `needed` is raised (up to the hard limit). Returns the
/// soft limit now in force, or an error naming the limit and `flag` when even the hard
/// limit is too low.
pub fn ensure_open_files(needed: u64, flag: &str) -> Result<u64, LimitError> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(LimitError::Read(std::io::Error::last_os_error()));
    }
    let (soft, hard): (u64, u64) = (lim.rlim_cur, lim.rlim_max);
    if soft >= needed {
        return Ok(soft);
    }
    if hard >= needed {
        let new = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit reads the struct we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } == 0 {
            return Ok(hard);
        }
    }
    Err(LimitError::TooLow {
        what: flag.to_string(),
        needed,
        soft,
        hard,
    })
}
