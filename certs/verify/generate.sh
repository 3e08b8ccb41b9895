#!/usr/bin/env bash
# certs/verify/generate.sh - generates the certificate-verification corpus.
#
# Builds one PKI (root -> int -> leaves) plus the odd chains listed in
# README.md / cases.json, each case as NAME.pem = the chain a server (or, for
# the client-* cases, a client) sends, leaf first. The expected node:tls
# verdicts live in cases.json and are checked by check-with-node.js.
#
# Every run regenerates everything from scratch with new keys: all files are
# built in a temporary directory (openssl ca databases, CSRs and extension
# files included), then every *.pem / *.key in certs/verify/ is deleted and
# replaced by the new set. Nothing in certs/verify/ changes if a step fails.
# This script owns every *.pem and *.key file in certs/verify/.
#
# Usage: certs/verify/generate.sh   (from any directory; needs OpenSSL >= 3.0)
#
# TEST MATERIAL ONLY: the private keys are committed on purpose.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# "Valid for 100 years": a fixed window rather than now + 36500 days, so that the
# corpus does not depend on the clock of the machine that generated it (a cert
# whose notBefore is "now" on a machine with a fast clock is not yet valid
# elsewhere). The CRLs use the same window.
readonly NOT_BEFORE=20240101000000Z
readonly NOT_AFTER=21240101000000Z

TMP="$(mktemp -d "${TMPDIR:-/tmp}/mbedtls-stream-verify.XXXXXX")"
readonly TMP
trap 'rm -rf "$TMP"' EXIT
readonly OUT="$TMP/out"             # finished outputs, moved into $HERE at the end
readonly CNF="$TMP/openssl.cnf"     # throwaway `openssl ca` config + extension sections
# Work files: keys in $TMP/keys/NAME.key, certificates in $TMP/certs/NAME.pem,
# one `openssl ca` directory per issuer in $TMP/ca/ISSUER/, CSRs in $TMP/csr/.
mkdir -p "$OUT" "$TMP/keys" "$TMP/certs" "$TMP/ca" "$TMP/csr"

fail() { echo "generate.sh: $*" >&2; exit 1; }

# quiet CMD... - runs CMD with its output in a log; prints the log if CMD fails.
quiet() {
  if ! "$@" >"$TMP/log" 2>&1; then
    cat "$TMP/log" >&2
    fail "command failed: $*"
  fi
}

# --- openssl ca configuration -------------------------------------------------
# One database per issuing CA ($TMP/ca/ISSUER/), selected through $CA_DIR, so a
# CA's CRL lists only what that CA revoked. Random serials, no serial file.
cat >"$CNF" <<'EOF'
[ca]
default_ca = corpus_ca

[corpus_ca]
dir             = $ENV::CA_DIR
database        = $dir/index.txt
new_certs_dir   = $dir/new
crlnumber       = $dir/crlnumber
rand_serial     = yes
default_md      = sha256
policy          = policy_any
unique_subject  = no
copy_extensions = none
email_in_dn     = no
preserve        = yes
crl_extensions  = crl_ext

[policy_any]
commonName = supplied

[crl_ext]
authorityKeyIdentifier = keyid:always

[root_ca]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[int_ca]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# an intermediate without a path length constraint (sub-int in path-length)
[int_ca_nolimit]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
EOF

# leaf_profile SECTION SAN EKU [EXTRA_LINE...] - adds an end-entity section.
# SAN "" means no subjectAltName extension at all.
leaf_profile() {
  local section=$1 san=$2 eku=$3 line
  shift 3
  {
    printf '\n[%s]\n' "$section"
    echo 'basicConstraints       = CA:FALSE'
    echo 'keyUsage               = critical, digitalSignature'
    echo "extendedKeyUsage       = $eku"
    [[ -z $san ]] || echo "subjectAltName         = $san"
    echo 'subjectKeyIdentifier   = hash'
    echo 'authorityKeyIdentifier = keyid:always'
    for line in "$@"; do echo "$line"; done
  } >>"$CNF"
}

readonly DEFAULT_SAN='DNS:localhost, IP:127.0.0.1'

# --- helpers ----------------------------------------------------------------------

