#!/usr/bin/env bash
# Installs the Debian 12 packages chipledger builds with. Idempotent and quick
# when everything is already there (it asks dpkg first, apt only if needed).
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libssl-dev librocksdb-dev libboost-dev nlohmann-json3-dev
  libraft-dev libuv1-dev catch2 libtomlplusplus-dev libcli11-dev libspdlog-dev
  libsodium-dev libjemalloc-dev prometheus-cpp-dev
  python3-prometheus-client python3-jsonschema python3-rfc3987
)

# Extra packages may be named on the command line (scripts/fuzz.sh adds clang).
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
