#!/usr/bin/env bash
# certs/large/generate.sh - generates a leaf certificate too large for one TLS record:
# leaf-many-names.pem, a P-256 leaf for localhost with 1,500 more subjectAltNames (about
# 40 KB of DER), issued by root.pem. Used by test/large-handshake.test.js for handshake
# messages longer than 16 KiB (a Certificate message Mbed TLS 3.6 can neither send nor
# receive). Every run makes new keys and replaces the files here.
#
# Usage: certs/large/generate.sh   (from any directory; needs OpenSSL >= 3.0)
#
# TEST MATERIAL ONLY: the private keys are committed on purpose.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
readonly NAMES=1500
readonly DAYS=36500   # 100 years, as certs/generate.sh

TMP="$(mktemp -d "${TMPDIR:-/tmp}/mbedtls-stream-large.XXXXXX")"
readonly TMP
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"

{
  printf '[req]\ndistinguished_name = dn\n[dn]\n'
  printf '[ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n'
  printf '[leaf]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n'
  printf 'extendedKeyUsage = serverAuth,clientAuth\nsubjectAltName = @names\n[names]\n'
  printf 'DNS.1 = localhost\nIP.1 = 127.0.0.1\n'
  for i in $(seq 2 $((NAMES + 1))); do printf 'DNS.%d = name-%04d.many-names.example\n' "$i" "$i"; done
} > ext.cnf

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
newkey root.key
openssl req -x509 -new -key root.key -subj "/CN=mbedtls-stream Large Root" -config ext.cnf \
  -extensions ca -days "$DAYS" -out root.pem
newkey leaf.key
openssl req -new -key leaf.key -subj "/CN=localhost" -config ext.cnf -out leaf.csr
openssl x509 -req -in leaf.csr -CA root.pem -CAkey root.key -set_serial "0x$(openssl rand -hex 16)" \
  -days "$DAYS" -extfile ext.cnf -extensions leaf -out leaf-many-names.pem 2>/dev/null
openssl verify -CAfile root.pem leaf-many-names.pem >/dev/null

rm -f "$HERE"/*.pem "$HERE"/*.key
cp root.pem leaf.key leaf-many-names.pem "$HERE"/
echo "generated $(cd "$HERE" && ls ./*.pem ./*.key | tr '\n' ' ')"
