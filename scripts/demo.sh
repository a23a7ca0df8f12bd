#!/usr/bin/env bash
# The main job on embedded defaults: builds everything, creates a dev
# consortium in demo-data/, starts one chipledger-node, walks chips from the
# manufacturer through a distributor to a datacenter with the chipledger CLI
# and ends with `chipledger verify` printing the verified custody chain.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release chipledger chipledger-node >/dev/null

bin=$PWD/build
data=$PWD/demo-data
rm -rf "$data"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "1. a dev consortium: one member per role, fresh keys, a node config"
"$bin/chipledger-node" init --dir "$data" --port 0
cd "$data"

step "2. start one chipledger-node (RocksDB in demo-data/data)"
"$bin/chipledger-node" --config node.toml >node.log 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null; wait $node_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  url=$(grep -o 'http://[0-9.]*:[0-9]*' node.log 2>/dev/null | head -1 || true)
  [ -n "$url" ] && break
  kill -0 $node_pid 2>/dev/null || { cat node.log; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the node did not start"; cat node.log; exit 1; }
export CHIPLEDGER_NODE=$url
cat node.log
cl() { "$bin/chipledger" "$@"; }

step "3. the manufacturer registers three chips"
run cl register --as maker --key keys/maker.pem --model H100-SXM5 --eccn 3A090 \
  --fab-site "Fab 18, Tainan" --country TW --serial GPU-0001 --serial GPU-0002 --serial GPU-0003

step "4. maker ships GPU-0001 and GPU-0002 to the distributor, who accepts"
run cl transfer --as maker --key keys/maker.pem --to distributor --ship-to SG \
  --serial GPU-0001 --serial GPU-0002
run cl accept --as distributor --key keys/distributor.pem --serial GPU-0001 --serial GPU-0002

step "5. the distributor ships GPU-0001 to the datacenter, who accepts"
run cl transfer --as distributor --key keys/distributor.pem --to datacenter --ship-to US \
  --serial GPU-0001
run cl accept --as datacenter --key keys/datacenter.pem --serial GPU-0001

step "6. the ledger refuses what breaks a rule (here: the distributor no longer holds GPU-0001)"
run cl transfer --as distributor --key keys/distributor.pem --to maker --ship-to TW \
  --serial GPU-0001 || echo "(exit $? — refused, nothing changed)"

step "7. current state, as the node reports it"
run cl status GPU-0001

step "8. an agency verifies GPU-0001 against the consortium trust file alone"
run cl verify GPU-0001 --trust consortium.json
