#!/usr/bin/env bash
# Builds the libFuzzer targets of the engine into build-fuzz/ (git-ignored).
#
#   fuzz/build.sh            build what is out of date
#   fuzz/build.sh --clean    remove build-fuzz/ first
#
# Mbed TLS (deps/mbedtls/library/*.c, fetched by `npm install`) and our multi-block AES-GCM
# that its GCM calls (deps/accel/*.c) are compiled once with coverage instrumentation and
# ASan+UBSan into build-fuzz/libmbedtls-fuzz.a, so the fuzzer sees coverage inside Mbed TLS; a stamp (a hash of Mbed TLS's sources and headers, the
# config headers, the compiler and the flags) rebuilds it only when one of those changed.
# Each target is then linked from fuzz/<target>.c, fuzz/fuzz_common.c, src/core/*.c and
# src/crypto/*.c (our code inside Mbed TLS, which the patched library calls).
#
# Environment: CC (default clang-14, else clang), JOBS (default nproc), FUZZ_CORE_CFLAGS
# (extra flags for src/core only).
# Needs clang 14 with its runtime: Debian packages clang-14 libclang-rt-14-dev (llvm-14 for
# symbolized reports).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build-fuzz
fuzz=$root/fuzz
mbedtls=$root/deps/mbedtls
targets=(fuzz_client fuzz_server fuzz_dtls fuzz_dtls_demux fuzz_x509 fuzz_p256_verify fuzz_gcm fuzz_in_place)

if [[ ${1:-} == --clean ]]; then
  rm -rf "$out"
fi

log() { printf 'fuzz/build: %s\n' "$*" >&2; }

if [[ -z ${CC:-} ]]; then
  if command -v clang-14 >/dev/null 2>&1; then CC=clang-14
  elif command -v clang >/dev/null 2>&1; then CC=clang
  else
    log "clang is not installed (apt-get install clang-14 libclang-rt-14-dev llvm-14)"
    exit 1
  fi
fi
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

if [[ ! -f $mbedtls/library/ssl_tls.c ]]; then
  log "deps/mbedtls is missing; fetching it (npm install does the same)"
  bash "$root/deps/fetch-mbedtls.sh"
fi

mkdir -p "$out/obj/mbedtls" "$out/obj/core" "$out/obj/crypto"
# One build at a time (two fuzz/run.sh started together share build-fuzz/).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$out/.build.lock"
  flock 9
fi

# libFuzzer's runtime: check once, with a clear hint, rather than fail at the first link.
probe=$out/obj/probe
if [[ ! -x $probe ]]; then
  printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return (int)(d && n) * 0; }\n' > "$probe.c"
  if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" 2>"$probe.log"; then
    cat "$probe.log" >&2
    log "$CC cannot link -fsanitize=fuzzer: install libclang-rt-14-dev (apt-get install libclang-rt-14-dev)"
    exit 1
  fi
fi

config_flags=(-I"$fuzz" -I"$root/deps/config" -I"$root/deps/accel" -I"$mbedtls/include" -I"$mbedtls/library" -I"$root/src/crypto"
              '-DMBEDTLS_CONFIG_FILE="fuzz_config.h"')
# Every UB check stops the run, except that the kinds fuzz/ubsan.supp names (known,
# reported findings) are built recoverable so that the file can suppress those reports; the
# binaries default to halt_on_error=1 (fuzz_common.c), so any other report of such a kind
# still stops the run. Recoverable checks are slow (all of -fsanitize=undefined recoverable
# runs 4x slower), hence only the kinds named, and a line removed makes its kind fast again.
recover=$(sed -n 's/^\([a-z-]*\):.*/\1/p' "$fuzz/ubsan.supp" 2>/dev/null | LC_ALL=C sort -u | paste -sd, -)
sanitize=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)
[[ -n $recover ]] && sanitize+=(-fsanitize-recover="$recover")
instrument=(-fsanitize=fuzzer-no-link)
lib_flags=("${sanitize[@]}" "${instrument[@]}" -w "${config_flags[@]}")

