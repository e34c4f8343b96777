#!/usr/bin/env python3
"""Generates label-stage evidence for a benchmark: DOMAINS resolve records (dns.jsonl) over
ADDRS probe records (probes.jsonl), with a realistic mix: shared provider fleets (trusted
certificates naming several registered domains, banners, EHLO), hosting platforms with
customer-named MX records, self-hosted servers with self-signed or no certificates, dead
addresses, multi-MX domains with backups, null MX, implicit MX and DNS failures.

Usage: scripts/gen-label-evidence.py OUTDIR [DOMAINS] [ADDRS]   (defaults 1000000 50000)
Python standard library only; deterministic (fixed seed). Addresses are from 10.0.0.0/8 and
fd00::/8 (never probed: this is evidence on disk only).
"""
import json, os, random, sys

out = sys.argv[1]
n_dom = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
n_addr = int(sys.argv[3]) if len(sys.argv) > 3 else 50_000
rnd = random.Random(20261130)
os.makedirs(out, exist_ok=True)
T = "2026-11-30T00:00:00.000Z"
DER = "MII" + "A" * 1600  # stands in for a base64 certificate (size only)

def ip_of(i):
    if i % 10 == 9:
        return "fd00::%x:%x" % (i >> 16, i & 0xffff)
    return "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)

# Provider fleets: (MX name pattern, banner host, cert CN, cert SANs, share of addresses).
FLEETS = [
    ("aspmx{n}.l.google.com", "mx.google.com", "mx.google.com",
     ["mx.google.com", "aspmx.l.google.com", "*.aspmx.l.google.com", "*.googlemail.com"], 0.08),
    ("{c}.mail.protection.outlook.com", "{h}.mail.protection.outlook.com",
     "mail.protection.outlook.com", ["*.mail.protection.outlook.com", "*.mx.microsoft"], 0.08),
    ("mx0a-{n}.pphosted.com", "mx0a-{n}.pphosted.com", "*.pphosted.com", ["*.pphosted.com"], 0.03),
    ("smtp{n}.secureserver.net", "p3plsmtp{n}.prod.phx3.secureserver.net", None, None, 0.06),
    ("mx{n}.mail.ovh.net", "mx{n}.mail.ovh.net", "*.mail.ovh.net", ["*.mail.ovh.net"], 0.03),
    ("mx{n}.yandex.net", "mx{n}.yandex.ru", "mx.yandex.ru", ["mx.yandex.ru", "*.mx.yandex.net"], 0.02),
    ("mx{n}.zoho.com", "mx.zohomail.com", "mx.zoho.com", ["mx.zoho.com", "*.zoho.com"], 0.02),
]
# Address roles.
roles = []  # per address: (kind, fleet index or None)
for i in range(n_addr):
    r = rnd.random()
    acc = 0.0
    kind = None
    for fi, f in enumerate(FLEETS):
        acc += f[4]
        if r < acc:
            kind = ("fleet", fi)
            break
    if kind is None:
        r2 = rnd.random()
        kind = ("dead", None) if r2 < 0.15 else (("vps", None) if r2 < 0.25 else ("self", None))
    roles.append(kind)
fleet_addrs = [[i for i, k in enumerate(roles) if k == ("fleet", fi)] for fi in range(len(FLEETS))]
other_addrs = [i for i, k in enumerate(roles) if k[0] != "fleet"]

def cert(cn, sans, trusted):
    c = {"der": DER, "sha256": "%064x" % rnd.getrandbits(256), "version": 3,
         "subject": "CN=" + (cn or ""), "san_dns": sans or [], "issuer": "CN=Bench CA",
         "serial": "%x" % rnd.getrandbits(64), "not_before": "2026-01-01T00:00:00Z",
         "not_after": "2027-01-01T00:00:00Z", "key_type": "rsa", "key_bits": 2048,
         "self_signed": not trusted, "is_ca": False}
    if cn:
        c["subject_cn"] = cn
    return c

