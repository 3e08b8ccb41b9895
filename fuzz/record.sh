#!/usr/bin/env bash
# Re-records the committed seed corpora, fuzz/corpus/<target>/, from real handshakes.
#
#   fuzz/record.sh [OUTDIR]     (default fuzz/corpus; anything else leaves it alone)
#
# Builds, runs build-fuzz/record_seeds (see record_seeds.c), adds CRL seeds for fuzz_x509
# made with the openssl CLI from certs/ca.key (skipped when openssl is missing), then
# replays every stream and datagram seed in its target and checks it gets as far as the
# recording did: a seed recorded from a complete handshake must complete the handshake in
# the target too, or the deterministic replay is broken.
# Run it again after certs/ are regenerated: seeds carry the certificates.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build-fuzz
dest=${1:-$root/fuzz/corpus}

bash "$root/fuzz/build.sh"
export MST_FUZZ_CERTS=$root/certs

# Recorded seeds are all this folder holds: start afresh so renamed scenarios leave nothing.
for t in fuzz_client fuzz_server fuzz_dtls fuzz_dtls_demux fuzz_x509 fuzz_gcm; do rm -rf "${dest:?}/$t"; done
mkdir -p "$dest"
"$out/record_seeds" "$dest"

if command -v openssl >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cat > "$tmp/ca.cnf" <<EOF
[ca]
default_ca = fuzz
[fuzz]
database = $tmp/index.txt
crlnumber = $tmp/crlnumber
default_md = sha256
default_crl_days = 36500
EOF
  : > "$tmp/index.txt"
  echo 01 > "$tmp/crlnumber"
  ca=(-config "$tmp/ca.cnf" -keyfile "$root/certs/ca.key" -cert "$root/certs/ca.pem")
  openssl ca "${ca[@]}" -gencrl -out "$tmp/empty.pem" 2>/dev/null
  openssl ca "${ca[@]}" -revoke "$root/certs/intermediate.pem" -crl_reason keyCompromise 2>/dev/null
  openssl ca "${ca[@]}" -gencrl -out "$tmp/revoked.pem" 2>/dev/null
  openssl crl -in "$tmp/revoked.pem" -outform DER -out "$tmp/revoked.der"
  # fuzz_x509 byte 0: 2 = add_crl, +4 = then a session, +8 = trust ca.pem first.
  { printf '\x02'; cat "$tmp/empty.pem"; } > "$dest/fuzz_x509/crl-empty.pem"
  { printf '\x0e'; cat "$tmp/revoked.pem"; } > "$dest/fuzz_x509/crl-revoked-with-ca.pem"
  { printf '\x0a'; cat "$tmp/revoked.der"; } > "$dest/fuzz_x509/crl-revoked.der"
  echo "CRL seeds: crl-empty.pem crl-revoked-with-ca.pem crl-revoked.der"
else
  echo "openssl is not installed: no CRL seeds"
fi

# fuzz_gcm seeds: no handshake to record; header (options, IV length, AAD length, tag length,
# split seed, parameter; see fuzz_gcm.c), 32 key bytes, then IV, AAD and data from a fixed
# pattern. One seed per key size and option, with data around the 8- and 16-block steps.
mkdir -p "$dest/fuzz_gcm"
gcm_seed() {
  local name=$1 header=$2 bytes=$3
  { printf "$header"; head -c $((32 + bytes)) < <(yes 'mbedtls-stream fuzz_gcm seed 0123456789' | tr -d '\n'); } \
    > "$dest/fuzz_gcm/$name"
}
gcm_seed aes128-tls12-record '\x00\x00\x0d\x0c\x01\x00' $((12 + 13 + 300))
gcm_seed aes256-tls13-record '\x02\x00\x05\x0c\x07\x00' $((12 + 5 + 4096))
gcm_seed aes192-iv-60-split '\x05\x3b\x40\x07\x33\x00' $((60 + 64 + 1000))
gcm_seed aes128-counter-wraps '\x08\x00\x00\x0c\x09\x05' $((12 + 520))
gcm_seed aes256-overlap '\x13\x00\x11\x0c\x0b\x0f' $((12 + 17 + 8200))
echo "fuzz_gcm seeds: $(ls "$dest/fuzz_gcm" | wc -l)"

# Replay check: each seed's session must end as its recording did.
status=0
check() {
  local target=$1 file=$2 want=$3 got
  got=$(MST_FUZZ_VERBOSE=1 "$out/$target" -runs=1 "$file" 2>&1 | sed -n 's/^fuzz: \(client\|server\) [^:]*: //p' | head -1)
  if [[ $got != *"$want"* ]]; then
    echo "replay check: $target $(basename "$file"): got '$got', wanted '$want'"
    status=1
  fi
}
for t in fuzz_client fuzz_server fuzz_dtls fuzz_dtls_demux; do
  for f in "$dest/$t"/*; do
    case $(basename "$f") in
      *required-nocert*) check "$t" "$f" "failed" ;;
      *) check "$t" "$f" "handshake done, got data, peer closed" ;;
    esac
  done
done
[[ $status -eq 0 ]] && echo "replay check: every recorded handshake replays in its target"
du -sh "$dest"
find "$dest" -type f | wc -l | sed 's/$/ seed files/'
exit $status
