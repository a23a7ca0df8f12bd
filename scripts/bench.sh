#!/usr/bin/env bash
# Builds the node and the benchmark (Release, build/) and runs the benchmark:
# by default every scenario at its default size, each on a fresh node, each
# result printed beside the machine's Ed25519 verification limit; the results
# go to build/bench-results.json unless --out is given.
# Usage: scripts/bench.sh [chipledger-bench options]   (see docs/performance.md)
#   scripts/bench.sh --scenario transfers --count 50000 --concurrency 64
#   scripts/bench.sh --scenario register --count 10000000     # memory at 10 M serials
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release chipledger-node chipledger-bench >/dev/null
args=("$@")
has_out=0
for a in "${args[@]}"; do
  case "$a" in --out | --out=*) has_out=1 ;; esac
done
[ "$has_out" = 1 ] || args+=(--out build/bench-results.json)
exec build/chipledger-bench "${args[@]}"
