//! zgrab2 `smtp` module JSON Lines (one object per target) -> probe records: the file
//! reader; the conversion of one object is `mxinfer_ingest::zgrab2`.

pub use mxinfer_ingest::zgrab2::*;

use super::IngestStats;
use super::trust::TrustSettings;
use mxinfer_record::HostProbe;
use std::collections::HashSet;
use std::net::IpAddr;

/// Reads one zgrab2 file. One record per address: a later object for an address already
/// written is counted as a duplicate, except that its exchanger name is not lost when the
/// first had none (it is dropped either way; names come from the DNS side when labelling).
pub fn read(
    path: &std::path::Path,
    default_port: u16,
    trust: &TrustSettings<'_>,
    seen: &mut HashSet<IpAddr>,
    stats: &mut IngestStats,
    mut out: impl FnMut(HostProbe) -> std::io::Result<()>,
) -> Result<(), super::IngestError> {
    let name = path.display().to_string();
    let mut err = None;
    super::json_lines(path, stats, |line, v, st| {
        if err.is_some() {
            return;
        }
        match probe(&v, default_port, trust, st) {
            Ok(p) => {
                if !seen.insert(p.ip) {
                    st.duplicates += 1;
                    return;
                }
                st.records += 1;
                if let Err(e) = out(p) {
                    err = Some(e);
                }
            }
            Err(reason) => st.malformed(&name, line, reason),
        }
    })?;
    err.map_or(Ok(()), |e| Err(super::IngestError::Output(e)))
}
