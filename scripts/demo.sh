#!/usr/bin/env bash
# The main job on embedded defaults: builds everything, creates the demo
# consortium of config/demo-consortium.json in demo-data/, starts one
# chipledger-node and plays the custody story of 1,000 chips with the
# chipledger CLI:
#   lot 1  distributor -> server integrator, packed 8 per server -> US datacenter:
#          installed, attested by the chips themselves            -> verdict ok
#   lot 2  toward a cloud in a restricted destination (AE): refused without
#          a license; the regulator licenses it; installed, attested -> ok
#   lot 3  accepted by a broker who never passes it on; flagged    -> flagged
#   lot 4  declared installed in the US datacenter, but the chips answer the
#          regulator's Ashburn landmark 70 ms late (a far continent) -> location-unproven
# (landmarks and sites are added by a governance vote first, and lots 1 and 2
# are located by a landmark near their site), and ends with a verdict table
# of a few serials of each lot.
# CHIPLEDGER_BIN=DIR uses programs already built in DIR instead of building,
# CHIPLEDGER_DEMO_DATA=DIR keeps the data there instead of demo-data/ (CTest's
# "demo:" test runs it so, on each build's programs). Every verdict the story
# tells is checked: a different one stops the demo with exit 1.
# `scripts/demo.sh --cluster` plays the same story against a local 3-node
# cluster (scripts/cluster.sh, data in demo-cluster/, quorum-cosigned
# checkpoints) instead of one node.
set -euo pipefail
cluster=false
if [ "${1:-}" = "--cluster" ]; then cluster=true; fi
cd "$(dirname "$0")/.."
root=$PWD
if [ -n "${CHIPLEDGER_BIN:-}" ]; then
  bin=$(cd "$CHIPLEDGER_BIN" && pwd)
else
  scripts/build.sh release chipledger chipledger-node chipledger-landmark >/dev/null
  bin=$root/build
fi

data=${CHIPLEDGER_DEMO_DATA:-$root/demo-data}
rm -rf "$data"
# What to stop on exit (the node or cluster, the landmarks), added as started.
cleanup=""
trap 'eval "$cleanup"' EXIT
started=$(date +%s)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
show() { # prints a command line, quoting arguments with spaces
  printf '$'
  for arg in "$@"; do
    case $arg in *[[:space:]]*) printf ' "%s"' "$arg" ;; *) printf ' %s' "$arg" ;; esac
  done
  printf '\n'
}
run() { show "$@"; "$@"; }
# A command the ledger must refuse: shows the reason and the exit status.
refused() {
  show "$@"
  local status=0
  "$@" || status=$?
  [ "$status" -ne 0 ] || { echo "(unexpectedly accepted)"; exit 1; }
  echo "(exit $status — refused, nothing changed)"
}
# A verification whose verdict is part of the story: `expect CODE WHAT cmd...`
# shows the exit status and stops the demo when it is not CODE.
expect() {
  local want=$1 what=$2 status=0
  shift 2
  show "$@"
  "$@" || status=$?
  [ "$status" -eq "$want" ] || { echo "(exit $status, not $want: the story went wrong)"; exit 1; }
  echo "(exit $status — $what)"
}
cl() { "$bin/chipledger" "$@"; }
serials() { # serials PREFIX FIRST LAST -> --serial PREFIX0001 ...
  for i in $(seq "$2" "$3"); do printf -- '--serial %s%04d ' "$1" "$i"; done
}
lot_csv() { # lot_csv FILE FIRST LAST
  { echo serial; for i in $(seq "$2" "$3"); do printf 'GPU-%04d\n' "$i"; done; } >"$1"
}

step "1. the consortium: members, roles, countries and export policy from config/demo-consortium.json"
if $cluster; then
  data=$root/demo-cluster
  rm -rf "$data"
  CHIPLEDGER_CLUSTER_TEMPLATE=config/demo-consortium.json scripts/cluster.sh start "$data" \
    >"$root/demo-cluster.out"
  cleanup+='"$root/scripts/cluster.sh" stop "$data" >/dev/null 2>&1 || true; '
  cat "$root/demo-cluster.out"
  eval "$(grep '^export CHIPLEDGER_NODE=' "$root/demo-cluster.out")"
