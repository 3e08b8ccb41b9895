#!/usr/bin/env bash
# certs/long-chain/generate.sh - generates the long-chain PKI: a root, 24 chained
# intermediates (root -> int1 -> ... -> int24) and one leaf key, certified for each
# N in LENGTHS by intN. chain-N.pem is what a peer sends: the leaf, then intN down to
# int1; root.pem is the trust anchor. Used by test/interop-limits.test.js and the
# engine's C tests for chains longer than Mbed TLS's default limit of 8 intermediates.
#
# Every run regenerates everything with new keys in a temporary directory, checks each
# chain with `openssl verify`, then replaces the *.pem and *.key files here.
#
# Usage: certs/long-chain/generate.sh   (from any directory; needs OpenSSL >= 3.0)
#
# TEST MATERIAL ONLY: the private key is committed on purpose.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
readonly DEPTH=24
readonly LENGTHS="8 9 12 24"
readonly DAYS=36500   # 100 years, as certs/generate.sh

TMP="$(mktemp -d "${TMPDIR:-/tmp}/mbedtls-stream-long-chain.XXXXXX")"
readonly TMP
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"

cat >ext.cnf <<'X'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
X

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
# sign CSR ISSUER EXTENSIONS OUT
sign() {
  openssl x509 -req -in "$1" -CA "$2.pem" -CAkey "$2.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$DAYS" -extfile ext.cnf -extensions "$3" \
    -out "$4" 2>/dev/null
}

newkey root.key
openssl req -x509 -new -key root.key -subj "/CN=mbedtls-stream Long Chain Root" -config ext.cnf \
  -extensions ca -days "$DAYS" -out root.pem
prev=root
for i in $(seq 1 "$DEPTH"); do
  newkey "int$i.key"
  openssl req -new -key "int$i.key" -subj "/CN=mbedtls-stream Long Chain Intermediate $i" \
    -config ext.cnf -out "int$i.csr"
  sign "int$i.csr" "$prev" ca "int$i.pem"
  prev=int$i
done
newkey leaf.key
openssl req -new -key leaf.key -subj "/CN=localhost" -config ext.cnf -out leaf.csr
mkdir out
cp root.pem leaf.key out/
for n in $LENGTHS; do
  sign leaf.csr "int$n" leaf "leaf-$n.pem"
  { cat "leaf-$n.pem"; for i in $(seq "$n" -1 1); do cat "int$i.pem"; done; } > "out/chain-$n.pem"
  openssl verify -CAfile root.pem -untrusted "out/chain-$n.pem" "leaf-$n.pem" >/dev/null \
    || { echo "generate.sh: chain-$n.pem does not verify" >&2; exit 1; }
done

rm -f "$HERE"/*.pem "$HERE"/*.key
cp out/* "$HERE"/
echo "generated $(cd "$HERE" && ls *.pem *.key | tr '\n' ' ')"
