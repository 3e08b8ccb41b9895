#!/usr/bin/env bash
# Fetches the pinned Mbed TLS release into deps/mbedtls/ (git-ignored) and verifies it.
# gyp only compiles; this script is the only place that touches the network.
#
# Sources, tried in order:
#   1. MBEDTLS_SOURCE: a local release tarball (verified) or an unpacked tree (version-checked)
#   2. the upstream release download
#   3. Debian's source package from the trixie suite, whose .orig.tar.bz2 is the same tarball,
#      fetched with a private apt state directory and the mirror of this system's apt sources
# The verified tree then gets the project's own patches, deps/patches/*.patch (each says
# why; each goes when the pinned release no longer needs it).
# Does nothing when deps/mbedtls/ already holds the verified, patched release.
set -euo pipefail

VERSION=3.6.6
SHA256=8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a
TARBALL=mbedtls-$VERSION.tar.bz2
UPSTREAM_URL=https://github.com/Mbed-TLS/mbedtls/releases/download/mbedtls-$VERSION/$TARBALL

deps_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deps/debian-source.sh
source "$deps_dir/debian-source.sh"
tree=$deps_dir/mbedtls
stamp=$tree/.mbedtls-stream-verified
cache=$deps_dir/.cache
tried=()

log() { printf 'fetch-mbedtls: %s\n' "$*" >&2; }

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@" | cut -d' ' -f1
  else shasum -a 256 "$@" | cut -d' ' -f1; fi
}

patches=("$deps_dir"/patches/*.patch)
[[ -e ${patches[0]} ]] || patches=()
patch_set=none
if [[ ${#patches[@]} -gt 0 ]]; then
  patch_set=$(cat "${patches[@]}" | sha256_of - )
fi
expected_stamp="$VERSION $SHA256 patches:$patch_set"

if [[ -f $stamp && $(cat "$stamp") == "$expected_stamp" ]]; then
  exit 0
fi

# Applies deps/patches/ to a fresh tree and marks it done.
finish_tree() {
  local p
  for p in "${patches[@]}"; do
    if ! patch -p1 --forward --silent -d "$tree" < "$p"; then
      log "patch $(basename "$p") does not apply to Mbed TLS $VERSION"
      exit 1
    fi
    log "applied $(basename "$p")"
  done
  echo "$expected_stamp" > "$stamp"
}

# Unpacks a verified tarball into deps/mbedtls/ and writes the stamp.
install_tarball() {
  local tarball=$1 actual
  actual=$(sha256_of "$tarball")
  if [[ $actual != "$SHA256" ]]; then
    tried+=("$2: SHA-256 mismatch (got $actual)")
    return 1
  fi
  local staging
  staging=$(mktemp -d "$deps_dir/.unpack.XXXXXX")
  tar -xjf "$tarball" -C "$staging"
  rm -rf "$tree"
  mv "$staging/mbedtls-$VERSION" "$tree"
  rmdir "$staging"
  finish_tree
  log "Mbed TLS $VERSION verified (SHA-256 $SHA256) from $2"
}

from_local_source() {
  local src=$MBEDTLS_SOURCE
  if [[ -f $src ]]; then
    install_tarball "$src" "MBEDTLS_SOURCE=$src"
  elif [[ -d $src ]]; then
    # An unpacked tree has no tarball to hash: accept it only if it is the pinned version.
    if ! grep -q "MBEDTLS_VERSION_STRING *\"$VERSION\"" "$src/include/mbedtls/build_info.h" 2>/dev/null; then
      tried+=("MBEDTLS_SOURCE=$src: not an Mbed TLS $VERSION tree")
      return 1
    fi
    rm -rf "$tree"
    cp -R "$src" "$tree"
    finish_tree
    log "Mbed TLS $VERSION copied from the unpacked tree $src (version checked; a tree has no tarball hash)"
  else
    tried+=("MBEDTLS_SOURCE=$src: no such file or directory")
    return 1
  fi
}

from_upstream() {
  local out=$cache/$TARBALL
  if [[ -f $out ]] && install_tarball "$out" "cached $out"; then return 0; fi
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --connect-timeout 15 --max-time 300 -o "$out.part" "$UPSTREAM_URL" 2>/dev/null
  elif command -v wget >/dev/null 2>&1; then
    wget -q --timeout=15 -O "$out.part" "$UPSTREAM_URL"
  else
    tried+=("upstream: neither curl nor wget is installed")
    return 1
  fi || { rm -f "$out.part"; tried+=("upstream $UPSTREAM_URL: download failed"); return 1; }
  mv "$out.part" "$out"
  install_tarball "$out" "$UPSTREAM_URL"
}

from_debian() {
  local apt_dir=$cache/apt
  debian_source_fetch mbedtls "mbedtls_$VERSION.orig.tar.bz2" "$apt_dir" || return 1
  install_tarball "$DEBIAN_SOURCE_FILE" "Debian's source package (mbedtls_$VERSION.orig.tar.bz2)" || return 1
  mkdir -p "$cache" && cp "$DEBIAN_SOURCE_FILE" "$cache/$TARBALL"
  rm -rf "$apt_dir"
}

mkdir -p "$cache"
if [[ -n ${MBEDTLS_SOURCE:-} ]]; then
  from_local_source && exit 0
elif from_upstream || from_debian; then
  exit 0
fi

log "could not obtain Mbed TLS $VERSION (SHA-256 $SHA256). Tried:"
for t in "${tried[@]}"; do log "  - $t"; done
log "Download $TARBALL yourself and run again with MBEDTLS_SOURCE=/path/to/$TARBALL."
exit 1
