#!/usr/bin/env python3
"""Generate a synthetic `bench.` zone, its domain list and a dnsperf query file.

Used by scripts/bench-resolve.sh; Python 3 standard library only.

The mix imitates a real domain list: most domains point at a few shared provider
exchangers (about 20 exchanger names), a long tail runs its own `mx.<domain>`, and some
domains have no MX but an address (implicit MX), a null MX, an exchanger that does not
exist (NXDOMAIN), no mail at all, or do not exist themselves.

All addresses are documentation (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
2001:db8::/32) or benchmarking (198.18.0.0/15) addresses: they are data only, nothing
ever connects to them.

Outputs (in OUTDIR):
  bench.zone      zone file, origin `bench.`
  domains.txt     one domain per line (no trailing dot), in shuffled order
  queries.txt     dnsperf input: the queries mxinfer is expected to send for the list
                  (one MX per domain, then A and AAAA of every exchanger name the first
                  time it is seen), in list order
  expected.json   expected status counts and expected number of queries
"""

import argparse
import ipaddress
import json
import os
import random
import sys

ORIGIN = "bench"

# Shared provider exchangers: (provider, [(preference, exchanger label, n_a, n_aaaa)], weight).
# Exchanger labels are relative to the origin. 21 exchanger names in total.
PROVIDERS = [
    ("gmail-like", [
        (1, "aspmx.l.gmail-like", 1, 1),
        (5, "alt1.aspmx.l.gmail-like", 1, 1),
        (5, "alt2.aspmx.l.gmail-like", 1, 1),
        (10, "alt3.aspmx.l.gmail-like", 1, 1),
        (10, "alt4.aspmx.l.gmail-like", 1, 1),
    ], 30),
    ("outlook-like", [
        (0, "mail.protection.outlook-like", 2, 0),
    ], 22),
    ("ionos-like", [
        (10, "mx00.ionos-like", 1, 1),
        (10, "mx01.ionos-like", 1, 1),
    ], 12),
    ("ovh-like", [
        (1, "mx1.mail.ovh-like", 1, 0),
        (5, "mx2.mail.ovh-like", 1, 0),
        (100, "mx3.mail.ovh-like", 1, 0),
    ], 8),
    ("yahoo-like", [
        (1, "mta5.am0.yahoodns-like", 2, 1),
        (1, "mta6.am0.yahoodns-like", 2, 1),
        (1, "mta7.am0.yahoodns-like", 2, 1),
    ], 6),
    ("zoho-like", [
        (10, "mx.zoho-like", 1, 0),
        (20, "mx2.zoho-like", 1, 0),
        (50, "mx3.zoho-like", 1, 0),
    ], 6),
    ("mimecast-like", [
        (10, "eu-smtp-inbound-1.mimecast-like", 2, 0),
        (10, "eu-smtp-inbound-2.mimecast-like", 2, 0),
    ], 8),
    ("proofpoint-like", [
        (10, "mx0a-00000001.pphosted-like", 1, 0),
        (10, "mx0b-00000001.pphosted-like", 1, 0),
    ], 8),
]

# Share of the list (percent) per kind of domain.
MIX = [
    ("provider", 60),      # MX at a shared provider exchanger set
    ("own", 27),           # MX mx.<domain> with 1-2 A (a quarter also 1 AAAA)
    ("implicit", 5),       # no MX, A (and sometimes AAAA) at the apex: implicit MX
    ("nullmx", 2),         # MX 0 .
    ("nxexchanger", 3),    # MX mx.<domain>, which does not exist
    ("nomail", 1),         # exists (TXT only): no MX, no address
    ("nxdomain", 2),       # listed but not in the zone
]

EXPECTED_STATUS = {
    "provider": "ok",
    "own": "ok",
    "implicit": "no-mx",
    "nullmx": "null-mx",
    "nxexchanger": "ok",
    "nomail": "no-mail",
    "nxdomain": "nxdomain",
}

DOC4 = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
BENCH4 = ipaddress.ip_network("198.18.0.0/15")
DOC6 = ipaddress.ip_network("2001:db8::/32")


