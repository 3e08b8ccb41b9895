#!/usr/bin/env bash
# Runs the engine's libFuzzer targets.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60; `fuzz/run.sh 15` is the CI run, about a minute and a half
# for all eight). Builds first (fuzz/build.sh). Per target:
#   1. replays every file in fuzz/regressions/<target>/ (inputs that once failed);
#   2. fuzzes for SECONDS from the committed seeds fuzz/corpus/<target>/ plus the scratch
#      corpus build-fuzz/corpus/<target>/, where new inputs go (the committed folder is only
#      read), with -print_final_stats=1;
#   3. prints the executions, exec/s, coverage, and one summary line.
# A crash, leak, UB report or timeout fails the target: its reproducer is saved in
# build-fuzz/artifacts/<target>/ and the log in build-fuzz/logs/<target>.log. Exits
# non-zero when any target failed; the last line is "fuzz: N passed, N failed" (one test per
# target's regressions and one per target's fuzzing).
#
# Environment: FUZZ_ARGS (more libFuzzer flags, e.g. -jobs=2 or -use_value_profile=1).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build-fuzz
all_targets=(fuzz_client fuzz_server fuzz_dtls fuzz_dtls_demux fuzz_x509 fuzz_p256_verify fuzz_gcm fuzz_in_place)

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -lt 1 ]]; then
  echo "usage: fuzz/run.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")

if ! bash "$root/fuzz/build.sh"; then
  echo "fuzz: build failed"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi

export MST_FUZZ_CERTS=$root/certs
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
# UBSan's defaults are compiled in (fuzz_common.c): halt_on_error=1, fuzz/ubsan.supp.
for s in llvm-symbolizer-14 /usr/lib/llvm-14/bin/llvm-symbolizer llvm-symbolizer; do
  if command -v "$s" >/dev/null 2>&1; then
    export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v "$s")}
    break
  fi
done

# Inputs larger than the biggest seed are explored, but not without bound.
max_len() {
  case $1 in
    fuzz_x509) echo 8192 ;;
    fuzz_p256_verify) echo 256 ;;
    *) echo 12288 ;;
  esac
}

passed=0
failed=0
summaries=()
mkdir -p "$out/logs"

stat_of() { sed -n "s/^stat::$2: *\([0-9]*\).*/\1/p" "$1" | tail -1; }

for t in "${targets[@]}"; do
  binary=$out/$t
  if [[ ! -x $binary ]]; then
    echo "fuzz: no target $t"
    failed=$((failed + 1))
    continue
  fi
  log=$out/logs/$t.log
  artifacts=$out/artifacts/$t
  mkdir -p "$artifacts" "$out/corpus/$t"

  # ---- 1. regressions ----
  regressions=()
  if [[ -d $root/fuzz/regressions/$t ]]; then
    while IFS= read -r -d '' f; do regressions+=("$f"); done \
      < <(find "$root/fuzz/regressions/$t" -type f ! -name '*.md' -print0 | sort -z)
  fi
  if [[ ${#regressions[@]} -gt 0 ]]; then
    reg_log=$out/logs/$t.regressions.log
    if "$binary" -runs=1 -timeout=25 -artifact_prefix="$artifacts/" "${regressions[@]}" \
         >"$reg_log" 2>&1; then
      echo "fuzz: $t: ${#regressions[@]} regression input(s) pass"
      passed=$((passed + 1))
    else
      echo "fuzz: $t: a regression input fails (log: $reg_log):"
      grep -E '^Running:|ERROR|runtime error|SUMMARY' "$reg_log" | tail -8 | sed 's/^/    /'
      failed=$((failed + 1))
    fi
  fi

  # ---- 2. fuzzing ----
  # fuzz_in_place takes fuzz_client's inputs, and its seeds.
  seeds=$root/fuzz/corpus/${t/fuzz_in_place/fuzz_client}
  dict=()
  [[ -f $root/fuzz/$t.dict ]] && dict=(-dict="$root/fuzz/$t.dict")
  echo "fuzz: $t: fuzzing for $seconds s (seeds $(find "$seeds" -type f 2>/dev/null | wc -l), scratch corpus $(find "$out/corpus/$t" -type f | wc -l))"
  # shellcheck disable=SC2086
  "$binary" -max_total_time="$seconds" -print_final_stats=1 -timeout=25 \
    -max_len="$(max_len "$t")" -artifact_prefix="$artifacts/" "${dict[@]}" ${FUZZ_ARGS:-} \
    "$out/corpus/$t" "$seeds" >"$log" 2>&1
  rc=$?

  runs=$(stat_of "$log" number_of_executed_units)
  speed=$(stat_of "$log" average_exec_per_sec)
  new=$(stat_of "$log" new_units_added)
  rss=$(stat_of "$log" peak_rss_mb)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  echo "fuzz: $t: stat::number_of_executed_units: ${runs:-?}, exec/s: ${speed:-?}, cov: ${cov:-?}, ft: ${ft:-?}, corpus: ${corp:-?} (+${new:-0} new), peak RSS: ${rss:-?} MB"
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
    summaries+=("$t: ok, ${runs:-?} runs in $seconds s (${speed:-?}/s), cov ${cov:-?} ft ${ft:-?}")
  else
    failed=$((failed + 1))
    artifact=$(grep -o 'Test unit written to .*' "$log" | tail -1 | sed 's/Test unit written to //')
    echo "fuzz: $t: FAILED (exit $rc); log: $log"
    grep -E 'ERROR: |runtime error|SUMMARY|^    #[0-9] ' "$log" | head -14 | sed 's/^/    /'
    [[ -n $artifact ]] && echo "    reproduce: $binary $artifact"
    summaries+=("$t: FAILED (exit $rc) after ${runs:-?} runs${artifact:+, input $artifact}")
  fi
done

for s in "${summaries[@]}"; do echo "fuzz: $s"; done
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