# ec_key NAME / rsa_key NAME BITS - new unencrypted PKCS#8 PEM key.
ec_key() {
  quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -pkeyopt ec_param_enc:named_curve -out "$TMP/keys/$1.key"
}
rsa_key() {
  quiet openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$TMP/keys/$1.key"
}

# ca_dir NAME - creates (once) and prints the openssl ca directory of issuer NAME.
ca_dir() {
  local dir="$TMP/ca/$1"
  if [[ ! -d $dir ]]; then
    mkdir -p "$dir/new"
    : >"$dir/index.txt"
    echo 01 >"$dir/crlnumber"
  fi
  echo "$dir"
}

# issue CERT KEY CN ISSUER SECTION [OPENSSL_CA_ARGS...]
#   Writes $TMP/certs/CERT.pem: subject CN, public key KEY, extensions from
#   SECTION, signed by certificate ISSUER with key ISSUER (ISSUER "self":
#   self-signed with KEY). Valid NOT_BEFORE..NOT_AFTER unless the extra
#   arguments give -startdate and -enddate; they may also override -md.
issue() {
  local cert=$1 key=$2 cn=$3 issuer=$4 section=$5
  shift 5
  local csr="$TMP/csr/$cert.csr" dir
  local -a signer validity=(-startdate "$NOT_BEFORE" -enddate "$NOT_AFTER")
  [[ " $* " == *" -enddate "* ]] && validity=()
  if [[ $issuer == self ]]; then
    dir="$(ca_dir "$cert")"
    signer=(-selfsign -keyfile "$TMP/keys/$key.key")
  else
    dir="$(ca_dir "$issuer")"
    signer=(-cert "$TMP/certs/$issuer.pem" -keyfile "$TMP/keys/$issuer.key")
  fi
  quiet openssl req -new -key "$TMP/keys/$key.key" -subj "/CN=$cn" -out "$csr"
  CA_DIR="$dir" quiet openssl ca -config "$CNF" -batch -notext \
    "${signer[@]}" -in "$csr" -out "$TMP/certs/$cert.pem" \
    -extfile "$CNF" -extensions "$section" "${validity[@]}" "$@"
}

# ca NAME CN ISSUER SECTION [OPENSSL_CA_ARGS...] - a CA certificate with its own new key.
ca() {
  local name=$1
  ec_key "$name"
  issue "$name" "$name" "${@:2}"
}

# leaf CASE ISSUER SECTION CN [OPENSSL_CA_ARGS...] - a leaf whose key is leaf.key.
leaf() {
  issue "$1" leaf "$4" "$2" "$3" "${@:5}"
}

# chain CASE CERT... - $OUT/CASE.pem = the listed certificates, in that order.
chain() {
  local name=$1 c
  shift
  for c in "$@"; do cat "$TMP/certs/$c.pem"; done >"$OUT/$name.pem"
}

# --- extension profiles for the leaves ------------------------------------------
leaf_profile server          "$DEFAULT_SAN"                  serverAuth
leaf_profile wrong_host      'DNS:example.com'               serverAuth
leaf_profile wildcard        'DNS:*.example.test'            serverAuth
leaf_profile ip_san          'IP:127.0.0.1'                  serverAuth
leaf_profile ip_as_dns       'DNS:127.0.0.1'                 serverAuth
leaf_profile cn_only         ''                              serverAuth
leaf_profile other_san       'DNS:other.test'                serverAuth
leaf_profile mixed_case      'DNS:LocalHost.Example.Test'    serverAuth
leaf_profile client_auth     "$DEFAULT_SAN"                  clientAuth
leaf_profile unknown_crit    "$DEFAULT_SAN"                  serverAuth \
  '1.2.3.4.5.6.7.8        = critical, DER:0500'
leaf_profile client          ''                              clientAuth

# --- keys and CAs -------------------------------------------------------------------
ec_key leaf                            # shared by every leaf except rsa-1024
rsa_key rsa-1024 1024

ca root        'Corpus Root CA'                 self       root_ca
ca int         'Corpus Intermediate CA'         root       int_ca
ca int-expired 'Corpus Expired Intermediate'    root       int_ca \
  -startdate 20200101000000Z -enddate 20210101000000Z
ca other-root  'Corpus Other Root CA'           self       root_ca
ca int2        'Corpus Other Intermediate CA'   other-root int_ca
ca int-pl0     'Corpus Path Length 0 CA'        root       int_ca
ca sub-int     'Corpus Sub-Intermediate CA'     int-pl0    int_ca_nolimit
# an end-entity certificate (CA:FALSE, server profile) used as an issuer
ca not-a-ca    'Corpus Not A CA'                int        server

