#!/usr/bin/env bash
# scripts/build-mbedtls-programs.sh: builds Mbed TLS's own test programs ssl_server2 and
# ssl_client2 (programs/ssl/ in the fetched tree) into build-programs/ (git-ignored), for
# test/mbedtls-programs.test.js: the reference for what an Mbed TLS device does.
#
#   bash scripts/build-mbedtls-programs.sh     prints the folder holding the two programs
#
# They are built by Mbed TLS's own CMake build with its default configuration
# (include/mbedtls/mbedtls_config.h), not ours, from deps/mbedtls/ as deps/fetch-mbedtls.sh
# left it (with deps/patches/ applied). Does nothing when the programs were already built
# from the same tree: the stamp records the tree's own stamp, so a new release or a changed
# patch set rebuilds them. Needs cmake and a C compiler.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TREE=$ROOT/deps/mbedtls
OUT=$ROOT/build-programs
PROGRAMS=$OUT/programs/ssl
STAMP=$OUT/.built-from

die() { echo "build-mbedtls-programs: $*" >&2; exit 2; }

[[ -f $TREE/.mbedtls-stream-verified ]] \
  || die "deps/mbedtls is missing: run bash deps/fetch-mbedtls.sh (or npm install) first"
command -v cmake >/dev/null || die "cmake is required (Debian: apt-get install cmake)"

mkdir -p "$OUT"
# One build at a time: two test runs in this clone would share build-programs/.
exec 9>"$OUT/.lock"
flock 9

wanted=$(cat "$TREE/.mbedtls-stream-verified")
if [[ -f $STAMP && $(cat "$STAMP") == "$wanted" && -x $PROGRAMS/ssl_server2 && -x $PROGRAMS/ssl_client2 ]]; then
  echo "$PROGRAMS"
  exit 0
fi

rm -f "$STAMP"
# Release build, no tests; only the two programs and what they link (the three libraries
# and the test helpers ssl_server2 and ssl_client2 use for their built-in keys). Warnings
# stay warnings: a newer compiler's new warning in third-party code must not stop the tests.
cmake -S "$TREE" -B "$OUT" -DCMAKE_BUILD_TYPE=Release -DENABLE_TESTING=OFF \
  -DMBEDTLS_FATAL_WARNINGS=OFF >"$OUT/configure.log" 2>&1 \
  || { cat "$OUT/configure.log" >&2; die "cmake configure failed"; }
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
cmake --build "$OUT" --target ssl_server2 ssl_client2 --parallel "$jobs" >"$OUT/build.log" 2>&1 \
  || { tail -50 "$OUT/build.log" >&2; die "build failed (full log: $OUT/build.log)"; }
echo "$wanted" > "$STAMP"
echo "$PROGRAMS"
