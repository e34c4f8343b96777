//! Classification of addresses (IANA special-purpose registries) and of a domain's
//! load-balancing configuration (seed 000, Table I).

use mxinfer_record::{AddrClass, Address, ConfigClass, DomainFlag, Exchanger, ExchangerFlag};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The class of one address.
pub fn addr_class(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => v6_class(v6),
    }
}

fn in4(ip: Ipv4Addr, net: [u8; 4], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn in6(ip: Ipv6Addr, net: [u16; 8], len: u32) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    (u128::from(ip) & mask) == (u128::from(Ipv6Addr::from(net)) & mask)
}

fn v4_class(ip: Ipv4Addr) -> AddrClass {
    use AddrClass::*;
    let table: &[([u8; 4], u32, AddrClass)] = &[
        ([0, 0, 0, 0], 8, Unspecified),
        ([10, 0, 0, 0], 8, Private),
        ([100, 64, 0, 0], 10, Shared),
        ([127, 0, 0, 0], 8, Loopback),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([172, 16, 0, 0], 12, Private),
        ([192, 0, 0, 0], 24, Reserved), // IETF protocol assignments
        ([192, 0, 2, 0], 24, Documentation),
        ([192, 88, 99, 0], 24, Reserved), // deprecated 6to4 relay anycast
        ([192, 168, 0, 0], 16, Private),
        ([198, 18, 0, 0], 15, Reserved), // benchmarking
        ([198, 51, 100, 0], 24, Documentation),
        ([203, 0, 113, 0], 24, Documentation),
        ([224, 0, 0, 0], 4, Multicast),
        ([240, 0, 0, 0], 4, Reserved), // includes 255.255.255.255
    ];
    table
        .iter()
        .find(|(n, l, _)| in4(ip, *n, *l))
        .map_or(Public, |(_, _, c)| *c)
}

fn v6_class(ip: Ipv6Addr) -> AddrClass {
    use AddrClass::*;
    if ip.is_unspecified() {
        return Unspecified;
    }
    if ip.is_loopback() {
        return Loopback;
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        // ::ffff:a.b.c.d is the IPv4 address in another form; classify it as such, but a
        // public mapped address is still not something to dial as IPv6.
        return match v4_class(v4) {
            Public => Reserved,
            c => c,
        };
    }
    if in6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        // 6to4 (RFC 3056): 2002:V4ADDR::/48 leads to the embedded IPv4 address, so a
        // non-public one keeps its class.
        let s = ip.segments();
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        match v4_class(v4) {
            Public => {}
            c => return c,
        }
    }
    let table: &[([u16; 8], u32, AddrClass)] = &[
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, LinkLocal),
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, Private),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, Multicast),
        ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32, Documentation),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, Documentation), // RFC 9637
        ([0x2001, 0x0002, 0, 0, 0, 0, 0, 0], 48, Reserved), // benchmarking
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, Reserved),      // IETF protocol assignments
        ([0x0064, 0xff9b, 0x0001, 0, 0, 0, 0, 0], 48, Reserved), // local-use NAT64
        ([0x0100, 0, 0, 0, 0, 0, 0, 0], 64, Reserved),      // discard-only
        ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, Reserved),      // SRv6 SIDs
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, Reserved),      // deprecated site-local
    ];
    if let Some((_, _, c)) = table.iter().find(|(n, l, _)| in6(ip, *n, *l)) {
        return *c;
    }
    // Outside 2000::/3 nothing is assigned as global unicast.
    if !in6(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        return Reserved;
    }
    Public
}

/// Adds the flags an exchanger's addresses call for (`no-address`, `non-public-address`) and
/// sorts the flags; shared by the resolve stage and the offline readers.
pub fn finish_exchanger_flags(addresses: &[Address], flags: &mut Vec<ExchangerFlag>) {
    if addresses.is_empty() {
        flags.push(ExchangerFlag::NoAddress);
    }
    if addresses.iter().any(|a| !a.class.is_public()) {
        flags.push(ExchangerFlag::NonPublicAddress);
    }
    flags.sort();
}

