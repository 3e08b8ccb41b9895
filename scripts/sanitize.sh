#!/usr/bin/env bash
# scripts/sanitize.sh: builds the addon (our code and the Mbed TLS static library) with
# AddressSanitizer + UndefinedBehaviorSanitizer under build-asan/, then runs the whole mocha
# suite against it with the sanitizer runtime preloaded into node.
#
#   bash scripts/sanitize.sh [mocha options...]   e.g. bash scripts/sanitize.sh --grep lifetime
#
# The normal build in build/ is never touched: node-gyp always builds into ./build of the
# directory it runs in, so it runs in build-asan/src-tree/, which holds copies of the .gyp
# files and symlinks to src/, deps/config, deps/accel, deps/mbedtls, deps/list-sources.js and
# node_modules/. Objects are kept there between runs; make recompiles only what changed.
#
# Exit status: non-zero if the build fails, any test fails, or any sanitizer report appears
# (in node or in any process it spawned: every report is written to build-asan/logs/ and
# printed at the end). Needs clang/clang++ and clang's ASan runtime (Debian/Ubuntu: clang,
# libclang-rt-14-dev, and llvm-14 for llvm-symbolizer, which puts file:line in stack traces).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/sanitizer-tree.sh
source "$ROOT/scripts/sanitizer-tree.sh"
OUT=$ROOT/build-asan
TREE=$OUT/src-tree
LOGS=$OUT/logs
ADDON=$TREE/build/Release/mbedtls_stream.node

say() { echo "sanitize: $*"; }
die() { echo "sanitize: $*" >&2; exit 2; }

command -v clang >/dev/null && command -v clang++ >/dev/null || die "clang and clang++ are required"
RUNTIME=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
[[ -f $RUNTIME ]] || die "clang's ASan runtime (libclang_rt.asan-x86_64.so) is missing: apt-get install libclang-rt-14-dev"
[[ -d $ROOT/deps/mbedtls/library ]] || die "deps/mbedtls is missing: run bash deps/fetch-mbedtls.sh (or npm install) first"
[[ -x $ROOT/node_modules/.bin/node-gyp && -f $ROOT/node_modules/mocha/bin/mocha.js ]] \
  || die "node_modules is incomplete: run npm install first"

mkdir -p "$TREE/deps"
# One run at a time: two would share build-asan/.
exec 9>"$OUT/.lock"
flock 9

# --- The build tree (scripts/sanitizer-tree.sh) --------------------------------------------
prepare_tree "$ROOT" "$TREE"

# --- Build ---------------------------------------------------------------------------------
# The Makefiles gyp writes append $CFLAGS/$CXXFLAGS/$LDFLAGS after each target's own flags,
# so -O1 here overrides Mbed TLS's -O2 and node's -O3. The flags are part of each object's
# recorded command line, so changing them recompiles everything.
SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
export CC=clang CXX=clang++ LINK=clang++
export CFLAGS="$SAN_FLAGS" CXXFLAGS="$SAN_FLAGS" LDFLAGS="-fsanitize=address,undefined"
nodedir_args "$ROOT"

start=$SECONDS
say "building into ${TREE#"$ROOT"/}/build (clang, $SAN_FLAGS)"
(
  cd "$TREE"
  # configure only regenerates the Makefiles (it never cleans); objects are reused.
  "$ROOT/node_modules/.bin/node-gyp" configure "${gyp_args[@]}" --loglevel=warn
  "$ROOT/node_modules/.bin/node-gyp" build -j max --loglevel=warn
) > "$OUT/build.log" 2>&1 || { cat "$OUT/build.log" >&2; die "build failed (log: build-asan/build.log)"; }
say "build done in $((SECONDS - start))s: ${ADDON#"$ROOT"/}"

# Mbed TLS's ssl_server2 and ssl_client2 for test/mbedtls-programs.test.js, built as npm test
# builds them: without the sanitizer flags above, before the runtime is preloaded, into the
# same build-programs/ (a no-op when they are built).
env -u CC -u CXX -u LINK -u CFLAGS -u CXXFLAGS -u LDFLAGS bash "$ROOT/scripts/build-mbedtls-programs.sh" >/dev/null \
  || die "building ssl_server2 and ssl_client2 failed (see scripts/build-mbedtls-programs.sh)"

