# Every third-party dependency, found once for the whole project. All come
# from Debian bookworm (scripts/setup.sh installs them); a CUDA build points
# CMAKE_PREFIX_PATH at the LibTorch inside a PyTorch installation.
set(AURORAEDGE_RUNTIME_BUNDLE "" CACHE PATH
    "Folder made by scripts/bundle_runtime.sh: build against it, not the system's packages")
if(AURORAEDGE_RUNTIME_BUNDLE)
  include(RuntimeBundle)
endif()

find_package(Threads REQUIRED)
find_package(Torch REQUIRED)
# TorchConfig adds its flags to CMAKE_CXX_FLAGS for everyone; keep them to
# the targets that link LibTorch.
string(REPLACE "${TORCH_CXX_FLAGS}" "" CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS}")
if(AURORAEDGE_RUNTIME_BUNDLE)
  auroraedge_find_in_bundle_only()
endif()
find_package(nlohmann_json REQUIRED)
find_package(OpenSSL REQUIRED)
if(AURORAEDGE_ENGINE_ONLY)
  return()
endif()

find_package(PkgConfig REQUIRED)

find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
# The tests encode their images with OpenCV's imgcodecs, independently of the
# decoder (Leptonica); the libraries and programs never link it.
set(opencv_components core imgproc)
if(AURORAEDGE_BUILD_TESTS)
  list(APPEND opencv_components imgcodecs)
endif()
find_package(OpenCV REQUIRED COMPONENTS ${opencv_components})
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(LEPTONICA REQUIRED IMPORTED_TARGET lept)
if(AURORAEDGE_BUILD_TESTS)
  find_package(Catch2 REQUIRED)
endif()

find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
