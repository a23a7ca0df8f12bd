#!/usr/bin/env bash
# Benchmark of location proofs (docs/location.md, docs/performance.md):
# N chips (default 10,000) installed at one site, located against 3
# landmarks (chipledger-landmark processes on loopback), the way a holder
# runs it: `chipledger locate --csv ... --landmark x3`. Measured twice on
# the same chips: the rounds alone (no --as: nothing recorded), then the
# rounds recorded in the ledger (locate transactions, receipts checked), so
# the difference is what recording costs. The ledger's own cost (decoding,
# every landmark and chip signature, the rules, the block's write) is the
# node's `raft.apply` counters of GET /v1/health across the recorded run.
# Prints chips/s, statements/s and the ledger's cost per locate; the data
# stays in BIN/bench-locate/.
# Usage: scripts/bench-locate.sh [CHIPS]   (default 10,000; BIN is build/, a
# Release build made here). CHIPLEDGER_BIN=DIR uses the programs in DIR as
# they are (CTest's "bench: locate smoke" runs 50 chips that way) and
# checks what a smoke run must show: every chip located, one locate
# transaction per 1,000 chips, the ledger's counters moved.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
chips=${1:-10000}
case "$chips" in '' | *[!0-9]* | 0) echo "usage: scripts/bench-locate.sh [CHIPS]" >&2; exit 2 ;; esac
if [ -n "${CHIPLEDGER_BIN:-}" ]; then
  bin=$(cd "$CHIPLEDGER_BIN" && pwd)
else
  scripts/build.sh release chipledger chipledger-node chipledger-landmark >/dev/null
  bin=$root/build
fi
command -v curl >/dev/null || scripts/install-deps.sh curl
data=$bin/bench-locate
rm -rf "$data"
cleanup=""
trap 'eval "$cleanup"' EXIT
"$bin/chipledger-node" init --dir "$data" --port 0 --template config/demo-consortium.json >/dev/null
cd "$data"
export CHIPLEDGER_TRUST=$data/consortium.json
cl() { "$bin/chipledger" --state "$data/client-state.json" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.3f", b - a}'; }
calc() { awk "BEGIN {printf \"%.1f\", $1}"; }

wait_line() { # wait_line FILE PATTERN PID -> the text after PATTERN
  local got=
  for _ in $(seq 1 200); do
    got=$(sed -n "s/.*$2//p" "$1" | head -1)
    [ -n "$got" ] && { echo "$got"; return; }
    kill -0 "$3" 2>/dev/null || break
    sleep 0.05
  done
  echo "did not start: $1" >&2
  cat "$1" >&2
  exit 1
}

"$bin/chipledger-node" --config node.toml >node.log 2>&1 &
node_pid=$!
cleanup+="kill $node_pid 2>/dev/null; wait $node_pid 2>/dev/null || true; "
CHIPLEDGER_NODE=$(wait_line node.log 'listening on ' $node_pid)
export CHIPLEDGER_NODE
applied() { # applied FIELD -> raft.apply.FIELD of the node's health answer
  curl -fsS --max-time 10 --cacert "$data/tls/ca.pem" "$CHIPLEDGER_NODE/v1/health" |
    sed -n "s/.*\"apply\":{[^}]*\"$1\":\([0-9]*\).*/\1/p"
}

# Three landmarks within 230 km of the site (on loopback each sees the chip
# near it: landmarks farther apart than max_location_km would prove the chip
# in two places, a location-mismatch), run by the regulator, added by vote.
mkdir -p landmarks
echo "[" >changes.json
urls=()
for spec in "lm-ashburn 39.0438 -77.4874" "lm-philadelphia 39.9526 -75.1652" \
            "lm-richmond 37.5407 -77.4360"; do
  read -r id lat lon <<<"$spec"
  "$bin/chipledger-landmark" keygen --out "landmarks/$id.pem" >"landmarks/$id.keygen"
  pem=$(awk '/BEGIN PUBLIC KEY/,/END PUBLIC KEY/' "landmarks/$id.keygen" | awk '{printf "%s\\n", $0}')
  printf 'id = "%s"\nkey = "%s.pem"\nlisten = "127.0.0.1:0"\nmax_pending = 100000\n' "$id" "$id" \
    >"landmarks/$id.toml"
  (cd landmarks && exec "$bin/chipledger-landmark" --config "$id.toml") >"landmarks/$id.log" 2>&1 &
  pid=$!
  cleanup+="kill $pid 2>/dev/null || true; "
  urls+=(--landmark "$(wait_line "landmarks/$id.log" 'listening on ' $pid)")
  printf '{"change": "add-landmark", "landmark": {"id": "%s", "member": "regulator", "key": "%s", "latitude": %s, "longitude": %s, "country": "US"}},\n' \
    "$id" "$pem" "$lat" "$lon" >>changes.json
done
cat >>changes.json <<'JSON'
{"change": "add-site", "site": {"id": "ashburn-dc2", "member": "datacenter", "latitude": 39.0469, "longitude": -77.4903, "country": "US"}}
]
JSON
cl propose --as regulator --key keys/regulator.pem --changes changes.json >propose.out
cl vote --as datacenter --key keys/datacenter.pem "$(sed -n 's/^proposal id //p' propose.out)" >/dev/null