# --- cases --------------------------------------------------------------------------
# 1. valid
leaf valid int server localhost
chain valid valid int
# 2. no-intermediate
leaf no-intermediate int server localhost
chain no-intermediate no-intermediate
# 3. expired-leaf
leaf expired-leaf int server localhost -startdate 20200101000000Z -enddate 20210101000000Z
chain expired-leaf expired-leaf int
# 4. expired-intermediate (the leaf itself is currently valid)
leaf expired-intermediate int-expired server localhost
chain expired-intermediate expired-intermediate int-expired
# 5. not-yet-valid
leaf not-yet-valid int server localhost -startdate 20900101000000Z -enddate 21900101000000Z
chain not-yet-valid not-yet-valid int
# 6. wrong-host
leaf wrong-host int wrong_host example.com
chain wrong-host wrong-host int
# 7. wildcard
leaf wildcard int wildcard '*.example.test'
chain wildcard wildcard int
# 8. ip-san
leaf ip-san int ip_san localhost
chain ip-san ip-san int
# 9. ip-as-dns
leaf ip-as-dns int ip_as_dns 127.0.0.1
chain ip-as-dns ip-as-dns int
# 10. cn-only
leaf cn-only int cn_only localhost
chain cn-only cn-only int
# 11. cn-with-other-san
leaf cn-with-other-san int other_san localhost
chain cn-with-other-san cn-with-other-san int
# 12. mixed-case
leaf mixed-case int mixed_case LocalHost.Example.Test
chain mixed-case mixed-case int
# 13. self-signed
leaf self-signed self server localhost
chain self-signed self-signed
# 14. unknown-ca (other-root is not sent)
leaf unknown-ca int2 server localhost
chain unknown-ca unknown-ca int2
# 15. untrusted-root-sent
leaf untrusted-root-sent int2 server localhost
chain untrusted-root-sent untrusted-root-sent int2 other-root
# 16. issuer-not-ca
leaf issuer-not-ca not-a-ca server localhost
chain issuer-not-ca issuer-not-ca not-a-ca int
# 17. path-length
leaf path-length sub-int server localhost
chain path-length path-length sub-int int-pl0
# 18. client-auth-only
leaf client-auth-only int client_auth localhost
chain client-auth-only client-auth-only int
# 19. unknown-critical-ext
leaf unknown-critical-ext int unknown_crit localhost
chain unknown-critical-ext unknown-critical-ext int
# 20. revoked / not-revoked + CRLs: int.crl.pem revokes "revoked"; root.crl.pem
#     (from root) revokes nothing and exists because node checks every CA.
leaf revoked int server localhost
chain revoked revoked int
leaf not-revoked int server localhost
chain not-revoked not-revoked int
int_ca=(-config "$CNF" -batch -cert "$TMP/certs/int.pem" -keyfile "$TMP/keys/int.key")
root_ca=(-config "$CNF" -batch -cert "$TMP/certs/root.pem" -keyfile "$TMP/keys/root.key")
crl_dates=(-crl_lastupdate "$NOT_BEFORE" -crl_nextupdate "$NOT_AFTER")
CA_DIR="$(ca_dir int)" quiet openssl ca "${int_ca[@]}" \
  -revoke "$TMP/certs/revoked.pem" -crl_reason keyCompromise
# openssl ca records "now" as the revocation date; pin it to NOT_BEFORE too.
sed -i -E 's/^R\t([^\t]*)\t[0-9]+Z,/R\t\1\t'"${NOT_BEFORE#20}"',/' "$(ca_dir int)/index.txt"
CA_DIR="$(ca_dir int)" quiet openssl ca "${int_ca[@]}" \
  -gencrl "${crl_dates[@]}" -out "$OUT/int.crl.pem"
CA_DIR="$(ca_dir root)" quiet openssl ca "${root_ca[@]}" \
  -gencrl "${crl_dates[@]}" -out "$OUT/root.crl.pem"
