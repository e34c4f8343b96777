#!/usr/bin/env bash
# Installs the Debian packages the tests, benchmarks and demo scripts use, when missing:
# NSD (authoritative DNS), Unbound (recursive DNS), dnsperf (DNS load), GNU time (peak RSS),
# the OpenSSL headers the legacy-TLS fallback builds against, iproute2 (the network
# namespace of the IPv6 test) and util-linux (prlimit, for the open-file limit test).
# Services are never started by the install: the tests start their own instances on loopback.
set -euo pipefail
"$(dirname "$0")/install-mta.sh" # Postfix and Exim for the probe tests (they conflict: own script)

want=(nsd unbound dnsperf time libssl-dev pkg-config iproute2 util-linux gzip zstd)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages: ${missing[*]}; run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

# Keep the packages' own services from starting (they would bind port 53 on every address).
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[ "$made_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
# Stop anything an install started anyway (no systemd here; init scripts may have run).
for s in nsd unbound; do
  if [ -x "/etc/init.d/$s" ]; then "/etc/init.d/$s" stop >/dev/null 2>&1 || true; fi
done
echo "installed: ${missing[*]}" >&2