else
  "$bin/chipledger-node" init --dir "$data" --port 0 --template config/demo-consortium.json
fi
cd "$data"
# Every submission is believed only with a receipt checked against the trust
# file; the CLI's checkpoint memory stays with the demo's data.
export CHIPLEDGER_TRUST=$data/consortium.json
cl() { "$bin/chipledger" --state "$data/client-state.json" "$@"; }
say "members (id, role, country):"
sed -n 's/.*"id": "\([a-z-]*\)".*"roles": \["\([a-z]*\)"\].*"country": "\([A-Z]*\)".*/\1 \2 \3/p' \
  "$root/config/demo-consortium.json" | while read -r id role country; do
  printf '     %-12s %-13s %s\n' "$id" "$role" "$country"
done
say "policy: H100-SXM5 and ECCNs 3A090/4A090 are controlled; AE, CN, HK and RU are restricted"
say "destinations (shipping there needs an export license); attestations must be under 168 h old"

if ! $cluster; then
step "2. start one chipledger-node (RocksDB in demo-data/data)"
"$bin/chipledger-node" --config node.toml >node.log 2>&1 &
node_pid=$!
cleanup+='kill $node_pid 2>/dev/null; wait $node_pid 2>/dev/null || true; '
url=
for _ in $(seq 1 100); do
  url=$(grep -o 'https\{0,1\}://[0-9.]*:[0-9]*' node.log 2>/dev/null | head -1 || true)
  [ -n "$url" ] && break
  kill -0 $node_pid 2>/dev/null || { cat node.log; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the node did not start"; cat node.log; exit 1; }
export CHIPLEDGER_NODE=$url
cat node.log
fi

step "3. the fab makes 1,000 H100s; each chip carries its own device key (simulated here)"
run cl devkeys --count 1000 --prefix GPU- --start 1 --out chips
say "chips/GPU-0001.pem stays inside the chip (its secure element); the public key goes on the ledger:"
sed -n '1,3p' chips/devices.csv | cut -c1-90 | sed 's/^/     /'

step "4. the manufacturer registers all 1,000, with their device keys, in one bulk call"
run cl register --as maker --key keys/maker.pem --csv chips/devices.csv \
  --model H100-SXM5 --eccn 3A090 --fab-site "Fab 18, Tainan" --country TW

step "5. maker exports the 1,000 to the distributor in Singapore, who accepts"
run cl transfer --as maker --key keys/maker.pem --to distributor --ship-to SG --csv chips/devices.csv
run cl accept --as distributor --key keys/distributor.pem --csv chips/devices.csv

step "6. LOT 1 (GPU-0001..0064): to a US server integrator, into servers, to a US datacenter"
lot_csv lot1.csv 1 64
run cl transfer --as distributor --key keys/distributor.pem --to integrator --ship-to US --csv lot1.csv
run cl accept --as integrator --key keys/integrator.pem --csv lot1.csv
say "the integrator builds 8 servers of 8 GPUs (each server is a unit on the ledger):"
for s in $(seq 1 8); do
  first=$(( (s - 1) * 8 + 1 ))
  # shellcheck disable=SC2046
  run cl pack --as integrator --key keys/integrator.pem --unit "SRV-$(printf %04d "$s")" \
    --unit-model HGX-H100-8GPU $(serials GPU- "$first" $((first + 7)))
done
# shellcheck disable=SC2046
servers=$(serials SRV- 1 8)
say "it ships the servers (not loose chips) to the datacenter, which accepts and installs them:"
# shellcheck disable=SC2086
run cl transfer --as integrator --key keys/integrator.pem --to datacenter --ship-to US $servers
# shellcheck disable=SC2086
run cl accept --as datacenter --key keys/datacenter.pem $servers
# shellcheck disable=SC2086
run cl install --as datacenter --key keys/datacenter.pem --site ashburn-dc2 --country US $servers
say "each GPU signs the ledger's latest verified checkpoint with its own key; the datacenter countersigns:"
# shellcheck disable=SC2086
run cl attest --as datacenter --key keys/datacenter.pem --site ashburn-dc2 --chip-keys chips \
  --trust consortium.json $servers
run cl verify GPU-0001 --trust consortium.json

step "7. LOT 2 (GPU-0101..0132): to a cloud operator in the UAE, a restricted destination"
lot_csv lot2.csv 101 132
refused cl transfer --as distributor --key keys/distributor.pem --to cloud-east --ship-to AE \
  --csv lot2.csv
say "the regulator issues an export license for exactly this shipment:"
run cl license --as regulator --key keys/regulator.pem --id EXP-2026-0042 \
  --exporter distributor --recipient cloud-east --model H100-SXM5 --quantity 32 \
  --destination AE --expires-in-days 90
run cl transfer --as distributor --key keys/distributor.pem --to cloud-east --ship-to AE \
  --license EXP-2026-0042 --csv lot2.csv
run cl license-status EXP-2026-0042
run cl accept --as cloud-east --key keys/cloud-east.pem --csv lot2.csv
run cl install --as cloud-east --key keys/cloud-east.pem --site abu-dhabi-1 --country AE --csv lot2.csv
run cl attest --as cloud-east --key keys/cloud-east.pem --site abu-dhabi-1 --chip-keys chips \
  --trust consortium.json --csv lot2.csv
run cl verify GPU-0101 --trust consortium.json

step "8. LOT 3 (GPU-0201..0300): accepted by a broker in Malaysia who never passes it on"
lot_csv lot3.csv 201 300
run cl transfer --as distributor --key keys/distributor.pem --to broker --ship-to MY --csv lot3.csv
run cl accept --as broker --key keys/broker.pem --csv lot3.csv
say "no onward shipment, no installation, no attestation; the regulator flags the lot:"
run cl flag --as regulator --key keys/regulator.pem --csv lot3.csv \
  --reason "held by broker since delivery, no onward shipment or installation: suspected diversion"
say "a flagged chip cannot move:"
refused cl transfer --as broker --key keys/broker.pem --to distributor --ship-to SG \
  --serial GPU-0201
run cl status GPU-0201

step "9. where are the chips? landmarks time the chips' answers (docs/location.md)"
say "the regulator runs two landmarks, beside Ashburn and beside Abu Dhabi (here both on loopback):"
mkdir -p landmarks
# start_landmark ID LAT LON CC -> its URL in lm_url; its public key (JSON-escaped PEM) in lm_pem
start_landmark() {
  "$bin/chipledger-landmark" keygen --out "landmarks/$1.pem" >"landmarks/$1.keygen"
  lm_pem=$(awk '/BEGIN PUBLIC KEY/,/END PUBLIC KEY/' "landmarks/$1.keygen" | awk '{printf "%s\\n", $0}')
  printf 'id = "%s"\nkey = "%s.pem"\nlisten = "127.0.0.1:0"\n' "$1" "$1" >"landmarks/$1.toml"
  (cd landmarks && exec "$bin/chipledger-landmark" --config "$1.toml") >"landmarks/$1.log" 2>&1 &
  local pid=$!
  cleanup+="kill $pid 2>/dev/null || true; "
  lm_url=
  for _ in $(seq 1 100); do
    lm_url=$(sed -n 's/.*listening on //p' "landmarks/$1.log" | head -1)
    [ -n "$lm_url" ] && break
    kill -0 $pid 2>/dev/null || { cat "landmarks/$1.log"; exit 1; }
    sleep 0.1
  done
  [ -n "$lm_url" ] || { echo "landmark $1 did not start"; exit 1; }
  say "$1 at $2, $3 ($4): $lm_url"
  printf '  {"change": "add-landmark", "landmark": {"id": "%s", "member": "regulator", "key": "%s", "latitude": %s, "longitude": %s, "country": "%s", "url": "%s"}},\n' \
    "$1" "$lm_pem" "$2" "$3" "$4" "$lm_url" >>location-changes.json
}
echo "[" >location-changes.json
start_landmark lm-ashburn 39.0438 -77.4874 US
ashburn=$lm_url
start_landmark lm-abu-dhabi 24.4539 54.3773 AE
abu_dhabi=$lm_url
cat >>location-changes.json <<'JSON'
  {"change": "add-site", "site": {"id": "ashburn-dc2", "member": "datacenter", "latitude": 39.0469, "longitude": -77.4903, "country": "US"}},
  {"change": "add-site", "site": {"id": "abu-dhabi-1", "member": "cloud-east", "latitude": 24.4667, "longitude": 54.3667, "country": "AE"}}
]
JSON
say "listing them (and the two install sites' coordinates) is a governance change: 2 of the 3 admins"
run cl propose --as regulator --key keys/regulator.pem --changes location-changes.json | tee propose.out
proposal=$(sed -n 's/^proposal id //p' propose.out)
run cl vote --as datacenter --key keys/datacenter.pem "$proposal"
say "each holder has its installed chips answer the landmark near its site (3 rounds, the fastest kept):"
run cl locate --as datacenter --key keys/datacenter.pem --landmark "$ashburn" --chip-keys chips \
  --csv lot1.csv >locate-lot1.out