echo "== $chips chips: device keys, registered, shipped to the datacenter, installed"
cl devkeys --count "$chips" --prefix LOC- --start 1 --out chips >/dev/null
dc=(--as datacenter --key keys/datacenter.pem)
cl register --as maker --key keys/maker.pem --csv chips/devices.csv --model L4 \
  --fab-site "Fab 18" --country TW >/dev/null
cl transfer --as maker --key keys/maker.pem --to datacenter --ship-to US \
  --csv chips/devices.csv >/dev/null
cl accept "${dc[@]}" --csv chips/devices.csv >/dev/null
cl install "${dc[@]}" --site ashburn-dc2 --country US --csv chips/devices.csv >/dev/null

statements=$((chips * 3))
echo "== the rounds alone: $chips chips x 3 landmarks, 1 round each, nothing recorded"
t0=$(now)
cl locate --csv chips/devices.csv "${urls[@]}" --chip-keys chips --rounds 1 >rounds.out
rounds_s=$(since "$t0")
echo "== the rounds recorded: locate transactions of up to 1,000 chips, each with its receipt"
us0=$(applied us) txs0=$(applied transactions)
t0=$(now)
cl locate --csv chips/devices.csv "${urls[@]}" --chip-keys chips --rounds 1 "${dc[@]}" >recorded.out
recorded_s=$(since "$t0")
us1=$(applied us) txs1=$(applied transactions)
txs=$(grep -c '^locate accepted' recorded.out || true)
ledger_us=$((us1 - us0)) ledger_txs=$((txs1 - txs0))
cl verify LOC-0001 >verify.out || true
verdict=$(sed -n 's/^location: //p' verify.out)
bounds=$(awk '/within [0-9]+ km of/ {for (i = 1; i < NF; i++) if ($i == "within") print $(i + 1)}' rounds.out |
  sort -n | awk '{a[NR] = $1} END {print a[1] " / " a[int((NR + 1) / 2)] " / " a[NR]}')
printf '\nlocate of %d chips against 3 landmarks (%d statements), one round each, on loopback\n' \
  "$chips" "$statements"
printf '  rounds alone:     %7.2f s  %8.0f chips/s  %8.0f statements/s\n' "$rounds_s" \
  "$(calc "$chips / $rounds_s")" "$(calc "$statements / $rounds_s")"
printf '  rounds recorded:  %7.2f s  %8.0f chips/s  (%d locate transactions, receipts checked)\n' \
  "$recorded_s" "$(calc "$chips / $recorded_s")" "$txs"
printf '  recording cost:   %7.2f s  %8.1f us per chip (its latest event fetched, 3 statements signed into the tx, verified and applied by the ledger: 3 Ed25519 + 3 ECDSA P-256)\n' \
  "$(calc "$recorded_s - $rounds_s")" "$(calc "($recorded_s - $rounds_s) * 1000000 / $chips")"
printf '  the ledger:       %7.3f s  %8.1f ms per locate transaction, %.1f us per chip (%d transactions applied: decoded, 3 Ed25519 + 3 ECDSA P-256 verified per chip, rules, the block written)\n' \
  "$(calc "$ledger_us / 1000000")" "$(calc "$ledger_us / 1000 / ($ledger_txs > 0 ? $ledger_txs : 1)")" \
  "$(calc "$ledger_us / $chips")" "$ledger_txs"
printf '  bounds (min / median / max km): %s; verify LOC-0001, location: %s\n' "$bounds" "$verdict"
echo "(data: $data)"

if [ -n "${CHIPLEDGER_BIN:-}" ]; then # the smoke run's checks
  fail() { echo "bench-locate: $*" >&2; exit 1; }
  bound=$(grep -c ' within [0-9]* km of ' rounds.out || true)
  [ "$bound" -eq "$statements" ] || fail "$bound of $statements statements gave a bound in the rounds alone"
  located=$(awk '/ within [0-9]+ km of / {print $1}' rounds.out | sort -u | wc -l)
  [ "$located" -eq "$chips" ] || fail "$located of $chips chips got a bound in the rounds alone"
  want=$(((chips + 999) / 1000))
  [ "$txs" -eq "$want" ] || fail "$txs locate transactions accepted, $want expected"
  [ "$ledger_txs" -eq "$want" ] || fail "the node applied $ledger_txs transactions, $want expected"
  [ "$ledger_us" -gt 0 ] || fail "the node's apply time did not move"
  [ -n "$verdict" ] || fail "verify LOC-0001 printed no location line"
  echo "bench-locate smoke: ok"
fi
