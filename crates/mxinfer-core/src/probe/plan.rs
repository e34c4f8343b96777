//! Planning a probe run: unique targets from the resolve output or a plain list, and the
//! decision whether each may be probed (IPv6 opt-in, non-public addresses, blocklist).
//!
//! Decision order for one address:
//! 1. IPv6 without `--ipv6` -> `skipped-ipv6`;
//! 2. a non-public class (private, loopback, link-local, shared, documentation, reserved,
//!    multicast, unspecified) -> `skipped-private`, unless `--allow-private` was given (bare:
//!    every non-public address; with CIDRs: only addresses inside them);
//! 3. a public address inside a blocklist range (the default list `data/probe-blocklist.txt`
//!    plus every `--blocklist` file) -> `skipped-blocklist`. The default list repeats the
//!    special-purpose ranges, so an address the classifier missed is still not probed. A
//!    non-public address let through by `--allow-private` is still checked against the
//!    `--blocklist` files (not the default list, which names all of them).
//!
//! The class of an address in resolve output is computed again here; a file can make an
//! address less public than we think, never more.
//!
//! The address classifier is injected (the pipeline passes the resolve stage's), so this
//! stage does not import another stage.

use mxinfer_record::{AddrClass, DomainDns};
use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;
use std::net::IpAddr;

/// The default blocklist, compiled in (see data/README.md for its sources).
pub const DEFAULT_BLOCKLIST: &str = include_str!("../../../../data/probe-blocklist.txt");

/// An IPv4 or IPv6 prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub len: u8,
}

/// A prefix, a prefix list or a target file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("bad address in {0:?}")]
    Address(String),
    #[error("bad length in {0:?}")]
    Length(String),
    #[error("prefix length {len} too long in {cidr:?}")]
    TooLong { len: u8, cidr: String },
    /// A line of a prefix list (`origin:line`).
    #[error("{origin}:{line}")]
    Line {
        origin: String,
        line: usize,
        #[source]
        source: Box<PlanError>,
    },
    #[error("reading targets")]
    Read(#[source] std::io::Error),
    /// `-` (standard input) given with other target files.
    #[error("standard input (`-`) cannot be read together with other target files")]
    StdinNotAlone,
}

impl std::str::FromStr for Cidr {
    type Err = PlanError;
    fn from_str(s: &str) -> Result<Cidr, PlanError> {
        let s = s.trim();
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| PlanError::Address(s.to_string()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            Some(l) => l
                .parse::<u8>()
                .map_err(|_| PlanError::Length(s.to_string()))?,
            None => max,
        };
        if len > max {
            return Err(PlanError::TooLong {
                len,
                cidr: s.to_string(),
            });
        }
        Ok(Cidr { addr, len })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.len == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.len as u32)
                };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.len == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.len as u32)
                };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Parses a CIDR list: one prefix per line, `#` comments, blank lines.
pub fn parse_cidr_list(text: &str, origin: &str) -> Result<Vec<Cidr>, PlanError> {
    let mut v = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        v.push(l.parse::<Cidr>().map_err(|e| PlanError::Line {
            origin: origin.to_string(),
            line: i + 1,
            source: Box::new(e),
        })?);
    }
    Ok(v)
}

/// Longest target line read (a resolve record with many exchangers is long); a longer one
/// is rejected without being held in memory.
pub const MAX_TARGET_LINE_BYTES: usize = 1 << 20;

/// What to do with one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Probe,
    SkipIpv6,
    SkipPrivate,
    SkipBlocklist,
}

/// The rules of a run.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub ipv6: bool,
    /// `None`: non-public addresses are skipped; `Some(empty)`: all allowed; `Some(list)`:
    /// only those inside the list.
    pub allow_private: Option<Vec<Cidr>>,
    pub blocklist: Vec<Cidr>,
    /// The `--blocklist` files alone: they also cover non-public addresses that
    /// `--allow-private` lets through (an opt-out is honoured whatever the address).
    pub user_blocklist: Vec<Cidr>,
    /// Test safety: only loopback addresses may be probed (everything else is skipped as
    /// private). Set by the `MXINFER_LOOPBACK_ONLY` environment variable.
    pub loopback_only: bool,
}

impl Policy {
    pub fn decide(&self, ip: IpAddr, class: AddrClass) -> Decision {
        if ip.is_ipv6() && !self.ipv6 {
            return Decision::SkipIpv6;
        }
        if !class.is_public() {
            let allowed = match &self.allow_private {
                None => false,
                Some(l) => l.is_empty() || l.iter().any(|c| c.contains(ip)),
            };
            if !allowed {
                return Decision::SkipPrivate;
            }
            if self.user_blocklist.iter().any(|c| c.contains(ip)) {
                return Decision::SkipBlocklist;
            }
        } else if self.blocklist.iter().any(|c| c.contains(ip)) {
            return Decision::SkipBlocklist;
        }
        if self.loopback_only && !ip.is_loopback() {
            return Decision::SkipPrivate;
        }
        Decision::Probe
    }
}

