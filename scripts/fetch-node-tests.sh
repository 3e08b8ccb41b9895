#!/usr/bin/env bash
# Fetches node's own TLS tests (test/common, test/fixtures, test/parallel/test-tls-*.js) into
# deps/node-tests/ (git-ignored) for test/node/run.js, from node's verified source tarball.
# Obtained as deps/fetch-mbedtls.sh obtains Mbed TLS; this script only touches the network
# when the tarball is not cached in deps/.cache/.
#
# Sources, tried in order:
#   1. NODE_TESTS_SOURCE: a local nodejs_$VERSION.orig.tar.xz (verified)
#   2. the cached tarball in deps/.cache/
#   3. Debian's source package nodejs from the trixie suite, fetched with a private apt state
#      directory and the mirror of this system's apt sources
# Does nothing when deps/node-tests/ already holds the tests of the verified tarball.
set -euo pipefail

VERSION=20.19.2+dfsg
SHA256=5e5559381ad031d245a8efa403458abbb73755f74c3e6380f185a4dd342b7949
TARBALL=nodejs_$VERSION.orig.tar.xz
# Only what the TLS tests need: their helpers, their fixtures and the tests themselves.
MEMBERS=('*/test/common' '*/test/fixtures' '*/test/parallel/test-tls-*.js')

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deps_dir=$root/deps
# shellcheck source=deps/debian-source.sh
source "$deps_dir/debian-source.sh"
tree=$deps_dir/node-tests
stamp=$tree/.mbedtls-stream-verified
cache=$deps_dir/.cache
tried=()

log() { printf 'fetch-node-tests: %s\n' "$*" >&2; }

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@" | cut -d' ' -f1
  else shasum -a 256 "$@" | cut -d' ' -f1; fi
}

expected_stamp="nodejs $VERSION $SHA256"
if [[ -f $stamp && $(cat "$stamp") == "$expected_stamp" ]]; then
  exit 0
fi

# Unpacks the test members of a verified tarball into deps/node-tests/ and writes the stamp.
install_tarball() {
  local tarball=$1 actual
  actual=$(sha256_of "$tarball")
  if [[ $actual != "$SHA256" ]]; then
    tried+=("$2: SHA-256 mismatch (got $actual)")
    return 1
  fi
  local staging
  staging=$(mktemp -d "$deps_dir/.unpack.XXXXXX")
  # The top directory's name varies with the packager: strip it, whatever it is.
  tar -xJf "$tarball" -C "$staging" --strip-components=1 --wildcards --no-wildcards-match-slash "${MEMBERS[@]}"
  rm -rf "$tree"
  mv "$staging" "$tree"
  echo "$expected_stamp" > "$stamp"
  log "node $VERSION tests verified (SHA-256 $SHA256) from $2: $(ls "$tree"/test/parallel | wc -l) test-tls files"
}

from_local_source() {
  local src=$NODE_TESTS_SOURCE
  if [[ -f $src ]]; then
    install_tarball "$src" "NODE_TESTS_SOURCE=$src"
  else
    tried+=("NODE_TESTS_SOURCE=$src: no such file")
    return 1
  fi
}

from_cache() {
  local cached=$cache/$TARBALL
  if [[ ! -f $cached ]]; then tried+=("cache $cached: not there"); return 1; fi
  install_tarball "$cached" "cached $cached"
}

from_debian() {
  local apt_dir=$cache/apt-nodejs
  debian_source_fetch nodejs "$TARBALL" "$apt_dir" || return 1
  install_tarball "$DEBIAN_SOURCE_FILE" "Debian's source package ($TARBALL)" || return 1
  mv "$DEBIAN_SOURCE_FILE" "$cache/$TARBALL"
  rm -rf "$apt_dir"
}

mkdir -p "$cache"
if [[ -n ${NODE_TESTS_SOURCE:-} ]]; then
  from_local_source && exit 0
elif from_cache || from_debian; then
  exit 0
fi

log "could not obtain node $VERSION's tests (SHA-256 $SHA256). Tried:"
for t in "${tried[@]}"; do log "  - $t"; done
log "Download $TARBALL yourself and run again with NODE_TESTS_SOURCE=/path/to/$TARBALL."
exit 1
