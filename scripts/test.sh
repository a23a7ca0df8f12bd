#!/usr/bin/env bash
# The whole test suite, twice: a Release build, then a Debug build with
# AddressSanitizer + UndefinedBehaviorSanitizer; then every fuzz target for
# 10 s from the checked-in corpus (clang, build-fuzz/, docs/fuzzing.md).
# Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

for kind in release asan; do
  echo "== $kind build =="
  start=$(date +%s)
  scripts/build.sh "$kind"
  dir=build; [ "$kind" = asan ] && dir=build-asan
  echo "== $kind tests (built in $(( $(date +%s) - start )) s) =="
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" --timeout 600
done

echo "== fuzz stage =="
scripts/fuzz.sh --ci 10
