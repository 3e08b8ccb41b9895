#!/usr/bin/env bash
# scripts/tsan.sh: builds test/c/threads_test.c (the engine's sessions on several threads at
# once, sharing configs, trust, the resumption store, PSA's keys and the process's DRBG) with
# ThreadSanitizer, together with everything it runs: src/core, Mbed TLS, and our crypto in
# src/crypto and deps/accel. Then runs it several times, with 2, 3, 4 and 8 threads (see Run
# below); any data race or other TSan report fails.
#
#   bash scripts/tsan.sh [threads_test options]   e.g. bash scripts/tsan.sh --connections 64
#
# As scripts/sanitize.sh, the build happens under build-tsan/ (git-ignored), never in build/:
# node-gyp writes its Makefiles into ./build of the directory it runs in, so it runs in
# build-tsan/src-tree/, which holds copies of the .gyp files and symlinks to src/, test/,
# deps/config, deps/accel, deps/mbedtls, deps/list-sources.js and node_modules/. Only the
# threads_test target is made (the addon is not: node is not built with TSan). Objects are
# kept between runs; make recompiles only what changed.
#
# Exit status: non-zero if the build fails, a check of threads_test fails, or TSan reports
# anything (the report is printed; build-tsan/threads_test.out keeps the whole output).
# Needs clang and clang's TSan runtime (Debian/Ubuntu: clang, libclang-rt-14-dev, and llvm-14
# for llvm-symbolizer, which puts file:line in stack traces).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/sanitizer-tree.sh
source "$ROOT/scripts/sanitizer-tree.sh"
OUT=$ROOT/build-tsan
TREE=$OUT/src-tree
PROGRAM=$TREE/build/Release/threads_test

say() { echo "tsan: $*"; }
die() { echo "tsan: $*" >&2; exit 2; }

command -v clang >/dev/null && command -v clang++ >/dev/null || die "clang and clang++ are required"
[[ -f $(clang -print-file-name=libclang_rt.tsan-x86_64.a) ]] \
  || die "clang's TSan runtime (libclang_rt.tsan-x86_64.a) is missing: apt-get install libclang-rt-14-dev"
[[ -d $ROOT/deps/mbedtls/library ]] || die "deps/mbedtls is missing: run bash deps/fetch-mbedtls.sh (or npm install) first"
[[ -x $ROOT/node_modules/.bin/node-gyp ]] || die "node_modules is incomplete: run npm install first"

mkdir -p "$TREE/deps"
# One run at a time: two would share build-tsan/.
exec 9>"$OUT/.lock"
flock 9

# --- The build tree (scripts/sanitizer-tree.sh) --------------------------------------------
prepare_tree "$ROOT" "$TREE"

# --- Build ---------------------------------------------------------------------------------
# gyp's Makefiles put $CFLAGS after each target's own flags, so -O1 here overrides Mbed TLS's
# -O2. The flags are part of each object's recorded command line: changing them recompiles.
TSAN_FLAGS="-fsanitize=thread -fno-omit-frame-pointer -g -O1"
export CC=clang CXX=clang++ LINK=clang++
export CFLAGS="$TSAN_FLAGS" CXXFLAGS="$TSAN_FLAGS" LDFLAGS="-fsanitize=thread"
nodedir_args "$ROOT"

start=$SECONDS
say "building threads_test into ${TREE#"$ROOT"/}/build (clang, $TSAN_FLAGS)"
(
  cd "$TREE"
  # configure only regenerates the Makefiles (it never cleans); objects are reused.
  "$ROOT/node_modules/.bin/node-gyp" configure "${gyp_args[@]}" --loglevel=warn
  make -C build BUILDTYPE=Release -j "$(nproc)" threads_test
) > "$OUT/build.log" 2>&1 || { cat "$OUT/build.log" >&2; die "build failed (log: build-tsan/build.log)"; }
say "build done in $((SECONDS - start))s: ${PROGRAM#"$ROOT"/}"

# --- Run -----------------------------------------------------------------------------------
# halt_on_error: the first report ends the run (exit code 66). Reports go to stderr, which is
# kept with the program's output. A suppressions file would be scripts/tsan.supp, for proven
# false positives only, each explained there; there is none. Options in the caller's
# TSAN_OPTIONS come last and win.
options="halt_on_error=1:exitcode=66:second_deadlock_stack=1"
if [[ -f $ROOT/scripts/tsan.supp ]]; then options+=":suppressions=$ROOT/scripts/tsan.supp"; fi
symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || command -v /usr/lib/llvm-14/bin/llvm-symbolizer || true)
if [[ -n $symbolizer ]]; then options+=":external_symbolizer_path=$symbolizer"; fi
export TSAN_OPTIONS="$options${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

# Several runs of threads_test, TSAN_ROUNDS (2) rounds of one per thread count in
# TSAN_THREADS (2 3 4 8). Each process starts all its threads at once, and the first
# connections' steps, which also make the first uses of what is set up lazily (P-256
# tables, PSA key slots, the AES-GCM choice), overlap most. TSan sees a race only in a run
# where the two accesses happen with nothing ordering them: a deliberately racy counter in
# mst_p256_verify() showed in about half of single runs, so there are several.
start=$SECONDS
rc=0
: > "$OUT/threads_test.out"
for round in $(seq "${TSAN_ROUNDS:-2}"); do
  for threads in ${TSAN_THREADS:-2 3 4 8}; do
    say "round $round: threads_test --threads $threads${*:+ $*} (TSAN_OPTIONS=$TSAN_OPTIONS)"
    set +e
    "$PROGRAM" --threads "$threads" "$@" "$ROOT/certs" > "$OUT/threads_test.run" 2>&1
    run_rc=$?
    set -e
    tee -a "$OUT/threads_test.out" < "$OUT/threads_test.run"
    if (( run_rc != 0 )); then rc=$run_rc; break 2; fi
  done
done

# --- Verdict -------------------------------------------------------------------------------
reports=$(grep -c '^WARNING: ThreadSanitizer:\|^ThreadSanitizer:\|^==[0-9]*==ERROR: ThreadSanitizer' "$OUT/threads_test.out" || true)
runs=$(grep -cE '^threads: [0-9]+ passed, 0 failed$' "$OUT/threads_test.out" || true)
echo
say "$runs run(s) passed, exit status $rc, $reports TSan report line(s), $((SECONDS - start))s"
if (( reports > 0 )); then say "FAILED: ThreadSanitizer report(s) above"; exit 1; fi
if (( rc != 0 )); then say "FAILED: threads_test exited $rc"; exit 1; fi
say "OK"
