#!/usr/bin/env bash
# Installs, builds and runs the whole test suite: every unit and integration
# test through CTest, then the unit tests again under ASan + UBSan.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${AURORAEDGE_BUILD_DIR:-$root/build}

bash "$root/scripts/build.sh"
cd "$build_dir"
ctest --output-on-failure -j "$(nproc)" --timeout 900