with open(os.path.join(out, "probes.jsonl"), "w") as f:
    for i, (kind, fi) in enumerate(roles):
        ip = ip_of(i)
        p = {"ip": ip, "port": 25, "status": "ok", "started_at": T, "duration_ms": 120}
        n = i % 97
        if kind == "dead":
            p["status"] = "connect-timeout"
            p["step"] = "connect"
        else:
            if kind == "fleet":
                _, bh, cn, sans, _ = FLEETS[fi]
                host = bh.format(n=n, h="HOST%04d" % n)
            elif kind == "vps":
                host = "s10-%d-%d-%d.secureserver.net" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
                cn, sans = None, None
            else:
                host = "mail.host%d.com" % i
                cn, sans = host, [host]
            p["banner"] = {"code": 220, "lines": ["220 %s ESMTP ready" % host]}
            p["ehlo"] = {"code": 250, "lines": ["250-%s Hello [192.0.2.1]" % host,
                                                 "250-SIZE 52428800", "250-STARTTLS", "250 8BITMIME"]}
            p["capabilities"] = ["SIZE 52428800", "STARTTLS", "8BITMIME"]
            if cn:
                trusted = kind == "fleet" or rnd.random() < 0.4
                v = {"trusted": trusted, "name_match": trusted, "checked_at": T, "roots": "mozilla"}
                if not trusted:
                    v["reason"] = "self-signed"
                p["tls"] = {"stack": "rustls", "established": True, "version": "TLSv1.3",
                            "cipher": "TLS13_AES_256_GCM_SHA384",
                            "chain": [cert(cn, sans, trusted)], "verdict": v}
        f.write(json.dumps(p, separators=(",", ":")) + "\n")

def exch(name, pref, addrs, implicit=False):
    v4 = [ip_of(a) for a in addrs if a % 10 != 9]
    v6 = [ip_of(a) for a in addrs if a % 10 == 9]
    e = {"name": name, "preference": pref,
         "a": {"status": "ok", "ttl": 300, "values": v4} if v4 else {"status": "nodata", "ttl": 300},
         "aaaa": {"status": "ok", "ttl": 300, "values": v6} if v6 else {"status": "nodata", "ttl": 300},
         "addresses": [{"ip": ip, "class": "public"} for ip in v4 + v6]}
    if implicit:
        e["flags"] = ["implicit"]
    return e

with open(os.path.join(out, "dns.jsonl"), "w") as f:
    for d in range(n_dom):
        dom = "d%d.example%d.com" % (d, d % 1000) if d % 4 else "domain%d.com" % d
        rec = {"domain": dom, "input": {"line": d + 1}, "status": "ok", "config_class": "hybrid",
               "passes": 1, "resolved_at": T}
        r = rnd.random()
        if r < 0.01:
            rec["status"] = "null-mx"
            rec["mx"] = [{"preference": 0, "exchange": ".", "ttl": 300}]
        elif r < 0.02:
            rec["status"] = rnd.choice(["nxdomain", "servfail", "timeout"])
        elif r < 0.03:
            rec["status"] = "no-mx"
            rec["exchangers"] = [exch(dom, 0, [rnd.choice(other_addrs)], True)]
        else:
            exs = []
            if r < 0.55:  # a provider fleet, one to three MX at one or two preferences
                fi = rnd.randrange(len(FLEETS))
                pool = fleet_addrs[fi] or other_addrs
                for k in range(rnd.choice([1, 1, 2, 3])):
                    a = rnd.choice(pool)
                    name = FLEETS[fi][0].format(n=a % 97, c=dom.replace(".", "-"))
                    exs.append(exch(name, 10 * (k if rnd.random() < 0.5 else 0) + 1, [a]))
            else:  # customer-named MX on a hosting or self-hosted address, sometimes a backup
                a = rnd.choice(other_addrs)
                exs.append(exch("mail." + dom, 10, [a]))
                if rnd.random() < 0.2:
                    exs.append(exch("backup.mx%d.net" % (a % 500), 20, [rnd.choice(other_addrs)]))
            rec["mx"] = [{"preference": e["preference"], "exchange": e["name"], "ttl": 300} for e in exs]
            rec["exchangers"] = exs
        f.write(json.dumps(rec, separators=(",", ":")) + "\n")
print("%s: %d domains, %d addresses" % (out, n_dom, n_addr))
