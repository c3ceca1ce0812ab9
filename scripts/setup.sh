#!/usr/bin/env bash
# Installs every build, run and test dependency of AuroraEdge Serve from
# Debian bookworm's packages. Idempotent; runs as root without prompts.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libtorch-dev python3-torch
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libopencv-dev libspdlog-dev libfmt-dev prometheus-cpp-dev catch2
  nlohmann-json3-dev libvalijson-dev libpcre2-dev libutf8proc-dev libssl-dev openssl libleptonica-dev
  libopenblas0-openmp libdnnl-dev
  python3-grpcio python3-protobuf python3-numpy python3-pil python3-matplotlib python3-pytest python3-regex python3-yaml
  python3-h2 python3-jsonschema
  prometheus
  clang libclang-rt-14-dev
  # tests/deploy: the gRPC load balancer, bare HTTP/2 calls, the CPU image
  nginx python3-h2 buildah podman runc debootstrap
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

# Debian's LibTorch calls BLAS through the libblas.so.3 alternative (and
# libopenblas.so.0 directly); point them at OpenBLAS built on OpenMP rather
# than the slow reference BLAS. The OpenMP flavour runs on LibTorch's own
# libgomp pool: the pthread flavour keeps a second pool whose idle workers
# spin on sched_yield beside LibTorch's (README, CPU threads).
as_root=(); [[ $(id -u) -eq 0 ]] || as_root=(sudo)
for name in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
  group=$name-x86_64-linux-gnu
  wanted=$(update-alternatives --list "$group" 2>/dev/null | grep openblas-openmp | head -n1 || true)
  current=$(readlink -f "/etc/alternatives/$group" 2>/dev/null || true)
  if [[ -n "$wanted" && "$current" != "$(readlink -f "$wanted")" ]]; then
    "${as_root[@]}" update-alternatives --set "$group" "$wanted" >/dev/null
  fi
done
echo "setup.sh: dependencies ready"
