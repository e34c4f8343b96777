//! The probe stage: from exchanger addresses to `HostProbe` records.
//!
//! - [`plan`]: unique targets (resolve output or a plain list) and the skip rules;
//! - [`reply`]: the sans-IO SMTP reply reader and EHLO capability parsing;
//! - [`session`]: the dialogue (banner, EHLO/HELO, STARTTLS, TLS, EHLO in TLS, QUIT) with
//!   per-step and per-session deadlines;
//! - [`tls`]: the recording rustls client and certificate summaries;
//! - [`verify`]: the chain verdict (trust against a root set; name match on its own);
//! - `legacy` (feature `legacy-tls`): the OpenSSL fallback for TLS 1.0/1.1-only servers.
//!
//! The stage never sends MAIL FROM or RCPT TO.

#[cfg(feature = "legacy-tls")]
pub mod legacy;
pub mod plan;
pub mod reply;
pub mod session;
pub mod tls;
pub mod verify;

use mxinfer_record::{HostProbe, ProbeStatus};
use std::net::IpAddr;

/// The record of an address that is not probed.
pub fn skipped(ip: IpAddr, port: u16, names: Vec<String>, status: ProbeStatus) -> HostProbe {
    HostProbe {
        ip,
        port,
        names,
        status,
        step: None,
        error: None,
        flags: Vec::new(),
        banner: None,
        ehlo: None,
        capabilities: Vec::new(),
        starttls: None,
        tls: None,
        quit: None,
        started_at: crate::util::now_rfc3339(),
        duration_ms: 0,
        shard: None,
    }
}
