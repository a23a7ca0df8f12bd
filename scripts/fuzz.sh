#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for
# SECONDS (default 60) from the checked-in vectors as a seed corpus.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh clang libclang-rt-14-dev
seconds="${1:-60}"
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCHIPLEDGER_FUZZ=ON -DCHIPLEDGER_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target transaction_fuzz note_fuzz state_proof_fuzz raft_frame_fuzz
for t in transaction_fuzz note_fuzz state_proof_fuzz raft_frame_fuzz; do
  corpus=build-fuzz/corpus-$t
  mkdir -p "$corpus"
  echo "== $t for ${seconds}s"
  build-fuzz/$t -max_total_time="$seconds" -max_len=4096 "$corpus"
done
