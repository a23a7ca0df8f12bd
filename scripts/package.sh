#!/usr/bin/env bash
# Builds the Release programs and the Debian package build/chipledger_VERSION_amd64.deb
# (docs/packaging.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release chipledger chipledger-node chipledger-landmark
(cd build && cpack -G DEB)
