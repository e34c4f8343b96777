//! Shards of a scan split across machines (`--shard I/N`).
//!
//! A domain belongs to the shard picked by a hash of its normalised name (ASCII, lower
//! case, no trailing dot); an address to the shard picked by a hash of its octets (4 for
//! IPv4, 16 for IPv6, IPv4-mapped IPv6 addresses as their 16 octets). The hash is fixed
//! here so any other tool (a Spark job, a script) can compute the same split:
//!
//! ```text
//! h = 0xcbf29ce484222325                      FNV-1a, 64 bits, over the bytes
//! for each byte b: h = (h XOR b) * 0x100000001b3   (wrapping)
//! h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53; h ^= h >> 33
//! shard = h mod N
//! ```
//!
//! The final mixing spreads FNV's low bits, which alone would follow the names' last
//! characters too closely for small N.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// Shard `index` of `count` (0 ≤ index < count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// A shard that cannot be: `--shard` text that is not `I/N` with 0 ≤ I < N.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardError {
    /// Not of the form `I/N` with two decimal numbers.
    Syntax(String),
    /// N is 0.
    NoShards,
    /// I is not below N.
    OutOfRange { index: u32, count: u32 },
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardError::Syntax(s) => write!(
                f,
                "{s:?} is not a shard: expected I/N, two whole numbers with I from 0 to N-1"
            ),
            ShardError::NoShards => write!(f, "a scan cannot have 0 shards: N must be at least 1"),
            ShardError::OutOfRange { index, count } => write!(
                f,
                "shard {index}/{count} is out of range: shards are numbered 0 to {}",
                count.saturating_sub(1)
            ),
        }
    }
}

impl std::error::Error for ShardError {}

impl Shard {
    /// Shard `index` of `count`, checked.
    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::NoShards);
        }
        if index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    /// Parses `I/N`.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let syntax = || ShardError::Syntax(text.to_string());
        let (i, n) = text.trim().split_once('/').ok_or_else(syntax)?;
        let num = |s: &str| -> Result<u32, ShardError> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            s.parse().map_err(|_| syntax())
        };
        Shard::new(num(i)?, num(n)?)
    }

    /// Whether this is the only shard (an unsharded scan).
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// The shard (of `count`) of a normalised domain name.
    pub fn of_domain(domain: &str, count: u32) -> u32 {
        pick(domain.as_bytes(), count)
    }

    /// The shard (of `count`) of an address.
    pub fn of_ip(ip: IpAddr, count: u32) -> u32 {
        match ip {
            IpAddr::V4(a) => pick(&a.octets(), count),
            IpAddr::V6(a) => pick(&a.octets(), count),
        }
    }

    /// Whether the normalised domain `domain` belongs to this shard.
    pub fn holds_domain(&self, domain: &str) -> bool {
        Shard::of_domain(domain, self.count) == self.index
    }

    /// Whether `ip` belongs to this shard.
    pub fn holds_ip(&self, ip: IpAddr) -> bool {
        Shard::of_ip(ip, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The hash of the module docs, reduced to `0..count` (`count` 0 counts as 1).
pub fn shard_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn pick(bytes: &[u8], count: u32) -> u32 {
    (shard_hash(bytes) % u64::from(count.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_i_of_n_and_names_what_is_wrong() {
        assert_eq!(Shard::parse("0/3"), Ok(Shard { index: 0, count: 3 }));
        assert_eq!(Shard::parse(" 2/3 "), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(
            Shard::parse("3/3"),
            Err(ShardError::OutOfRange { index: 3, count: 3 })
        );
        assert_eq!(Shard::parse("0/0"), Err(ShardError::NoShards));
        for bad in ["", "1", "1/", "/3", "-1/3", "a/b", "1/3/4", "+1/3", "1.0/3"] {
            assert!(
                matches!(Shard::parse(bad), Err(ShardError::Syntax(_))),
                "{bad:?}"
            );
        }
        let msg = Shard::parse("5/3").unwrap_err().to_string();
        assert!(msg.contains("5/3") && msg.contains("0 to 2"), "{msg}");
    }

    #[test]
    fn the_hash_is_the_documented_one() {
        // FNV-1a of "" is its offset basis; the mixing of that is fixed too.
        assert_eq!(shard_hash(b""), {
            let mut h: u64 = 0xcbf29ce484222325;
            h ^= h >> 33;
            h = h.wrapping_mul(0xff51afd7ed558ccd);
            h ^= h >> 33;
            h = h.wrapping_mul(0xc4ceb9fe1a85ec53);
            h ^ (h >> 33)
        });
        // Pinned values: a change of the hash would move every domain of a sharded scan.
        assert_eq!(Shard::of_domain("example.com", 1), 0);
        let pinned: Vec<u32> = ["example.com", "example.org", "gmail.com", "a.b.c"]
            .iter()
            .map(|d| Shard::of_domain(d, 1000))
            .collect();
        assert_eq!(pinned, PINNED_DOMAINS);
        let ip4: IpAddr = "192.0.2.1".parse().unwrap();
        let ip6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            [Shard::of_ip(ip4, 1000), Shard::of_ip(ip6, 1000)],
            PINNED_IPS
        );
    }

    // Computed apart from this code, by a Python transcription of the module docs.
    const PINNED_DOMAINS: [u32; 4] = [593, 631, 445, 810];
    const PINNED_IPS: [u32; 2] = [874, 623];

    #[test]
    fn shards_are_balanced() {
        let n = 7u32;
        let mut per = vec![0u32; n as usize];
        for i in 0..70_000 {
            per[Shard::of_domain(&format!("d{i}.example"), n) as usize] += 1;
        }
        for c in per {
            assert!((9_000..11_000).contains(&c), "{c}");
        }
        let mut per = vec![0u32; n as usize];
        for i in 0..70_000u32 {
            per[Shard::of_ip(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)), n) as usize] +=
                1;
        }
        for c in per {
            assert!((9_000..11_000).contains(&c), "{c}");
        }
    }
}
