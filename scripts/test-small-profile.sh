#!/usr/bin/env bash
# The small build profile end to end (README "Small-footprint build"). In a copy of this
# checkout (the files git sees: committed, changed and new, not ignored; with the checkout's
# node_modules and its verified Mbed TLS tree and tarball, so nothing is downloaded):
#   - an unknown profile fails node-gyp configure and the install script, saying so;
#   - a default-profile binary put in prebuilds/, which node-gyp-build would load, is not used:
#     `npm install --offline --mbedtls_profile=small` builds from source;
#   - the addon built says it has the small profile;
#   - test/small-profile.test.js passes against real peers, with no test pending
#     (mocha --forbid-pending: a default build there fails this script).
# Needs the checkout installed first (npm install: its addon, a build or the prebuilt one
# test-pack.sh leaves, stands in for a prebuilt binary).
# Prints "test-small-profile: ok" and exits 0 on success. Run from .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

log() { echo "test-small-profile: $*"; }
fail() { echo "test-small-profile: $*" >&2; exit 1; }

[ -d node_modules ] || fail "no node_modules: run npm install first"
# The checkout's default-profile addon, as node-gyp-build finds it.
standin=$(node -e "process.stdout.write(require('node-gyp-build').path('.'))") \
  || fail "no addon loads here: run npm install first"
[ "$(node -p "require('./lib/binding').constants.PROFILE")" = default ] \
  || fail "the checkout's addon ($standin) does not have the default profile"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
copy=$work/mbedtls-stream
mkdir -p "$copy"

log "copying the checkout to $copy"
git ls-files -z --cached --others --exclude-standard \
  | tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$copy"
cp -a node_modules "$copy/"
# deps/fetch-mbedtls.sh keeps a verified, patched tree whose stamp still matches, else unpacks
# its cached tarball (or MBEDTLS_SOURCE when set); only without either would it download.
[ -d deps/mbedtls ] && cp -a deps/mbedtls "$copy/deps/"
if [ -d deps/.cache ]; then
  mkdir -p "$copy/deps/.cache"
  cp -a deps/.cache/*.tar.bz2 "$copy/deps/.cache/" 2>/dev/null || true
fi
cd "$copy"

log "an unknown profile is refused"
if out=$(npx --no-install node-gyp configure --mbedtls_profile=tiny 2>&1); then
  fail "node-gyp configure --mbedtls_profile=tiny succeeded"
fi
grep -q 'unknown mbedtls_profile "tiny": use one of default, small' <<<"$out" \
  || { echo "$out"; fail "node-gyp configure did not say why it failed"; }
if out=$(npm_config_mbedtls_profile=tiny node deps/install.js 2>&1); then
  fail "the install script took --mbedtls_profile=tiny"
fi
grep -q 'unknown mbedtls_profile "tiny"' <<<"$out" || { echo "$out"; fail "the install script did not say why it failed"; }
rm -rf build

log "a default-profile binary in prebuilds/, where node-gyp-build finds it"
tuple=$(node -p "process.platform + '-' + process.arch")
mkdir -p "prebuilds/$tuple"
cp "$standin" "prebuilds/$tuple/mbedtls-stream.glibc.node"
found=$(node -e "process.stdout.write(require('node-gyp-build')('.').constants.PROFILE)")
[ "$found" = default ] || fail "node-gyp-build loads a '$found' binary from prebuilds/, not the default one"

log "npm install --offline --mbedtls_profile=small"
JOBS=2 npm install --offline --no-audit --no-fund --foreground-scripts --mbedtls_profile=small >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; fail "npm install --mbedtls_profile=small failed"; }
grep -q 'the addon here has the default profile; building the small one' "$work/install.log" \
  || { cat "$work/install.log"; fail "the install script did not see the prebuilt binary and turn it down"; }
[ -f build/Release/mbedtls_stream.node ] || { cat "$work/install.log"; fail "the install did not build from source"; }
grep '^fetch-mbedtls: Mbed TLS' "$work/install.log" || true
profile=$(node -p "require('.').buildProfile")
[ "$profile" = small ] || { cat "$work/install.log"; fail "the installed addon has the '$profile' profile"; }
log "built from source: $(node -p "const { constants } = require('./lib/binding'); constants.PROFILE + ' profile, ' + constants.RECORD_CONTENT_LENGTH + '-byte records'")"

log "test/small-profile.test.js"
npx --no-install mocha --no-config --forbid-pending --timeout 60000 test/small-profile.test.js
log "ok"
