#!/usr/bin/env bash
# Installs, builds and runs the whole test suite:
#   1. every unit, integration and Python test of the Release build (CTest),
#      the CPU image's build and run included (label image, about 8 minutes
#      from a fresh clone; AURORAEDGE_IMAGE_TESTS=OFF leaves it out);
#   2. the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer,
#      with the libFuzzer targets' short runs (clang build in build-asan/).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${AURORAEDGE_BUILD_DIR:-$root/build}
asan_dir=${AURORAEDGE_ASAN_BUILD_DIR:-$root/build-asan}
jobs=$(nproc)

bash "$root/scripts/build.sh" -DAURORAEDGE_IMAGE_TESTS="${AURORAEDGE_IMAGE_TESTS:-ON}"
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" --timeout 900

# The sanitizer build covers every unit-test executable (the project's code
# is instrumented; Debian's LibTorch is not) and the fuzzers.
sanitized_targets=(
  preprocessing_test tokenizer_test constrained_test sampling_test scheduler_test metrics_test
  grpc_unit_tests app_unit_tests engine_loop_parts_test engine_test engine_loop_test linear_test
  auroraedge-preprocess-fuzzer auroraedge-tokenizer-fuzzer auroraedge-constrained-fuzzer
)
CC=clang CXX=clang++ cmake -S "$root" -B "$asan_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DAURORAEDGE_SANITIZE=ON -DAURORAEDGE_FUZZ=ON
cmake --build "$asan_dir" -j "$jobs" --target "${sanitized_targets[@]}"
ctest --test-dir "$asan_dir" --output-on-failure -j "$jobs" -L unit
ctest --test-dir "$asan_dir" --output-on-failure -R 'fuzz'
