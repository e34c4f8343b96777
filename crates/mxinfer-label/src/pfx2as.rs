//! Prefix-to-AS: the origin AS of an address, by longest-prefix match over prefix-to-AS data.
//!
//! Accepted formats, detected line by line (so files may even be concatenated):
//! - CAIDA RouteViews pfx2as: `prefix<TAB>length<TAB>AS`, where AS is one ASN, a multi-origin
//!   set joined with `_`, an AS-set joined with `,`, or a mix (`A_B,C`). The whole origin list
//!   is kept.
//! - pyasn IPASN: `prefix/length<TAB>AS` (`;` comment lines).
//! - Range CSV: `start,end,asn[,org]` (the `@ip-location-db/asn` layout); each range becomes
//!   the smallest set of covering-exactly prefixes.
//!
//! `#` and `;` lines are comments. `label --pfx2as` also reads gzip files (CAIDA's `.pfx2as.gz`).
//!
//! ## Why prefix-trie (not ip_network_table)
//!
//! The design card named ip_network_table; `crates/mxinfer-label/benches/lpm.rs` measures both on the same
//! synthetic full-table-sized data (1,000,000 IPv4 prefixes, 5,000,000 random lookups;
//! `cargo bench -p mxinfer-label --bench lpm`). prefix-trie 0.10 looked up faster (about 140-160 ns against
//! 215 ns) and built about as fast (270-290 ms against 230-290 ms); it is maintained (0.10.1);
//! ip_network_table's current release is 0.2.0, on a forked treebitmap crate. prefix-trie 0.8 (the version
//! hickory pulls in) was 10x slower at lookups on the same data (about 1.8-2 us), hence the
//! direct dependency on 0.10. Figures and machine in data/README.md.

use crate::{DataError, EntryError};
use prefix_trie::PrefixMap;
use std::collections::HashMap;
use std::io::BufRead;
use std::net::IpAddr;

/// The default table: the ranges originated by the companies' ASes (data/asn-companies.csv,
/// cut from `@ip-location-db/asn` by scripts/cut-pfx2as.py; see data/README.md).
pub const EMBEDDED_COMPANY_RANGES: &str = include_str!("../../../data/asn-companies.csv");

/// Prefix-to-origin-AS table for IPv4 and IPv6.
#[derive(Default)]
pub struct AsTable {
    v4: PrefixMap<(u32, u8), u32>,
    v6: PrefixMap<(u128, u8), u32>,
    /// Distinct origin lists; the maps store an index into this.
    sets: Vec<Box<[u32]>>,
    set_index: HashMap<Box<[u32]>, u32>,
    prefixes: usize,
}

/// Counts of a load, for the run metadata (defined with the schema).
pub use mxinfer_record::LoadStats;

impl AsTable {
    pub fn new() -> AsTable {
        AsTable::default()
    }

    /// The embedded default (the companies' ranges only).
    pub fn embedded() -> AsTable {
        let mut t = AsTable::new();
        t.load(EMBEDDED_COMPANY_RANGES.as_bytes(), "data/asn-companies.csv")
            .expect("the embedded prefix-to-AS ranges load");
        t
    }

    /// Number of prefixes in the table.
    pub fn len(&self) -> usize {
        self.prefixes
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes == 0
    }

    fn intern(&mut self, origins: Vec<u32>) -> u32 {
        let key: Box<[u32]> = origins.into_boxed_slice();
        if let Some(&i) = self.set_index.get(&key) {
            return i;
        }
        let i = self.sets.len() as u32;
        self.sets.push(key.clone());
        self.set_index.insert(key, i);
        i
    }

    /// Adds one prefix (host bits are cleared). A later entry for the same prefix replaces
    /// an earlier one.
    pub fn insert(&mut self, net: IpAddr, len: u8, origins: Vec<u32>) -> Result<(), EntryError> {
        let idx = self.intern(origins);
        match net {
            IpAddr::V4(a) => {
                if len > 32 {
                    return Err(EntryError::PrefixLength { len, max: 32 });
                }
                let v = u32::from(a) & mask32(len);
                if self.v4.insert((v, len), idx).is_none() {
                    self.prefixes += 1;
                }
            }
            IpAddr::V6(a) => {
                if len > 128 {
                    return Err(EntryError::PrefixLength { len, max: 128 });
                }
                let v = u128::from(a) & mask128(len);
                if self.v6.insert((v, len), idx).is_none() {
                    self.prefixes += 1;
                }
            }
        }
        Ok(())
    }

