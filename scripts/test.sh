#!/usr/bin/env bash
# The whole test suite: the integration and benchmark tests, the demo, the
# package and the web explorer in headless Chromium on a Release build; then
# the unit tests and the demo on a Debug build with AddressSanitizer +
# UndefinedBehaviorSanitizer; then every fuzz target for 10 s from the
# checked-in corpus (clang, build-fuzz/, docs/fuzzing.md). Installs what it
# needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Release: the programs as they ship, driven by the integration tests, the
# benchmarks' smoke runs, the package test, the browser test and the demo.
# Sanitizers: the unit tests (in-process nodes, HTTP servers and Raft
# clusters over the same code) and the demo (the real programs, the README's
# whole story). Each test runs in one stage only, but the demo in both:
# building and running the integration tests twice took CI past 30 minutes
# (docs/performance.md, "Build time").
for kind in release asan; do
  echo "== $kind build =="
  start=$(date +%s)
  if [ "$kind" = release ]; then
    # Debian's chromium: the web explorer's browser test (docs/explorer.md).
    scripts/install-deps.sh chromium
    scripts/build.sh release chipledger chipledger-node chipledger-landmark chipledger-bench \
      chipledger-bench-apply \
      integration_tests
    dir=build only=(-R '^(integration|bench|demo|package|browser):')
  else
    scripts/build.sh asan unit_tests chipledger chipledger-node chipledger-landmark
    # Every test but the integration tests and benchmarks (not built here).
    dir=build-asan only=(-E '^(integration|bench):|_NOT_BUILT')
  fi
  echo "== $kind tests (built in $(( $(date +%s) - start )) s) =="
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" --timeout 600 "${only[@]}"
done

echo "== fuzz stage =="
scripts/fuzz.sh --ci 10
