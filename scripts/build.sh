#!/usr/bin/env bash
# Builds chipledger. Usage: scripts/build.sh [release|asan|fuzz] [TARGET...]
# release -> build/ ; asan -> build-asan/ (Debug -g1, AddressSanitizer + UBSan);
# fuzz -> build-fuzz/ (clang, -O1, libFuzzer + ASan + UBSan: only the fuzz
# targets and the corpus generator, docs/fuzzing.md).
# With no TARGET, builds everything (programs and tests; for fuzz: `fuzz`).
set -euo pipefail
cd "$(dirname "$0")/.."

kind="${1:-release}"
shift || true
compiler=()
case "$kind" in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  # -g1: line tables for the sanitizers' stack traces, no variable info
  # (a fifth of the compile time; docs/performance.md, "Build time").
  asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1
                               -DCHIPLEDGER_SANITIZE=ON) ;;
  fuzz)
    dir=build-fuzz
    compiler=(-DCMAKE_CXX_COMPILER=clang++)
    flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -gline-tables-only"
           -DCHIPLEDGER_FUZZ=ON -DCHIPLEDGER_TESTS=OFF)
    [ $# -eq 0 ] && set -- fuzz
    ;;
  *) echo "usage: scripts/build.sh [release|asan|fuzz] [TARGET...]" >&2; exit 2 ;;
esac
if [ "$kind" = fuzz ]; then
  scripts/install-deps.sh clang libclang-rt-14-dev
else
  scripts/install-deps.sh
fi
# The compiler is fixed when a build folder is first configured.
[ -f "$dir/CMakeCache.txt" ] && compiler=()
cmake -S . -B "$dir" -G Ninja "${compiler[@]}" "${flags[@]}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
