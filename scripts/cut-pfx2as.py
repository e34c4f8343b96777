#!/usr/bin/env python3
"""Regenerates data/asn-companies.csv: the address ranges originated by the ASes of
data/companies.toml, cut from the npm package @ip-location-db/asn (RouteViews + DB-IP,
CC BY 4.0; ranges as start,end,asn,org).

Usage: scripts/cut-pfx2as.py [PACKAGE_DIR]
  Without PACKAGE_DIR the package is fetched with `npm pack @ip-location-db/asn` into a
  temporary directory (npm's ordinary client; nothing else is downloaded).
Python 3.11+ standard library only.
"""
import csv, io, os, subprocess, sys, tarfile, tempfile, tomllib, json

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(root, "data", "companies.toml"), "rb") as f:
    companies = tomllib.load(f)["company"]
asns = {a for c in companies for a in c.get("asns", [])}

def package_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="ip-location-db-")
    out = subprocess.run(["npm", "pack", "@ip-location-db/asn", "--json"], cwd=tmp,
                         check=True, capture_output=True, text=True).stdout
    name = json.loads(out)[0]["filename"]
    with tarfile.open(os.path.join(tmp, name)) as t:
        t.extractall(tmp, filter="data")
    return os.path.join(tmp, "package")

pkg = package_dir()
with open(os.path.join(pkg, "package.json")) as f:
    version = json.load(f)["version"]
rows = []
for fname in ("asn-ipv4.csv", "asn-ipv6.csv"):
    with open(os.path.join(pkg, fname), newline="", encoding="utf-8") as f:
        for r in csv.reader(f):
            if len(r) >= 3 and r[2].isdigit() and int(r[2]) in asns:
                rows.append(r[:3])
out = io.StringIO()
out.write(f"# Address ranges originated by the ASes of data/companies.toml ({len(asns)} ASes).\n")
out.write(f"# Cut from @ip-location-db/asn {version} (RouteViews + DB-IP, CC BY 4.0,\n")
out.write("# https://github.com/sapics/ip-location-db) by scripts/cut-pfx2as.py.\n")
out.write("# Format: start,end,asn (org column dropped to keep the file small)\n")
w = csv.writer(out, lineterminator="\n")
for r in rows:
    w.writerow(r)
dest = os.path.join(root, "data", "asn-companies.csv")
with open(dest, "w", encoding="utf-8") as f:
    f.write(out.getvalue())
print(f"{dest}: {len(rows)} ranges from {len(asns)} ASes (package {version})")
