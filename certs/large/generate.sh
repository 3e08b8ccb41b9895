#!/usr/bin/env bash
# certs/large/generate.sh - generates certificates that make handshake messages longer than
# one TLS record, for test/large-handshake.test.js. One root (root.pem) issues three P-256
# leaves for localhost that share one key (leaf.key) and differ in how many more
# subjectAltNames they carry, so in the size of the Certificate message that sends them:
#   leaf-many-names.pem  1,500 names, about 45 KB: longer than one 16 KiB record
#   leaf-80k.pem         2,650 names, about 80 KB: a certificate_list over 64 KiB, within
#                        the 100 KiB that OpenSSL (max_cert_list) and mbedtls-stream take
#   leaf-120k.pem        4,000 names, about 120 KB: over those 100 KiB
# and ca-long-names.pem, three self-signed CAs whose subjects have 120 organizationalUnitNames
# each (about 8 KB a name): a server that names them in its CertificateRequest sends one of
# about 25 KB. Every run makes new keys and replaces the files here.
#
# Usage: certs/large/generate.sh   (from any directory; needs OpenSSL >= 3.0)
#
# TEST MATERIAL ONLY: the private keys are committed on purpose.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
readonly DAYS=36500   # 100 years, as certs/generate.sh

TMP="$(mktemp -d "${TMPDIR:-/tmp}/mbedtls-stream-large.XXXXXX")"
readonly TMP
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"

# ext-N.cnf: the profiles, with a leaf naming localhost and N more DNS names.
config() {
  printf '[req]\ndistinguished_name = dn\n[dn]\n'
  printf '[ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n'
  printf '[leaf]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n'
  printf 'extendedKeyUsage = serverAuth,clientAuth\nsubjectAltName = @names\n[names]\n'
  printf 'DNS.1 = localhost\nIP.1 = 127.0.0.1\n'
  for i in $(seq 2 $(($1 + 1))); do printf 'DNS.%d = name-%04d.many-names.example\n' "$i" "$i"; done
}

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

config 0 > ext-0.cnf
newkey root.key
openssl req -x509 -new -key root.key -subj "/CN=mbedtls-stream Large Root" -config ext-0.cnf \
  -extensions ca -days "$DAYS" -out root.pem
newkey leaf.key
openssl req -new -key leaf.key -subj "/CN=localhost" -config ext-0.cnf -out leaf.csr

leaf() {
  config "$1" > "ext-$1.cnf"
  openssl x509 -req -in leaf.csr -CA root.pem -CAkey root.key \
    -set_serial "0x$(openssl rand -hex 16)" -days "$DAYS" -extfile "ext-$1.cnf" -extensions leaf \
    -out "$2" 2>/dev/null
  openssl verify -CAfile root.pem "$2" >/dev/null
}
leaf 1500 leaf-many-names.pem
leaf 2650 leaf-80k.pem
leaf 4000 leaf-120k.pem

: > ca-long-names.pem
for ca in 1 2 3; do
  subject="/CN=mbedtls-stream Long Name CA $ca"
  for unit in $(seq -w 1 120); do
    subject+="/OU=mbedtls-stream long name CA $ca, organizational unit $unit of 120"
  done
  newkey "ca-$ca.key"
  openssl req -x509 -new -key "ca-$ca.key" -subj "$subject" -config ext-0.cnf -extensions ca \
    -days "$DAYS" -out "ca-$ca.pem"
  cat "ca-$ca.pem" >> ca-long-names.pem
done

rm -f "$HERE"/*.pem "$HERE"/*.key
cp root.pem leaf.key leaf-many-names.pem leaf-80k.pem leaf-120k.pem ca-long-names.pem "$HERE"/
echo "generated $(cd "$HERE" && ls ./*.pem ./*.key | tr '\n' ' ')"
