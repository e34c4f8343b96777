#!/usr/bin/env bash
# Installs the two real MTAs the probe tests drive, without starting either as a service:
#   - Postfix with apt (debconf "No configuration": no /etc/postfix/main.cf, nothing started);
#   - Exim (exim4-daemon-light) unpacked with `apt-get download` + `dpkg -x` into
#     $MXINFER_EXIM_DIR (default /opt/mxinfer-test/exim), because the two Debian packages
#     conflict (both provide mail-transport-agent). Exim's shared libraries come from apt.
# The tests start each MTA with its own configuration on a 127.x address and a free port.
# Idempotent; needs root. Prints where things went.
set -euo pipefail

exim_dir="${MXINFER_EXIM_DIR:-/opt/mxinfer-test/exim}"
exim_bin="$exim_dir/usr/sbin/exim4"
# Exim's runtime libraries (the Depends of exim4-daemon-light, less the MTA packages).
exim_libs=(libdb5.3 libgnutls-dane0 libgnutls30 libidn12 libidn2-0 libnsl2 libpcre2-8-0 libcrypt1)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
installed postfix || missing+=(postfix)
for p in "${exim_libs[@]}"; do installed "$p" || missing+=("$p"); done
need_exim=0
[ -x "$exim_bin" ] || need_exim=1
need_user=0
getent passwd Debian-exim >/dev/null || need_user=1

if [ ${#missing[@]} -eq 0 ] && [ "$need_exim" -eq 0 ] && [ "$need_user" -eq 0 ]; then
  echo "install-mta: postfix $(dpkg-query -W -f='${Version}' postfix) at /usr/sbin/postfix;" \
       "exim at $exim_bin (already installed)" >&2
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-mta: needs root (missing: ${missing[*]:-} ${need_exim:+exim in $exim_dir})" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

if [ ${#missing[@]} -gt 0 ]; then
  # Keep the packages' init scripts from starting a system MTA on port 25.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  trap 'if [ "$made_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$made_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  trap - EXIT
  # Stop anything an install started anyway (no systemd here; the init script may have run).
  if [ -x /etc/init.d/postfix ]; then /etc/init.d/postfix stop >/dev/null 2>&1 || true; fi
  echo "install-mta: installed with apt: ${missing[*]}" >&2
fi

if [ "$need_exim" -eq 1 ]; then
  work="$(mktemp -d)"
  chown _apt "$work" 2>/dev/null || chmod 777 "$work" # apt downloads as _apt
  (cd "$work" && apt-get download -qq exim4-daemon-light >/dev/null)
  mkdir -p "$exim_dir"
  dpkg -x "$work"/exim4-daemon-light_*.deb "$exim_dir"
  rm -rf "$work"
  echo "install-mta: unpacked exim4-daemon-light into $exim_dir" >&2
fi

# The user Exim's Debian build gives up root privilege to (exim4-base would create it).
if [ "$need_user" -eq 1 ]; then
  adduser --system --group --quiet --home /var/spool/exim4 --no-create-home --disabled-login \
    --allow-bad-names Debian-exim 2>/dev/null ||
    adduser --system --group --quiet --home /var/spool/exim4 --no-create-home --disabled-login \
      --force-badname Debian-exim
  echo "install-mta: created system user Debian-exim" >&2
fi

if ldd "$exim_bin" | grep -q "not found"; then
  echo "install-mta: $exim_bin lacks libraries:" >&2
  ldd "$exim_bin" | grep "not found" >&2
  exit 1
fi
if ss -ltn 2>/dev/null | awk '{print $4}' | grep -qE ':25$'; then
  echo "install-mta: warning: something listens on port 25" >&2
fi
echo "install-mta: postfix $(dpkg-query -W -f='${Version}' postfix) at /usr/sbin/postfix" \
     "(daemons in $(postconf -h daemon_directory 2>/dev/null || echo /usr/lib/postfix/sbin));" \
     "exim $("$exim_bin" -bV 2>/dev/null | head -1 | awk '{print $3}') at $exim_bin" >&2
