#!/usr/bin/env bash
# Builds chipledger. Usage: scripts/build.sh [release|asan] [TARGET...]
# release -> build/ ; asan -> build-asan/ (Debug, AddressSanitizer + UBSan).
# With no TARGET, builds everything (programs and tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

kind="${1:-release}"
shift || true
case "$kind" in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DCHIPLEDGER_SANITIZE=ON) ;;
  *) echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