# 21. bad-signature: flip one bit of the last DER byte, which is the last byte
#     of the ECDSA signature's s inside the signatureValue BIT STRING, so the
#     certificate still parses but its signature no longer verifies.
leaf bad-signature int server localhost
der="$TMP/bad-signature.der"
quiet openssl x509 -in "$TMP/certs/bad-signature.pem" -outform DER -out "$der"
size=$(stat -c %s "$der")
last=$(od -An -tu1 -j $((size - 1)) -N1 "$der" | tr -d ' ')
# shellcheck disable=SC2059
printf "\\x$(printf %02x $((last ^ 0x01)))" |
  dd of="$der" bs=1 seek=$((size - 1)) conv=notrunc status=none
quiet openssl x509 -inform DER -in "$der" -out "$TMP/certs/bad-signature.pem"
chain bad-signature bad-signature int
# 22. rsa-1024 (its own key: rsa-1024.key)
issue rsa-1024 rsa-1024 localhost int server
chain rsa-1024 rsa-1024 int
# 23. sha1-signature
leaf sha1-signature int server localhost -md sha1
chain sha1-signature sha1-signature int
# 24. client certificates (sent by a client, verified by a server)
leaf client-ok int client 'corpus client'
chain client-ok client-ok int
leaf client-server-auth-only int server 'corpus client'
chain client-server-auth-only client-server-auth-only int

# --- shipped keys and CA certificates -----------------------------------------------
for k in root int leaf rsa-1024; do cp "$TMP/keys/$k.key" "$OUT/"; done
for c in root int int-expired other-root int2 int-pl0 sub-int not-a-ca; do
  cp "$TMP/certs/$c.pem" "$OUT/"
done

# --- sanity checks (node's verdicts are checked by check-with-node.js) -------------
C="$TMP/certs"
ossl_verify() { openssl verify -x509_strict -CAfile "$C/root.pem" "$@" >/dev/null 2>&1; }
ossl_verify -untrusted "$C/int.pem" "$C/valid.pem" || fail 'valid does not verify'
ossl_verify -untrusted "$C/int.pem" -purpose sslclient "$C/client-ok.pem" ||
  fail 'client-ok does not verify'
ossl_verify -untrusted "$C/int.pem" -crl_check -CRLfile "$OUT/int.crl.pem" "$C/not-revoked.pem" ||
  fail 'not-revoked does not verify with int.crl.pem'
! ossl_verify -untrusted "$C/int.pem" -crl_check -CRLfile "$OUT/int.crl.pem" "$C/revoked.pem" ||
  fail 'revoked verifies with int.crl.pem'
! ossl_verify -untrusted "$C/int.pem" "$C/bad-signature.pem" || fail 'bad-signature verifies'
[[ "$(openssl x509 -in "$C/bad-signature.pem" -noout -subject)" == 'subject=CN = localhost' ]] ||
  fail 'bad-signature no longer parses'
openssl crl -in "$OUT/int.crl.pem" -noout -text | grep -q 'Revocation Date: Jan  1 00:00:00 2024 GMT' ||
  fail 'int.crl.pem: revocation date not pinned'
openssl x509 -in "$C/expired-leaf.pem" -noout -checkend 0 >/dev/null && fail 'expired-leaf is not expired'
openssl x509 -in "$C/int-expired.pem" -noout -checkend 0 >/dev/null && fail 'int-expired is not expired'
pub_leaf="$(openssl pkey -in "$OUT/leaf.key" -pubout)"
for f in "$OUT"/*.pem; do
  case ${f##*/} in
    root.pem|int.pem|int-expired.pem|other-root.pem|int2.pem|int-pl0.pem|sub-int.pem|not-a-ca.pem) continue ;;
    *.crl.pem) continue ;;
    rsa-1024.pem) want="$(openssl pkey -in "$OUT/rsa-1024.key" -pubout)" ;;
    *) want=$pub_leaf ;;
  esac
  [[ "$(openssl x509 -in "$f" -noout -pubkey)" == "$want" ]] || fail "${f##*/}: leaf does not match its key"
done

# --- install ------------------------------------------------------------------------
shopt -s nullglob
old=("$HERE"/*.pem "$HERE"/*.key)
(( ${#old[@]} == 0 )) || rm -f -- "${old[@]}"
new=("$OUT"/*)
chmod 644 "${new[@]}"
mv -- "${new[@]}" "$HERE/"
echo "certs/verify: generated ${#new[@]} files in $HERE"
