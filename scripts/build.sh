#!/usr/bin/env bash
# Installs the dependencies and builds AuroraEdge Serve into build/ (or
# $AURORAEDGE_BUILD_DIR). Idempotent: a second run only rebuilds what changed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${AURORAEDGE_BUILD_DIR:-$root/build}

bash "$root/scripts/setup.sh"
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build_dir" -j "$(nproc)"