    /// The origin ASes of the longest prefix covering `ip` (empty when none).
    pub fn lookup(&self, ip: IpAddr) -> &[u32] {
        let idx = match ip {
            IpAddr::V4(a) => self.v4.get_lpm(&(u32::from(a), 32)).map(|(_, &i)| i),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => self.v4.get_lpm(&(u32::from(v4), 32)).map(|(_, &i)| i),
                None => self.v6.get_lpm(&(u128::from(a), 128)).map(|(_, &i)| i),
            },
        };
        idx.map_or(&[], |i| &self.sets[i as usize])
    }

    /// Loads every line of `reader` (formats in the module docs). `what` names the source in
    /// errors. Lines that are not data are counted as skipped; a file with no data at all is
    /// an error.
    pub fn load<R: BufRead>(&mut self, mut reader: R, what: &str) -> Result<LoadStats, DataError> {
        let mut st = LoadStats::default();
        {
            let head = reader.fill_buf().map_err(|source| DataError::Read {
                what: what.to_string(),
                source,
            })?;
            if head.starts_with(&[0x1f, 0x8b]) {
                return Err(DataError::Compressed {
                    what: what.to_string(),
                });
            }
        }
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .map_err(|source| DataError::Read {
                    what: what.to_string(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            st.lines += 1;
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
                continue;
            }
            match self.load_line(l) {
                Ok(k) if k > 0 => {
                    if l.contains(',') && !l.contains('\t') {
                        st.ranges += 1;
                    }
                    st.prefixes += k as u64;
                }
                _ => st.skipped += 1,
            }
        }
        if st.prefixes == 0 {
            return Err(DataError::NoPrefixes {
                what: what.to_string(),
                lines: st.lines,
            });
        }
        Ok(st)
    }

    /// Loads one data line; returns the number of prefixes added.
    fn load_line(&mut self, l: &str) -> Result<usize, EntryError> {
        if l.contains('\t') || (!l.contains(',') && l.contains(char::is_whitespace)) {
            let mut f = l.split_whitespace();
            let first = f.next().unwrap_or("");
            if let Some((net, len)) = first.split_once('/') {
                // pyasn IPASN: prefix/len AS
                let origins = parse_origins(f.next().unwrap_or(""))?;
                self.insert(addr(net)?, number(len)?, origins)?;
            } else {
                // CAIDA: prefix len AS
                let len = number(f.next().unwrap_or(""))?;
                let origins = parse_origins(f.next().unwrap_or(""))?;
                self.insert(addr(first)?, len, origins)?;
            }
            return Ok(1);
        }
        // Range CSV: start,end,asn[,org]
        let mut f = l.splitn(4, ',');
        let start = addr(f.next().unwrap_or("").trim())?;
        let end = addr(f.next().unwrap_or("").trim())?;
        let origins = parse_origins(f.next().unwrap_or("").trim())?;
        let mut n = 0;
        match (start, end) {
            (IpAddr::V4(s), IpAddr::V4(e)) => {
                for (net, len) in range_to_prefixes(u32::from(s) as u128, u32::from(e) as u128, 32)
                {
                    self.insert(
                        IpAddr::from((net as u32).to_be_bytes()),
                        len,
                        origins.clone(),
                    )?;
                    n += 1;
                }
            }
            (IpAddr::V6(s), IpAddr::V6(e)) => {
                for (net, len) in range_to_prefixes(u128::from(s), u128::from(e), 128) {
                    self.insert(IpAddr::from(net.to_be_bytes()), len, origins.clone())?;
                    n += 1;
                }
            }
            _ => return Err(EntryError::MixedRange),
        }
        Ok(n)
    }
}

fn addr(s: &str) -> Result<IpAddr, EntryError> {
    s.parse().map_err(|_| EntryError::Address(s.to_string()))
}

fn number(s: &str) -> Result<u8, EntryError> {
    s.parse().map_err(|_| EntryError::Address(s.to_string()))
}

fn mask32(len: u8) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - len) }
}

fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    }
}

/// Parses an origin field: `A`, `A_B` (multi-origin), `A,B` (AS-set), `{A,B}`, or a mix;
/// order kept, duplicates dropped. `AS` prefixes are accepted.
pub fn parse_origins(s: &str) -> Result<Vec<u32>, EntryError> {
    let mut v = Vec::new();
    for part in s
        .trim_matches(['{', '}', '"'])
        .split(['_', ',', ' '])
        .filter(|p| !p.is_empty())
    {
        let p = part.trim_matches(['{', '}']);
        let p = p
            .strip_prefix("AS")
            .or_else(|| p.strip_prefix("as"))
            .unwrap_or(p);
        let asn: u32 = p
            .parse()
            .map_err(|_| EntryError::AsNumber(part.to_string()))?;
        if !v.contains(&asn) {
            v.push(asn);
        }
    }
    if v.is_empty() {
        return Err(EntryError::NoAsNumber);
    }
    Ok(v)
}