sed -n '1,5p' locate-lot1.out; echo "   ..."; tail -n 1 locate-lot1.out
run cl locate --as cloud-east --key keys/cloud-east.pem --landmark "$abu_dhabi" --chip-keys chips \
  --csv lot2.csv >locate-lot2.out
sed -n '1,4p' locate-lot2.out; echo "   ..."; tail -n 1 locate-lot2.out
run cl verify GPU-0001 --trust consortium.json

step "10. LOT 4 (GPU-0301..0332): on paper installed in Ashburn; in fact on another continent"
lot_csv lot4.csv 301 332
run cl transfer --as distributor --key keys/distributor.pem --to datacenter --ship-to US --csv lot4.csv
run cl accept --as datacenter --key keys/datacenter.pem --csv lot4.csv
run cl install --as datacenter --key keys/datacenter.pem --site ashburn-dc2 --country US --csv lot4.csv
say "the chips attest (a chip can sign over the network from anywhere) ..."
run cl attest --as datacenter --key keys/datacenter.pem --site ashburn-dc2 --chip-keys chips \
  --trust consortium.json --csv lot4.csv
say "... but ~7,000 km away, no answer reaches lm-ashburn in under 70 ms (simulated: --chip-delay-ms 70):"
run cl locate --as datacenter --key keys/datacenter.pem --landmark "$ashburn" --chip-keys chips \
  --chip-delay-ms 70 --rounds 1 --csv lot4.csv >locate-lot4.out
