#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for MINUTES minutes each (default 3), one after the
# other, and prints how each ended. Needs the nightly toolchain and cargo-fuzz
# (`rustup toolchain install nightly && cargo install cargo-fuzz`). Not part of .ci/run.
#
#   scripts/fuzz.sh [MINUTES] [TARGET...]
#
# Corpora go to fuzz/corpus/TARGET (seeded on first use), crashes to fuzz/artifacts/TARGET;
# a crash found is fixed and kept as a regression test in the normal test suite
# (fuzz/RESULTS.md lists the runs and what they found).
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
minutes="${1:-3}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(smtp_reply banner_id domain_list pfx2as cert_summary)
fi
secs=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')

seed() { # seed TARGET NAME CONTENT (printf format)
  mkdir -p "corpus/$1"
  [ -e "corpus/$1/$2" ] || printf "$3" > "corpus/$1/$2"
}
seed smtp_reply multi '\x05\x10\x10220-mx.example.org ESMTP\r\n220 ready\r\n250-a\r\n250-STARTTLS\r\n250 SIZE 10\r\n'
seed smtp_reply bad '\x01\x02\x03220 ok\n2x0 broken\r\n'
seed banner_id google '220 mx.google.com ESMTP ab12 - gsmtp\n'
seed banner_id ehlo '250-bosimpinc12.example greets you\n250 8BITMIME\n'
seed banner_id last '220 ready ESMTP mail.example.co.uk\n'
seed domain_list tranco '1,google.com\n2,Example.ORG.\n3,b\xc3\xbccher.de\n'
seed domain_list header 'category,domain,rank\nnews,a.example,7\nshop,b.example\n'
seed domain_list plain '# list\r\nexample.com\r\n\r\nxn--bcher-kva.example\n'
seed pfx2as caida '198.51.100.0\t28\t15169\n2001:db8::\t32\t8075_15169\n10.0.0.0\t8\t{1,2}\n'
seed pfx2as ipasn '; IP-ASN32-DAT file\n1.0.0.0/24\t13335\n2001:db8::/32\t64500\n'
seed pfx2as ranges '1.0.0.0,1.0.0.255,13335,Cloudflare\n2001:db8::,2001:db8::ffff,64500\n'
if [ ! -e corpus/cert_summary/leaf.der ] && command -v openssl >/dev/null; then
  mkdir -p corpus/cert_summary
  tmp=$(mktemp -d)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k" \
    -subj "/CN=mx.example.org" -addext "subjectAltName=DNS:mx.example.org,DNS:*.example.net" \
    -days 30 -outform DER -out corpus/cert_summary/leaf.der >/dev/null 2>&1 || true
  rm -rf "$tmp"
fi

status=0
for t in "${targets[@]}"; do
  echo "== $t: ${minutes} min"
  start=$(date +%s)
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    -print_final_stats=1 > "/tmp/mxinfer-fuzz-$t.log" 2>&1
  rc=$?
  end=$(date +%s)
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "/tmp/mxinfer-fuzz-$t.log" | grep -Eo '[0-9]+$' || echo "?")
  if [ $rc -eq 0 ]; then
    echo "   ok: $((end - start)) s, $runs executions, corpus $(ls "corpus/$t" | wc -l) inputs"
  else
    status=1
    echo "   CRASH (exit $rc) after $((end - start)) s; log /tmp/mxinfer-fuzz-$t.log, inputs in fuzz/artifacts/$t:"
    ls "artifacts/$t" 2>/dev/null | sed 's/^/     /'
  fi
done
exit $status
