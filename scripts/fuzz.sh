#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cpp, clang with ASan+UBSan) in build-fuzz and
# runs each one for N seconds on a copy of its seed corpus (tests/fuzz/corpus/<target>), so runs
# never grow the committed corpus. Prints the executions each target reached; exits non-zero if
# any target crashes, times out or breaks a property. Crash inputs are kept in
# build-fuzz/artifacts/.
#   scripts/fuzz.sh         20 s per target (the test command's short run)
#   scripts/fuzz.sh 600     long run: 10 minutes per target
# TMPDIR (default /tmp) holds the corpus copies. wal_recovery_fuzz's data directories go to
# /dev/shm when it is writable (log_store fsyncs: on a busy disk that is 10-20x slower), else to
# the same place; FUZZ_WAL_DIR overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-20}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: $0 [seconds-per-target]" >&2
  exit 2
fi

bash scripts/install-deps.sh
# clang with the libFuzzer runtime: check by linking a trivial fuzzer.
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
probe() {
  command -v clang++ >/dev/null &&
    echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
    clang++ -x c++ -fsanitize=fuzzer,address,undefined - -o "$probe_dir/probe" 2>/dev/null
}
if ! probe; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "installing: clang libclang-rt-14-dev"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    clang libclang-rt-14-dev
  probe || { echo "clang cannot link a libFuzzer target" >&2; exit 1; }
fi

echo "== fuzz build (clang, libFuzzer + ASan + UBSan)"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPREZ_FUZZ=ON \
  -DPREZ_TESTS=OFF -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target prez_fuzz

artifacts=build-fuzz/artifacts
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/prez-fuzz.XXXXXX")
wal_base=${FUZZ_WAL_DIR:-}
if [ -z "$wal_base" ]; then
  wal_base=$work
  [ -d /dev/shm ] && [ -w /dev/shm ] && wal_base=/dev/shm
fi
wal_dir=$(mktemp -d "$wal_base/prez-fuzz-wal.XXXXXX")
trap 'rm -rf "$probe_dir" "$work" "$wal_dir"' EXIT
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
summary=()
for source in tests/fuzz/*_fuzz.cpp; do
  target=$(basename "$source" .cpp)
  corpus="$work/$target"
  mkdir -p "$corpus"
  [ -d "tests/fuzz/corpus/$target" ] && cp -R "tests/fuzz/corpus/$target/." "$corpus/"
  echo "== $target: ${seconds} s on a copy of tests/fuzz/corpus/$target"
  log="$work/$target.log"
  status=0
  (cd "$work" && TMPDIR="$wal_dir" "$root/build-fuzz/$target" "$corpus" -max_total_time="$seconds" \
     -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
     -artifact_prefix="$root/$artifacts/$target-") >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  line=$(printf '%-20s %12s execs %8s execs/s' "$target" "${execs:-?}" "${rate:-?}")
  if [ "$status" -ne 0 ]; then
    line+="  FAILED (exit $status)"
    failed+=("$target")
    echo "--- $target log (tail):"
    tail -n 60 "$log"
  fi
  echo "$line"
  summary+=("$line")
done

echo "== fuzz summary (${seconds} s per target)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz targets failed: ${failed[*]} (reproducers in $artifacts/)" >&2
  exit 1
fi