/// The smallest list of prefixes that covers exactly `start..=end` in a `width`-bit space.
pub fn range_to_prefixes(start: u128, end: u128, width: u8) -> Vec<(u128, u8)> {
    let mut out = Vec::new();
    if start > end {
        return out;
    }
    let span = |k: u32| {
        if k >= 128 {
            u128::MAX
        } else {
            (1u128 << k) - 1
        }
    };
    let mut cur = start;
    loop {
        // The largest aligned block starting at `cur` that stays within `end`.
        let align = if cur == 0 {
            width as u32
        } else {
            cur.trailing_zeros().min(width as u32)
        };
        let mut k = align;
        while k > 0 && !matches!(cur.checked_add(span(k)), Some(l) if l <= end) {
            k -= 1;
        }
        out.push((cur, width - k as u8));
        if k >= 128 {
            return out;
        }
        match cur.checked_add(1u128 << k) {
            Some(next) if next <= end => cur = next,
            _ => return out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn formats_table() {
        let cases: &[(&str, &str, &str, &[u32])] = &[
            (
                "caida single",
                "192.0.2.0\t24\t64500\n",
                "192.0.2.77",
                &[64500],
            ),
            (
                "caida multi-origin",
                "192.0.2.0\t24\t64500_64501\n",
                "192.0.2.1",
                &[64500, 64501],
            ),
            (
                "caida as-set",
                "192.0.2.0\t24\t64500,64502\n",
                "192.0.2.1",
                &[64500, 64502],
            ),
            (
                "caida mixed",
                "192.0.2.0\t24\t64500_64501,64502\n",
                "192.0.2.1",
                &[64500, 64501, 64502],
            ),
            (
                "pyasn ipasn",
                "; IP-ASN32-DAT file\n198.51.100.0/24\t64510\n",
                "198.51.100.9",
                &[64510],
            ),
            (
                "range csv with org",
                "203.0.113.0,203.0.113.255,64520,\"Example, Inc.\"\n",
                "203.0.113.200",
                &[64520],
            ),
            (
                "range csv without org, ipv6",
                "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64530\n",
                "2001:db8::25",
                &[64530],
            ),
            (
                "outside every prefix",
                "192.0.2.0\t24\t64500\n",
                "192.0.3.1",
                &[],
            ),
        ];
        for (what, text, addr, want) in cases {
            let mut t = AsTable::new();
            t.load(text.as_bytes(), what).unwrap();
            assert_eq!(t.lookup(ip(addr)), *want, "{what}");
        }
    }

    #[test]
    fn longest_prefix_wins() {
        let mut t = AsTable::new();
        t.load(
            "10.0.0.0\t8\t1\n10.1.0.0\t16\t2\n10.1.2.0\t24\t3\n".as_bytes(),
            "t",
        )
        .unwrap();
        assert_eq!(t.lookup(ip("10.9.9.9")), &[1]);
        assert_eq!(t.lookup(ip("10.1.9.9")), &[2]);
        assert_eq!(t.lookup(ip("10.1.2.3")), &[3]);
        assert_eq!(t.lookup(ip("::ffff:10.1.2.3")), &[3], "IPv4-mapped IPv6");
    }

    #[test]
    fn ranges_to_prefixes_table() {
        type Case = (&'static str, u128, u128, u8, Vec<(u128, u8)>);
        let cases: &[Case] = &[
            (
                "aligned /24",
                0xC0000200,
                0xC00002FF,
                32,
                vec![(0xC0000200, 24)],
            ),
            ("single address", 5, 5, 32, vec![(5, 32)]),
            (
                "unaligned",
                1,
                6,
                32,
                vec![(1, 32), (2, 31), (4, 31), (6, 32)],
            ),
            ("whole v4 space", 0, u32::MAX as u128, 32, vec![(0, 0)]),
            (
                "top of the space",
                u32::MAX as u128 - 1,
                u32::MAX as u128,
                32,
                vec![(u32::MAX as u128 - 1, 31)],
            ),
            ("whole v6 space", 0, u128::MAX, 128, vec![(0, 0)]),
        ];
        for (what, s, e, w, want) in cases {
            assert_eq!(&range_to_prefixes(*s, *e, *w), want, "{what}");
        }
    }

    #[test]
    fn gzip_and_empty_are_errors() {
        let mut t = AsTable::new();
        assert!(t.load(&[0x1f, 0x8b, 0, 0][..], "gz").is_err());
        assert!(t.load("# nothing\n".as_bytes(), "empty").is_err());
    }

    #[test]
    fn bad_lines_are_skipped_and_counted() {
        let mut t = AsTable::new();
        let st = t
            .load("192.0.2.0\t24\t64500\ngarbage line\n".as_bytes(), "t")
            .unwrap();
        assert_eq!((st.prefixes, st.skipped), (1, 1));
    }
}
