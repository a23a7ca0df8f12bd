#!/usr/bin/env bash
# Builds the libFuzzer targets (scripts/build.sh fuzz: clang, build-fuzz/)
# and runs each for SECONDS (default 60), two at a time, from the checked-in
# seed corpus tests/fuzz/corpus/<target>/ (docs/fuzzing.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   long runs: new inputs accumulate
#                                          in build-fuzz/corpus/<target>/
#   scripts/fuzz.sh --ci [SECONDS]          what scripts/test.sh runs (10 s
#                                          each): from a fresh copy of the
#                                          corpus in a temporary folder
#   scripts/fuzz.sh --seeds                 rewrites the generated seeds in
#                                          tests/fuzz/corpus/ (fuzz_corpus)
#
# Nothing is written into tests/: a crash, leak, timeout or out-of-memory
# input goes to build-fuzz/artifacts/<target>-crash-... and the script exits
# 1 after printing the failing target's report (how to keep it as a
# regression input: docs/fuzzing.md). Set FUZZ_JOBS to run more or fewer
# targets at once (default: the number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

ci=false
if [ "${1:-}" = --ci ]; then
  ci=true
  shift
elif [ "${1:-}" = --seeds ]; then
  scripts/build.sh fuzz fuzz_corpus
  build-fuzz/fuzz_corpus tests/fuzz/corpus
  exit 0
fi
seconds="${1:-}"
[ -n "$seconds" ] && shift
if [ -z "$seconds" ]; then
  if $ci; then seconds=10; else seconds=60; fi
fi
case "$seconds" in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [--ci] [SECONDS] [TARGET...] | --seeds" >&2; exit 2 ;;
esac

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in tests/fuzz/*_fuzz.cc; do targets+=("$(basename "$src" .cc)"); done
fi

start=$(date +%s)
scripts/build.sh fuzz
echo "== fuzz targets built in $(($(date +%s) - start)) s; running ${#targets[@]} for ${seconds} s each"

out=build-fuzz
mkdir -p "$out/artifacts" "$out/logs"
if $ci; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

# One target's run; its exit status is libFuzzer's (0: nothing found).
run() {
  local t=$1 corpus
  if $ci; then
    corpus="$work/$t"
  else
    corpus="$out/corpus/$t"
  fi
  mkdir -p "$corpus"
  # The checked-in seeds (and kept crash inputs) are copied, never written.
  if [ -d "tests/fuzz/corpus/$t" ]; then cp -n "tests/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true; fi
  # -timeout: one input may take at most 10 s; -rss_limit_mb: 2 GiB (and
  # as much for one allocation); leaks are reported (libFuzzer's default).
  "$out/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t-" "$corpus" >"$out/logs/$t.log" 2>&1
}

jobs="${FUZZ_JOBS:-$(nproc)}"
failed=()
pids=()
names=()
wait_one() {
  local pid=${pids[0]} t=${names[0]}
  pids=("${pids[@]:1}")
  names=("${names[@]:1}")
  if wait "$pid"; then
    local stats
    stats=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$out/logs/$t.log" | tail -1 | sed -E 's/^#([0-9]+)[[:space:]]+DONE +/\1 runs, /')
    echo "   $t: ok ($stats)"
  else
    echo "   $t: FAILED (log: $out/logs/$t.log)"
    failed+=("$t")
  fi
}
for t in "${targets[@]}"; do
  [ -x "$out/$t" ] || { echo "no fuzz target $t" >&2; exit 2; }
  run "$t" &
  pids+=($!)
  names+=("$t")
  [ ${#pids[@]} -ge "$jobs" ] && wait_one
done
while [ ${#pids[@]} -gt 0 ]; do wait_one; done

if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo "== $t found a failing input:"
    grep -E -A40 '^==[0-9]+==.*(ERROR|WARNING)|runtime error|deadly signal|timeout|out-of-memory' \
      "$out/logs/$t.log" | head -60
    grep -E 'Test unit written to' "$out/logs/$t.log" || true
  done
  echo "== fuzzing failed: ${failed[*]} (reproduce: build-fuzz/TARGET build-fuzz/artifacts/TARGET-crash-...)"
  exit 1
fi
echo "== fuzzing: ${#targets[@]} targets ran ${seconds} s each, nothing found ($(($(date +%s) - start)) s in all)"