/// One address to probe with every exchanger name that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub ip: IpAddr,
    pub class: AddrClass,
    pub names: BTreeSet<String>,
}

/// The format of a target file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Decide from the content: a first record starting with `{` is resolve output.
    Auto,
    /// The resolve stage's JSON Lines.
    Dns,
    /// `address[,exchanger-name]` lines.
    List,
}

/// Counts of the target reader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetCounts {
    pub lines: u64,
    pub blank: u64,
    pub comments: u64,
    /// Lines (domains or list lines) that gave at least one target.
    pub accepted: u64,
    /// Lines whose address was already a target (merged).
    pub duplicates: u64,
    pub rejected: u64,
}

impl TargetCounts {
    /// Adds the counts of another file's targets.
    pub fn absorb(&mut self, o: &TargetCounts) {
        self.lines += o.lines;
        self.blank += o.blank;
        self.comments += o.comments;
        self.accepted += o.accepted;
        self.duplicates += o.duplicates;
        self.rejected += o.rejected;
    }
}

/// A rejected input line.
#[derive(Debug, Clone)]
pub struct BadLine {
    pub line: u64,
    pub reason: String,
    pub text: String,
}

/// Reads every target of `src`, each address once (first-appearance order), names merged.
/// `classify` gives the class of list addresses (resolve output carries its own).
pub fn read_targets<R: BufRead>(
    src: R,
    format: InputFormat,
    classify: &dyn Fn(IpAddr) -> AddrClass,
    mut bad: impl FnMut(BadLine),
) -> Result<(Vec<Target>, TargetCounts, InputFormat), PlanError> {
    let mut targets: Vec<Target> = Vec::new();
    let mut index: HashMap<IpAddr, usize> = HashMap::new();
    let mut counts = TargetCounts::default();
    let mut fmt = format;
    let mut add = |ip: IpAddr, class: AddrClass, name: Option<String>| -> bool {
        match index.get(&ip) {
            Some(&i) => {
                if let Some(n) = name {
                    targets[i].names.insert(n);
                }
                false
            }
            None => {
                index.insert(ip, targets.len());
                targets.push(Target {
                    ip,
                    class,
                    names: name.into_iter().collect(),
                });
                true
            }
        }
    };
    let mut src = src;
    let mut raw = Vec::new();
    let mut no = 0u64;
    while let Some(complete) =
        crate::input::read_line_bounded(&mut src, &mut raw, MAX_TARGET_LINE_BYTES)
            .map_err(PlanError::Read)?
    {
        no += 1;
        counts.lines += 1;
        let mut bytes = raw.as_slice();
        if no == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes = &bytes[3..];
        }
        let reason = if !complete {
            Some(format!("line longer than {MAX_TARGET_LINE_BYTES} bytes"))
        } else if std::str::from_utf8(bytes).is_err() {
            Some("not valid UTF-8".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            counts.rejected += 1;
            bad(BadLine {
                line: no,
                reason,
                text: crate::input::printable(bytes, 100),
            });
            continue;
        }
        let line = std::str::from_utf8(bytes).unwrap_or_default();
        let t = line.trim();
        if t.is_empty() {
            counts.blank += 1;
            continue;
        }
        if t.starts_with('#') {
            counts.comments += 1;
            continue;
        }
        if fmt == InputFormat::Auto {
            fmt = if t.starts_with('{') {
                InputFormat::Dns
            } else {
                InputFormat::List
            };
        }
        match fmt {
            InputFormat::Dns => {
                let rec: DomainDns = match serde_json::from_str(t) {
                    Ok(r) => r,
                    Err(e) => {
                        counts.rejected += 1;
                        bad(BadLine {
                            line: no,
                            reason: format!("not a resolve record: {e}"),
                            text: crate::input::printable(t.as_bytes(), 100),
                        });
                        continue;
                    }
                };
                counts.accepted += 1;
                for x in &rec.exchangers {
                    for a in &x.addresses {
                        // The class is computed again, never taken from the file: a record
                        // claiming `public` for 10.0.0.1 must not get it probed.
                        let class = if a.class.is_public() {
                            classify(a.ip)
                        } else {
                            a.class
                        };
                        if !add(a.ip, class, Some(x.name.clone())) {
                            counts.duplicates += 1;
                        }
                    }
                }
            }
            _ => {
                let (a, n) = match t.split_once(',') {
                    Some((a, n)) => (a.trim(), Some(n.trim())),
                    None => (t, None),
                };
                let ip = match a.trim_matches(['[', ']']).parse::<IpAddr>() {
                    Ok(ip) => ip,
                    Err(_) => {
                        counts.rejected += 1;
                        bad(BadLine {
                            line: no,
                            reason: "not an IP address".into(),
                            text: crate::input::printable(t.as_bytes(), 100),
                        });
                        continue;
                    }
                };
                let name = n
                    .filter(|n| !n.is_empty())
                    .map(|n| n.trim_end_matches('.').to_ascii_lowercase());
                counts.accepted += 1;
                if !add(ip, classify(ip), name) {
                    counts.duplicates += 1;
                }
            }
        }
    }
    if fmt == InputFormat::Auto {
        fmt = InputFormat::List;
    }
    Ok((targets, counts, fmt))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cls(ip: IpAddr) -> AddrClass {
        if ip.is_loopback() {
            AddrClass::Loopback
        } else {
            AddrClass::Public
        }
    }

    #[test]
    fn cidrs() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.2.3.4".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let c: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(c.contains("2001:db8::25".parse().unwrap()));
        assert!("1.2.3.4/33".parse::<Cidr>().is_err());
        assert_eq!("1.2.3.4".parse::<Cidr>().unwrap().len, 32);
        assert!(
            !parse_cidr_list(DEFAULT_BLOCKLIST, "default")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn policy_order() {
        let mut p = Policy {
            blocklist: parse_cidr_list(DEFAULT_BLOCKLIST, "d").unwrap(),
            ..Policy::default()
        };
        let lo: IpAddr = "127.0.0.5".parse().unwrap();
        assert_eq!(p.decide(lo, AddrClass::Loopback), Decision::SkipPrivate);
        assert_eq!(
            p.decide("::1".parse().unwrap(), AddrClass::Loopback),
            Decision::SkipIpv6
        );
        p.allow_private = Some(vec![]);
        assert_eq!(p.decide(lo, AddrClass::Loopback), Decision::Probe);
        p.allow_private = Some(vec!["127.1.0.0/16".parse().unwrap()]);
        assert_eq!(p.decide(lo, AddrClass::Loopback), Decision::SkipPrivate);
        assert_eq!(
            p.decide("127.1.2.3".parse().unwrap(), AddrClass::Loopback),
            Decision::Probe
        );
        // A special-purpose address the classifier missed is still caught by the blocklist.
        assert_eq!(
            p.decide("192.0.2.1".parse().unwrap(), AddrClass::Public),
            Decision::SkipBlocklist
        );
        p.loopback_only = true;
        p.allow_private = Some(vec![]);
        assert_eq!(
            p.decide("8.8.8.8".parse().unwrap(), AddrClass::Public),
            Decision::SkipPrivate
        );
        assert_eq!(
            p.decide("10.1.1.1".parse().unwrap(), AddrClass::Private),
            Decision::SkipPrivate
        );
        assert_eq!(p.decide(lo, AddrClass::Loopback), Decision::Probe);
    }

    #[test]
    fn list_targets() {
        let text =
            "# c\n\n127.0.0.2,MX.Example.org.\n127.0.0.2,mx2.example.org\n127.0.0.3\nbogus\n";
        let mut bad = Vec::new();
        let (t, c, f) =
            read_targets(text.as_bytes(), InputFormat::Auto, &cls, |b| bad.push(b)).unwrap();
        assert_eq!(f, InputFormat::List);
        assert_eq!(t.len(), 2);
        assert_eq!(
            t[0].names.iter().cloned().collect::<Vec<_>>(),
            vec!["mx.example.org", "mx2.example.org"]
        );
        assert_eq!(c.duplicates, 1);
        assert_eq!(c.rejected, 1);
        assert_eq!(bad[0].line, 6);
    }

    #[test]
    fn dns_targets() {
        let rec = r#"{"domain":"a.example","input":{"line":1},"status":"ok","exchangers":[{"name":"mx.a.example","preference":10,"a":{"status":"ok","values":["127.0.0.9"]},"aaaa":{"status":"nodata"},"addresses":[{"ip":"127.0.0.9","class":"loopback"}]}],"config_class":"plain-ipv4-only","passes":1,"resolved_at":"t"}"#;
        let rec2 = rec.replace("a.example", "b.example");
        let text = format!("{rec}\n{rec2}\n");
        let (t, c, f) = read_targets(text.as_bytes(), InputFormat::Auto, &cls, |_| {}).unwrap();
        assert_eq!(f, InputFormat::Dns);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].names.len(), 2);
        assert_eq!(t[0].class, AddrClass::Loopback);
        assert_eq!(c.accepted, 2);
    }
}