class Addrs:
    """Hands out addresses: documentation ranges for providers, 198.18/15 for the tail."""

    def __init__(self):
        self.doc4 = 0
        self.doc6 = 0
        self.tail4 = 0
        self.tail6 = 0

    def provider4(self):
        net = DOC4[(self.doc4 // 254) % len(DOC4)]
        ip = net.network_address + 1 + self.doc4 % 254
        self.doc4 += 1
        return str(ip)

    def provider6(self):
        self.doc6 += 1
        return str(DOC6.network_address + (0x25 << 64) + self.doc6)

    def tail_v4(self):
        # Wraps after 131,070 addresses: duplicates are harmless, they are only data.
        ip = BENCH4.network_address + 1 + self.tail4 % (BENCH4.num_addresses - 2)
        self.tail4 += 1
        return str(ip)

    def tail_v6(self):
        self.tail6 += 1
        return str(DOC6.network_address + (0xbe << 80) + self.tail6)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="number of domains")
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=20261130)
    args = ap.parse_args()
    n = args.n
    if n < 1:
        sys.exit("gen-bench-zone: N must be at least 1")
    rng = random.Random(args.seed)
    addrs = Addrs()
    os.makedirs(args.outdir, exist_ok=True)

    kinds = [k for k, _ in MIX]
    kind_w = [w for _, w in MIX]
    prov_w = [w for _, _, w in PROVIDERS]

    zone_path = os.path.join(args.outdir, "bench.zone")
    with open(zone_path, "w", encoding="ascii") as z:
        w = z.write
        w(f"$ORIGIN {ORIGIN}.\n$TTL 3600\n")
        w("@ IN SOA ns1 hostmaster 2026113001 7200 3600 1209600 300\n")
        w("@ IN NS ns1\nns1 IN A 192.0.2.53\n")
        # Provider exchangers.
        for _, mxs, _ in PROVIDERS:
            for _, label, n4, n6 in mxs:
                for _ in range(n4):
                    w(f"{label} 300 IN A {addrs.provider4()}\n")
                for _ in range(n6):
                    w(f"{label} 300 IN AAAA {addrs.provider6()}\n")

        # Domains: choose kinds, then shuffle so the kinds interleave as in a real list.
        entries = []  # (domain, kind, provider index or -1)
        for i in range(n):
            kind = rng.choices(kinds, kind_w)[0]
            p = rng.choices(range(len(PROVIDERS)), prov_w)[0] if kind == "provider" else -1
            entries.append((f"d{i:07d}-{rng.getrandbits(24):06x}", kind, p))
        rng.shuffle(entries)

        for label, kind, p in entries:
            if kind == "provider":
                for pref, ex, _, _ in PROVIDERS[p][1]:
                    w(f"{label} IN MX {pref} {ex}\n")
                w(f'{label} IN TXT "v=spf1 include:_spf.{PROVIDERS[p][0]}.{ORIGIN} ~all"\n')
            elif kind == "own":
                w(f"{label} IN MX 10 mx.{label}\n")
                w(f"{label} IN A {addrs.tail_v4()}\n")
                for _ in range(rng.choice((1, 1, 1, 2))):
                    w(f"mx.{label} IN A {addrs.tail_v4()}\n")
                if rng.random() < 0.25:
                    w(f"mx.{label} IN AAAA {addrs.tail_v6()}\n")
            elif kind == "implicit":
                w(f"{label} IN A {addrs.tail_v4()}\n")
                if rng.random() < 0.3:
                    w(f"{label} IN AAAA {addrs.tail_v6()}\n")
            elif kind == "nullmx":
                w(f"{label} IN MX 0 .\n")
                w(f"{label} IN A {addrs.tail_v4()}\n")
            elif kind == "nxexchanger":
                w(f"{label} IN MX 10 mx.{label}\n")
            elif kind == "nomail":
                w(f'{label} IN TXT "no mail here"\n')
            # nxdomain: nothing in the zone.

    # Domain list and the queries mxinfer is expected to send, in list order.
    seen = set()
    counts = {}
    kind_counts = {}
    n_queries = 0
    with open(os.path.join(args.outdir, "domains.txt"), "w", encoding="ascii") as dl, \
            open(os.path.join(args.outdir, "queries.txt"), "w", encoding="ascii") as q:
        for label, kind, p in entries:
            fq = f"{label}.{ORIGIN}"
            dl.write(fq + "\n")
            st = EXPECTED_STATUS[kind]
            counts[st] = counts.get(st, 0) + 1
            kind_counts[kind] = kind_counts.get(kind, 0) + 1
            q.write(f"{fq} MX\n")
            n_queries += 1
            if kind == "provider":
                names = [f"{ex}.{ORIGIN}" for _, ex, _, _ in PROVIDERS[p][1]]
            elif kind in ("own", "nxexchanger"):
                names = [f"mx.{fq}"]
            elif kind in ("implicit", "nomail"):
                names = [fq]
            else:
                names = []
            for name in names:
                if name in seen:
                    continue
                seen.add(name)
                q.write(f"{name} A\n{name} AAAA\n")
                n_queries += 2

    exp = {
        "domains": n,
        "seed": args.seed,
        "kinds": kind_counts,
        "status_counts": counts,
        "queries": n_queries,
        "exchanger_names": len(seen),
        "provider_exchanger_names": sum(len(m) for _, m, _ in PROVIDERS),
    }
    with open(os.path.join(args.outdir, "expected.json"), "w", encoding="ascii") as f:
        json.dump(exp, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