# --- Test ----------------------------------------------------------------------------------
rm -rf "$LOGS"
mkdir -p "$LOGS"
# lib/binding.js loads this addon instead of build/Release; child processes inherit it, as
# they inherit LD_PRELOAD and the options below.
export MBEDTLS_STREAM_ADDON=$ADDON
# node is not built with ASan: its runtime must be preloaded, so it comes first in the
# library list and intercepts malloc from the start.
export LD_PRELOAD=$RUNTIME${LD_PRELOAD:+:$LD_PRELOAD}
# Reports go to files, one per process (build-asan/logs/report.<pid>; ASan and UBSan share
# the path), so none is lost when a test captures a child's stderr. Leaks are not checked
# here (node itself is not leak-clean). handle_abort turns a node fatal error (abort()) into
# a report with a symbolized stack through the addon.
# quarantine_size_mb: freed memory ASan holds back to catch use-after-free; its default
# (256 MiB) reads as RSS growth in the tests that bound RSS (test/load.test.js,
# test/hostile.test.js). Options in the caller's ASAN_OPTIONS/UBSAN_OPTIONS come last and win.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:handle_abort=1:quarantine_size_mb=16:verify_asan_link_order=0:log_path=$LOGS/report${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$LOGS/report${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || command -v /usr/lib/llvm-14/bin/llvm-symbolizer || true)
if [[ -n $symbolizer ]]; then export ASAN_SYMBOLIZER_PATH=$symbolizer; fi

# The peers the tests spawn by name run without the ASan runtime: they are not what is tested,
# and with it preloaded curl (and any program calling setlocale() at startup, as stdbuf and
# libcoap's clients do) deadlocks or fails. Each wrapper takes only the runtime out of
# LD_PRELOAD, so what stdbuf preloads (libstdbuf, for line-buffered output) reaches the peer
# it runs. Node children (process.execPath) keep the runtime: they load the sanitized addon.
mkdir -p "$OUT/bin"
for tool in curl openssl gnutls-serv gnutls-cli redis-server stdbuf coap-client-openssl \
  coap-client-gnutls; do
  real=$(command -v "$tool" || true)
  [[ -n $real ]] || continue
  # Shell builtins only: a program run here would start with the runtime preloaded.
  {
    printf '#!/bin/sh\n'
    printf 'kept=\nIFS=:\nfor lib in $LD_PRELOAD; do\n'
    printf '  [ "$lib" = %q ] || kept=${kept:+$kept:}$lib\n' "$RUNTIME"
    printf 'done\nunset IFS\n'
    printf 'if [ -n "$kept" ]; then export LD_PRELOAD="$kept"; else unset LD_PRELOAD; fi\n'
    printf 'exec %q "$@"\n' "$real"
  } > "$OUT/bin/$tool"
  chmod +x "$OUT/bin/$tool"
done
export PATH=$OUT/bin:$PATH

say "running mocha with $RUNTIME preloaded"
cd "$ROOT"
set +e
node node_modules/mocha/bin/mocha.js "$@" 2>&1 | tee "$LOGS/mocha.out"
mocha_rc=${PIPESTATUS[0]}
set -e

# --- Verdict -------------------------------------------------------------------------------
reports=()
for f in "$LOGS"/report.*; do [[ -s $f ]] && reports+=("$f"); done
# In case anything bypassed log_path (a process that reset the options), scan the output too.
stray=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: [A-Za-z]*Sanitizer' "$LOGS/mocha.out" || true)

echo
for f in "${reports[@]}"; do
  echo "===== sanitizer report: ${f#"$ROOT"/} ====="
  cat "$f"
done
summary=$(grep -E '^ +[0-9]+ (passing|failing|pending)' "$LOGS/mocha.out" | sed 's/^ *//; s/ *(.*//' | paste -sd, - | sed 's/,/, /g' || true)
say "mocha: ${summary:-no summary (mocha did not finish)}, exit status $mocha_rc"
say "${#reports[@]} sanitizer report file(s) in ${LOGS#"$ROOT"/}/, $stray report line(s) in mocha's output"
if (( ${#reports[@]} > 0 || stray > 0 )); then say "FAILED: sanitizer report(s) above"; exit 1; fi
if (( mocha_rc != 0 )); then say "FAILED: mocha exited $mocha_rc"; exit 1; fi
say "OK"