/// Adds the flags a domain's exchangers call for (`exchanger-without-address`, and
/// `no-reachable-exchanger` when none has an address); shared by the resolve stage and the
/// offline readers.
pub fn finish_domain_flags(exchangers: &[Exchanger], flags: &mut Vec<DomainFlag>) {
    let without = exchangers.iter().filter(|e| e.addresses.is_empty()).count();
    if without > 0 {
        flags.push(DomainFlag::ExchangerWithoutAddress);
        if without == exchangers.len() {
            flags.push(DomainFlag::NoReachableExchanger);
        }
    }
}

/// The numbers of distinct IPv4 and IPv6 addresses over all `exchangers`.
pub fn distinct_families(exchangers: &[Exchanger]) -> (usize, usize) {
    let (mut v4, mut v6) = (BTreeSet::new(), BTreeSet::new());
    for a in exchangers.iter().flat_map(|e| e.addresses.iter()) {
        if a.ip.is_ipv4() {
            v4.insert(a.ip);
        } else {
            v6.insert(a.ip);
        }
    }
    (v4.len(), v6.len())
}

/// The configuration class of seed 000 from the number of MX records (null MX excluded) and
/// the numbers of distinct IPv4 and IPv6 addresses over all exchangers. Implicit MX, null MX
/// and failures are `NonIdentified` by the caller.
pub fn config_class(n_mx: usize, n_v4: usize, n_v6: usize) -> ConfigClass {
    use ConfigClass::*;
    match n_mx {
        0 => NonIdentified,
        _ if n_v4 == 0 && n_v6 == 0 => NonIdentified,
        1 => match (n_v4, n_v6) {
            (1, 0) => PlainIpv4Only,
            (0, 1) => PlainIpv6Only,
            (1, 1) => PlainDualStack,
            _ => RoundRobin,
        },
        m if n_v4 == m || n_v6 == m => MxBalancing,
        _ => Hybrid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AddrClass::*;

    #[test]
    fn classes_of_addresses() {
        let cases = [
            ("8.8.8.8", Public),
            ("10.1.2.3", Private),
            ("172.31.255.255", Private),
            ("172.32.0.1", Public),
            ("192.168.0.1", Private),
            ("127.0.0.1", Loopback),
            ("169.254.1.1", LinkLocal),
            ("100.64.0.1", Shared),
            ("100.128.0.1", Public),
            ("192.0.2.55", Documentation),
            ("198.51.100.1", Documentation),
            ("203.0.113.9", Documentation),
            ("198.18.0.1", Reserved),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Reserved),
            ("224.0.0.5", Multicast),
            ("0.0.0.0", Unspecified),
            ("2a00:1450:4001::1", Public),
            ("2002:0808:0808::1", Public),
            ("2002:0a00:0001::1", Private),
            ("2002:7f00:0001::1", Loopback),
            ("2002:a9fe:0101::1", LinkLocal),
            ("::1", Loopback),
            ("::", Unspecified),
            ("fe80::1", LinkLocal),
            ("fd00::1", Private),
            ("2001:db8::25", Documentation),
            ("ff02::1", Multicast),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:8.8.8.8", Reserved),
            ("2001:2::1", Reserved),
            ("4000::1", Reserved),
        ];
        for (ip, want) in cases {
            assert_eq!(addr_class(ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn configuration_classes_of_seed_000() {
        use ConfigClass::*;
        assert_eq!(config_class(1, 1, 0), PlainIpv4Only);
        assert_eq!(config_class(1, 0, 1), PlainIpv6Only);
        assert_eq!(config_class(1, 1, 1), PlainDualStack);
        assert_eq!(config_class(1, 2, 0), RoundRobin);
        assert_eq!(config_class(1, 1, 3), RoundRobin);
        assert_eq!(config_class(2, 2, 0), MxBalancing);
        assert_eq!(config_class(3, 1, 3), MxBalancing);
        assert_eq!(config_class(2, 3, 0), Hybrid);
        assert_eq!(config_class(2, 1, 0), Hybrid);
        assert_eq!(config_class(2, 0, 0), NonIdentified);
        assert_eq!(config_class(1, 0, 0), NonIdentified);
        assert_eq!(config_class(0, 3, 0), NonIdentified);
    }
}
