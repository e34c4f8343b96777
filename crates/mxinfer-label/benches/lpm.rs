//! Micro-benchmark behind the choice of longest-prefix-match structure in `mxinfer_label::pfx2as`:
//! prefix-trie 0.10 (`PrefixMap` keyed by `(u32, u8)`) against ip_network_table (`IpNetworkTable`), on the same
//! synthetic IPv4 table the size of a full RouteViews pfx2as file (about a million prefixes,
//! lengths /8 to /24 weighted like the real table, /24 most common) and the same random
//! lookups. Plain timing (no harness): `cargo bench --bench lpm`.

use ip_network::Ipv4Network;
use ip_network_table::IpNetworkTable;
use prefix_trie::PrefixMap;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;

const PREFIXES: usize = 1_000_000;
const LOOKUPS: usize = 5_000_000;

/// A small deterministic generator (xorshift64*), so both structures see the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let prefixes: Vec<(u32, u8, u32)> = (0..PREFIXES)
        .map(|i| {
            let r = rng.next();
            let len = match r % 100 {
                0..=59 => 24,
                60..=69 => 23,
                70..=79 => 22,
                80..=89 => 20 + (r >> 8) as u8 % 2,
                _ => 8 + (r >> 16) as u8 % 12,
            };
            let addr = (rng.next() as u32) & (u32::MAX << (32 - len));
            (addr, len, i as u32 % 70_000)
        })
        .collect();
    let lookups: Vec<u32> = (0..LOOKUPS).map(|_| rng.next() as u32).collect();

    let t = Instant::now();
    let mut trie: PrefixMap<(u32, u8), u32> = PrefixMap::new();
    for &(a, l, asn) in &prefixes {
        trie.insert((a, l), asn);
    }
    let build_trie = t.elapsed();
    let t = Instant::now();
    let mut hits = 0u64;
    for &ip in &lookups {
        if let Some((_, v)) = trie.get_lpm(&(ip, 32)) {
            hits += *black_box(v) as u64 & 1;
        }
    }
    let look_trie = t.elapsed();

    let t = Instant::now();
    let mut table: IpNetworkTable<u32> = IpNetworkTable::new();
    for &(a, l, asn) in &prefixes {
        table.insert(Ipv4Network::new(Ipv4Addr::from(a), l).unwrap(), asn);
    }
    let build_table = t.elapsed();
    let t = Instant::now();
    let mut hits2 = 0u64;
    for &ip in &lookups {
        if let Some((_, v)) = table.longest_match_ipv4(Ipv4Addr::from(ip)) {
            hits2 += *black_box(v) as u64 & 1;
        }
    }
    let look_table = t.elapsed();
    assert_eq!(hits, hits2, "both structures must agree");

    let ns = |d: std::time::Duration| d.as_nanos() as f64 / LOOKUPS as f64;
    println!("{PREFIXES} IPv4 prefixes, {LOOKUPS} random lookups");
    println!(
        "prefix-trie       build {:>7.1} ms   lookup {:>6.1} ns",
        build_trie.as_secs_f64() * 1e3,
        ns(look_trie)
    );
    println!(
        "ip_network_table  build {:>7.1} ms   lookup {:>6.1} ns",
        build_table.as_secs_f64() * 1e3,
        ns(look_table)
    );
}
