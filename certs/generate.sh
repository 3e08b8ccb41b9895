#!/usr/bin/env bash
# certs/generate.sh - generates the mbedtls-stream test PKI.
#
# This script owns every key/certificate file in certs/ (see certs/README.md
# for the list). Each run regenerates all of them from scratch with the
# openssl CLI (OpenSSL >= 3.0): files are built and verified in a temporary
# directory, then moved into certs/, replacing the previous set. Nothing in
# certs/ is changed if any step or check fails.
#
# Usage: certs/generate.sh   (from any directory)
#
# Everything here is TEST MATERIAL ONLY: the private keys are committed.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

readonly DAYS=36500                   # 100 years
readonly PASSPHRASE='mbedtls-stream'  # for server-ecdsa-encrypted.key

# Every file this script produces; these (and only these) are replaced.
readonly OUTPUTS=(
  ca.pem ca.key
  intermediate.pem intermediate.key
  server-ecdsa.pem server-ecdsa.key server-ecdsa-chain.pem
  server-ecdsa-encrypted.key
  server-rsa.pem server-rsa.key server-rsa-chain.pem
  client.pem client.key client-chain.pem
  ca-all.pem
  other-ca.pem other-ca.key
  other-server.pem other-server.key other-server-chain.pem
  other-client.pem other-client.key
)

WORK="$(mktemp -d "${PWD}/.generate.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# x509v3 extension sections. Every certificate carries subject and authority key
# identifiers, as RFC 5280 expects and strict verifiers (-x509_strict) require.
EXT="$WORK/extensions.cnf"
cat >"$EXT" <<'EOF'
[root_ca]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[intermediate_ca]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[server_ecdsa]
basicConstraints       = CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[server_rsa]
basicConstraints       = CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[client]
basicConstraints       = CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
EOF

# new_key NAME ec|rsa -> $WORK/NAME.key (unencrypted PKCS#8 PEM)
new_key() {
  local name=$1 type=$2
  case $type in
    ec)  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
           -pkeyopt ec_param_enc:named_curve -out "$WORK/$name.key" ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
           -out "$WORK/$name.key" ;;
    *)   echo "unknown key type: $type" >&2; return 1 ;;
  esac
}

# sign NAME CN EXT_SECTION [ISSUER] -> $WORK/NAME.pem
# Without ISSUER the certificate is self-signed.
sign() {
  local name=$1 cn=$2 section=$3 issuer=${4:-}
  local csr="$WORK/$name.csr"
  local -a signer
  if [[ -n $issuer ]]; then
    signer=(-CA "$WORK/$issuer.pem" -CAkey "$WORK/$issuer.key")
  else
    signer=(-signkey "$WORK/$name.key")
  fi
  openssl req -new -key "$WORK/$name.key" -subj "/CN=$cn" -sha256 -out "$csr"
  openssl x509 -req -in "$csr" "${signer[@]}" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$DAYS" -sha256 \
    -extfile "$EXT" -extensions "$section" -out "$WORK/$name.pem"
  rm -f "$csr"
}

# make_ca NAME CN EXT_SECTION [ISSUER]
make_ca() {
  new_key "$1" ec
  sign "$@"
}

# make_leaf NAME ec|rsa CN EXT_SECTION ISSUER [CHAIN_CERT]
# Writes NAME.key, NAME.pem and NAME-chain.pem (leaf, then CHAIN_CERT if given).
make_leaf() {
  local name=$1 type=$2 cn=$3 section=$4 issuer=$5 chain=${6:-}
  new_key "$name" "$type"
  sign "$name" "$cn" "$section" "$issuer"
  if [[ -n $chain ]]; then
    cat "$WORK/$name.pem" "$WORK/$chain.pem" >"$WORK/$name-chain.pem"
  else
    cp "$WORK/$name.pem" "$WORK/$name-chain.pem"
  fi
}

# --- main PKI: root -> intermediate -> leaves --------------------------------
make_ca   ca           "mbedtls-stream Test Root CA"         root_ca
make_ca   intermediate "mbedtls-stream Test Intermediate CA" intermediate_ca ca
make_leaf server-ecdsa ec  localhost                    server_ecdsa intermediate intermediate
make_leaf server-rsa   rsa localhost                    server_rsa   intermediate intermediate
make_leaf client       ec  "mbedtls-stream test client" client       intermediate intermediate

openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 \
  -in "$WORK/server-ecdsa.key" -passout "pass:$PASSPHRASE" \
  -out "$WORK/server-ecdsa-encrypted.key"

cp "$WORK/ca.pem" "$WORK/ca-all.pem"

# --- unrelated PKI for negative tests: other-ca -> leaves ---------------------
make_ca   other-ca     "mbedtls-stream Other Root CA"       root_ca
make_leaf other-server ec localhost                    server_ecdsa other-ca
make_leaf other-client ec "mbedtls-stream test client" client       other-ca
rm -f "$WORK/other-client-chain.pem"   # not an output

# --- checks -------------------------------------------------------------------
fail() { echo "CHECK FAILED: $*" >&2; exit 1; }

for leaf in server-ecdsa server-rsa client; do
  openssl verify -CAfile "$WORK/ca.pem" -untrusted "$WORK/intermediate.pem" \
    "$WORK/$leaf.pem" >/dev/null || fail "$leaf.pem does not verify against ca.pem"
done
openssl verify -purpose sslserver -CAfile "$WORK/ca.pem" -untrusted "$WORK/intermediate.pem" \
  "$WORK/server-ecdsa.pem" "$WORK/server-rsa.pem" >/dev/null || fail "server purpose"
openssl verify -purpose sslclient -CAfile "$WORK/ca.pem" -untrusted "$WORK/intermediate.pem" \
  "$WORK/client.pem" >/dev/null || fail "client purpose"

for leaf in other-server other-client; do
  openssl verify -CAfile "$WORK/other-ca.pem" "$WORK/$leaf.pem" >/dev/null \
    || fail "$leaf.pem does not verify against other-ca.pem"
  if openssl verify -CAfile "$WORK/ca.pem" -untrusted "$WORK/intermediate.pem" \
       "$WORK/$leaf.pem" >/dev/null 2>&1; then
    fail "$leaf.pem unexpectedly verifies against ca.pem"
  fi
done

# Each certificate must match its key.
for name in ca intermediate server-ecdsa server-rsa client other-ca other-server other-client; do
  [[ "$(openssl x509 -in "$WORK/$name.pem" -noout -pubkey)" == \
     "$(openssl pkey -in "$WORK/$name.key" -pubout)" ]] || fail "$name.pem/$name.key mismatch"
done

# The encrypted key must decrypt with the passphrase (and only with it).
[[ "$(openssl pkey -in "$WORK/server-ecdsa-encrypted.key" -passin "pass:$PASSPHRASE")" == \
   "$(openssl pkey -in "$WORK/server-ecdsa.key")" ]] || fail "encrypted key does not decrypt"
if openssl pkey -in "$WORK/server-ecdsa-encrypted.key" -passin pass:wrong >/dev/null 2>&1; then
  fail "encrypted key decrypts with a wrong passphrase"
fi

# --- install ------------------------------------------------------------------
for f in "${OUTPUTS[@]}"; do
  [[ -s "$WORK/$f" ]] || fail "missing output $f"
done
rm -f "${OUTPUTS[@]}"
for f in "${OUTPUTS[@]}"; do
  mv "$WORK/$f" "$f"
done
chmod 644 "${OUTPUTS[@]}"

echo "certs: generated and verified ${#OUTPUTS[@]} files in $PWD"
