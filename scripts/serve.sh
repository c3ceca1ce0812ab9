#!/usr/bin/env bash
# Installs, builds and starts the server on the embedded default model
# (127.0.0.1:50051). Extra arguments go to auroraedge-server (see --help).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${AURORAEDGE_BUILD_DIR:-$root/build}

bash "$root/scripts/build.sh"
exec "$build_dir/server/src/app/auroraedge-server" "$@"
