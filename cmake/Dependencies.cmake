# Every third-party dependency, found once for the whole project. All come
# from Debian bookworm (scripts/setup.sh installs them); a CUDA build points
# CMAKE_PREFIX_PATH at the LibTorch inside a PyTorch installation.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

find_package(Torch REQUIRED)
# TorchConfig adds its flags to CMAKE_CXX_FLAGS for everyone; keep them to
# the targets that link LibTorch.
string(REPLACE "${TORCH_CXX_FLAGS}" "" CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS}")

find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(nlohmann_json REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
if(AURORAEDGE_BUILD_TESTS)
  find_package(Catch2 REQUIRED)
endif()

find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
find_package(OpenSSL REQUIRED)