sed -n '1,5p' locate-lot4.out; echo "   ..."; tail -n 1 locate-lot4.out
expect 24 location-unproven cl verify GPU-0301 --trust consortium.json

step "11. the verdicts: a few serials of each lot, verified against the trust file alone"
cat >sample.csv <<'EOF'
serial
GPU-0001
GPU-0036
GPU-0064
SRV-0001
GPU-0101
GPU-0132
GPU-0201
GPU-0300
GPU-0301
GPU-0332
GPU-0999
EOF
say "(GPU-0999 never left the distributor's warehouse)"
expect 13 "flagged: the batch's most severe finding" \
  cl verify --csv sample.csv --trust consortium.json | tee verdicts.out
# Each lot's verdict, as the story tells it.
for row in GPU-0001:ok GPU-0064:ok SRV-0001:ok GPU-0101:ok GPU-0201:flagged \
  GPU-0301:location-unproven GPU-0332:location-unproven GPU-0999:not-installed; do
  grep -q "^${row%%:*} *${row#*:} " verdicts.out ||
    { echo "${row%%:*} is not ${row#*:} in the table: the story went wrong"; exit 1; }
done
echo
echo "demo done in $(( $(date +%s) - started )) s; its data (keys, trust file, chips, node logs) is in ${data#"$root"/}/"
