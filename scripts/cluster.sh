#!/usr/bin/env bash
# A local 3-node chipledger consortium on loopback, in the background.
#   scripts/cluster.sh start  [DIR]   init DIR if it has no consortium yet, start the
#                                     3 nodes, wait until a Raft leader is elected
#   scripts/cluster.sh stop   [DIR]   SIGTERM every node and wait until each exited
#   scripts/cluster.sh status [DIR]   each node: running or not, Raft role, log size
# DIR defaults to cluster-data. Everything stays in DIR: the trust file, keys,
# node configs (node-1.toml ...), data (node-1/ ...), logs (node-1.log ...).
# Environment: CHIPLEDGER_BIN=DIR uses programs built in DIR (default: builds
# them into build/); CHIPLEDGER_CLUSTER_PORT=P puts the APIs on P, P+1, P+2
# and Raft on P+100.. (default 7800); CHIPLEDGER_CLUSTER_TEMPLATE=FILE gives
# init a consortium template (e.g. config/demo-consortium.json).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cmd="${1:-}"
dir="${2:-cluster-data}"
nodes=3
port="${CHIPLEDGER_CLUSTER_PORT:-7800}"
start_deadline_s=60
stop_deadline_s=60

usage() {
  echo "usage: scripts/cluster.sh start|stop|status [DIR]   (DIR defaults to cluster-data)" >&2
  exit 2
}

bin_dir() {
  if [ -n "${CHIPLEDGER_BIN:-}" ]; then
    (cd "$CHIPLEDGER_BIN" && pwd)
  else
    scripts/build.sh release chipledger chipledger-node >/dev/null
    echo "$root/build"
  fi
}

pid_of() { # the running node I's pid, or nothing
  local f="$dir/node-$1.pid"
  [ -f "$f" ] || return 0
  local pid
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

api_url() { # the API URL node-I.toml names: https unless [api] plain_http = true
  local listen scheme=https
  listen=$(awk -F"['\"]" '/^\[/ { section = $0 } section == "[api]" && /^listen/ { print $2; exit }' \
    "$dir/node-$1.toml")
  if awk '/^\[/ { section = $0 } section == "[api]" && /^plain_http *= *true/ { found = 1 }
          END { exit !found }' "$dir/node-$1.toml"; then
    scheme=http
  fi
  echo "$scheme://$listen"
}

# The node's certificate is checked against the cluster's dev CA.
health() { curl -fsS --max-time 2 --cacert "$dir/tls/ca.pem" "$(api_url "$1")/v1/health" 2>/dev/null || true; }

field() { # field JSON KEY -> the first "KEY": value (string or number), unquoted
  sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" <<<"$1" | head -1
}

leader_elected() { # every node answers, names the same leader, and one of them is it
  local leader="" role_leader=0 h l
  for i in $(seq 1 $nodes); do
    h=$(health "$i")
    [ -n "$h" ] || return 1
    l=$(field "$h" leader)
    [ -n "$l" ] && [ "$l" != "null" ] || return 1
    if [ -z "$leader" ]; then leader=$l; elif [ "$leader" != "$l" ]; then return 1; fi
    [ "$(field "$h" role)" = leader ] && role_leader=$((role_leader + 1))
  done
  [ "$role_leader" -eq 1 ] && echo "$leader"
}

start() {
  local bin
  bin=$(bin_dir)
  if [ ! -f "$dir/consortium.json" ]; then
    local args=(init --dir "$dir" --nodes "$nodes" --port "$port")
    [ -n "${CHIPLEDGER_CLUSTER_TEMPLATE:-}" ] && args+=(--template "$CHIPLEDGER_CLUSTER_TEMPLATE")
    "$bin/chipledger-node" "${args[@]}"
  fi
  for i in $(seq 1 $nodes); do
    [ -f "$dir/node-$i.toml" ] || { echo "$dir/node-$i.toml is missing (not a $nodes-node folder?)" >&2; exit 1; }
    if [ -n "$(pid_of "$i")" ]; then
      echo "node-$i is running already (pid $(pid_of "$i"))"
      continue
    fi
    nohup "$bin/chipledger-node" --config "$dir/node-$i.toml" >>"$dir/node-$i.log" 2>&1 </dev/null &
    echo $! >"$dir/node-$i.pid"
  done
  local deadline=$((SECONDS + start_deadline_s)) leader=""
  until leader=$(leader_elected); do
    for i in $(seq 1 $nodes); do
      if [ -z "$(pid_of "$i")" ]; then
        echo "node-$i exited; the end of $dir/node-$i.log:" >&2
        tail -20 "$dir/node-$i.log" >&2
        exit 1
      fi
    done
    if [ $SECONDS -ge $deadline ]; then
      echo "no Raft leader within ${start_deadline_s} s; logs in $dir/node-*.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "cluster of $nodes nodes running in $dir (logs: $dir/node-*.log)"
  for i in $(seq 1 $nodes); do
    echo "  node-$i  $(api_url "$i")  pid $(pid_of "$i")"
  done
  echo "leader: $leader"
  echo "trust file: $dir/consortium.json; member keys: $dir/keys/"
  echo "export CHIPLEDGER_NODE=$leader"
  echo "export CHIPLEDGER_TRUST=$(cd "$dir" && pwd)/consortium.json"
}

stop() {
  local pids=() i pid
  for i in $(seq 1 $nodes); do
    pid=$(pid_of "$i")
    if [ -n "$pid" ]; then
      kill -TERM "$pid"
      pids+=("$i:$pid")
    fi
  done
  local deadline=$((SECONDS + stop_deadline_s))
  for entry in "${pids[@]}"; do
    i=${entry%%:*}
    pid=${entry#*:}
    while kill -0 "$pid" 2>/dev/null; do
      if [ $SECONDS -ge $deadline ]; then
        echo "node-$i (pid $pid) did not exit within ${stop_deadline_s} s of SIGTERM" >&2
        exit 1
      fi
      sleep 0.1
    done
    rm -f "$dir/node-$i.pid"
    echo "node-$i stopped"
  done
  [ ${#pids[@]} -gt 0 ] || echo "no node of $dir is running"
}

status() {
  local running=0 h
  for i in $(seq 1 $nodes); do
    [ -f "$dir/node-$i.toml" ] || { echo "no cluster in $dir" >&2; exit 1; }
    local pid
    pid=$(pid_of "$i")
    if [ -z "$pid" ]; then
      echo "node-$i  $(api_url "$i")  stopped"
      continue
    fi
    running=$((running + 1))
    h=$(health "$i")
    if [ -z "$h" ]; then
      echo "node-$i  $(api_url "$i")  pid $pid, not answering"
    else
      echo "node-$i  $(api_url "$i")  pid $pid, $(field "$h" role), log size $(field "$h" size)"
    fi
  done
  [ "$running" -gt 0 ]
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