# ---- Mbed TLS, instrumented ----
archive=$out/libmbedtls-fuzz.a
stamp=$out/libmbedtls-fuzz.stamp
hash_inputs() {
  "$CC" --version
  printf '%s\n' "${lib_flags[@]}"
  (cd "$root" && find deps/mbedtls/library deps/mbedtls/include deps/mbedtls/3rdparty/everest \
     deps/config deps/accel fuzz/fuzz_config.h src/crypto \
     -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort | xargs sha256sum)
}
want=$(hash_inputs | sha256sum | cut -d' ' -f1)
if [[ -f $archive && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  log "Mbed TLS archive is up to date"
else
  log "compiling Mbed TLS ($(ls "$mbedtls"/library/*.c | wc -l) files) and deps/accel/ ($jobs jobs) with $CC"
  start=$SECONDS
  rm -f "$archive" "$stamp" "$out"/obj/mbedtls/*.o
  export FUZZ_CC=$CC FUZZ_OBJ=$out/obj/mbedtls
  # One compiler per file; the flags reach the child shell as arguments after "--".
  if ! printf '%s\n' "$mbedtls"/library/*.c "$root"/deps/accel/*.c |
      xargs -P "$jobs" -I{} bash -c \
        'f=$1; shift; o=$FUZZ_OBJ/$(basename "$f" .c).o; "$FUZZ_CC" "$@" -c "$f" -o "$o" || { echo "failed: $f" >&2; exit 255; }' \
        _ {} "${lib_flags[@]}"; then
    log "Mbed TLS failed to compile"
    exit 1
  fi
  # Everest/HACL*'s Curve25519 (src/crypto/x25519.c calls it), as deps/mbedtls.gyp builds it.
  everest=$mbedtls/3rdparty/everest
  if ! "$CC" "${lib_flags[@]}" -DMBEDTLS_ECDH_VARIANT_EVEREST_ENABLED -I"$everest/include" \
      -I"$everest/include/everest" -I"$everest/include/everest/kremlib" \
      -c "$everest/library/Hacl_Curve25519_joined.c" -o "$out/obj/mbedtls/everest_hacl.o"; then
    log "Everest's Curve25519 failed to compile"
    exit 1
  fi
  ar rcs "$archive" "$out"/obj/mbedtls/*.o
  echo "$want" > "$stamp"
  log "Mbed TLS compiled in $((SECONDS - start)) s"
fi

# ---- The engine and the shared fuzz code, instrumented ----
core_flags=("${sanitize[@]}" "${instrument[@]}" -std=c11 -Wall -Wextra "${config_flags[@]}"
            -I"$root/src/core" -Dmbedtls_ctr_drbg_random=fuzz_rng_random ${FUZZ_CORE_CFLAGS:-})
fuzz_flags=("${sanitize[@]}" "${instrument[@]}" -std=gnu11 -Wall -Wextra "${config_flags[@]}"
            -I"$root/src/core" "-DMST_FUZZ_CERTS_DIR=\"$root/certs\""
            "-DMST_FUZZ_UBSAN_SUPPRESSIONS=\"$fuzz/ubsan.supp\"")

# Objects are rebuilt when the flags change, too.
flags_stamp=$out/flags.stamp
printf '%s\n' "$CC" "${core_flags[@]}" "${fuzz_flags[@]}" > "$flags_stamp.$$"
if cmp -s "$flags_stamp.$$" "$flags_stamp"; then rm "$flags_stamp.$$"; else mv "$flags_stamp.$$" "$flags_stamp"; fi

# Recompiles $2 from $1 when the object is missing or older than the source, a header,
# this script, the Mbed TLS stamp or the flags.
compile() {
  local src=$1 obj=$2; shift 2
  local newest=$src h
  for h in "$root"/src/core/*.h "$root"/src/crypto/*.h "$fuzz"/*.h "$root/deps/config/mbedtls_stream_config.h" "$root"/deps/accel/*.h \
           "${BASH_SOURCE[0]}" "$stamp" "$flags_stamp"; do
    [[ $h -nt $newest ]] && newest=$h
  done
  if [[ ! -f $obj || $newest -nt $obj ]]; then
    "$CC" "$@" -c "$src" -o "$obj"
    echo "$obj"
  fi
}

objects=()
pids=()
for src in "$root"/src/core/*.c "$root"/src/crypto/*.c; do
  obj=$out/obj/$(basename "$(dirname "$src")")/$(basename "$src" .c).o
  objects+=("$obj")
  compile "$src" "$obj" "${core_flags[@]}" >/dev/null &
  pids+=($!)
done
for src in "$fuzz"/fuzz_common.c "${targets[@]/#/$fuzz/}" "$fuzz/record_seeds"; do
  src=${src%.c}.c
  obj=$out/obj/$(basename "$src" .c).o
  compile "$src" "$obj" "${fuzz_flags[@]}" >/dev/null &
  pids+=($!)
done
fail=0
for pid in "${pids[@]}"; do wait "$pid" || fail=1; done
if [[ $fail -ne 0 ]]; then
  log "compilation failed"
  exit 1
fi

# ---- Link ----
link() {
  local binary=$1; shift
  local newest=$archive o
  for o in "$@"; do [[ $o -nt $newest ]] && newest=$o; done
  if [[ ! -x $binary || $newest -nt $binary ]]; then
    "$CC" "${sanitize[@]}" "$@" "$archive" -lpthread -o "$binary"
    log "linked $(basename "$binary")"
  fi
}
for t in "${targets[@]}"; do
  link "$out/$t" -fsanitize=fuzzer "$out/obj/$t.o" "$out/obj/fuzz_common.o" "${objects[@]}"
done
# The recorder has a main of its own: instrumented code, sanitizers, no libFuzzer main.
link "$out/record_seeds" -fsanitize=fuzzer-no-link "$out/obj/record_seeds.o" \
  "$out/obj/fuzz_common.o" "${objects[@]}"
log "built ${targets[*]} record_seeds in $out"
