# Builds against the runtime bundle of scripts/bundle_runtime.sh instead of
# the system's packages: -DAURORAEDGE_RUNTIME_BUNDLE=DIR, with LibTorch through
# Torch_DIR or CMAKE_PREFIX_PATH (Debian's: -DTorch_DIR=/usr/lib/x86_64-linux-gnu/
# cmake/Torch; PyTorch's: -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch;
# print(torch.utils.cmake_prefix_path)')). `cmake --install BUILD --prefix DIR`
# then makes a relocatable tree (cmake/RuntimeBundleInstall.cmake).
#
# Past LibTorch, nothing is looked up under /usr or /usr/local (CMake's system
# paths, PATH and the package registry are off; pkg-config reads only the
# bundle's files), so a package missing from the bundle fails the configure
# instead of being taken from the system. The compiler still searches /usr/include for
# what no -I names: tests/bundle checks every header and library the build
# used (README.md, "Without Docker").
set(AURORAEDGE_BUNDLE_LIBDIR "${AURORAEDGE_RUNTIME_BUNDLE}/lib/x86_64-linux-gnu")
if(NOT EXISTS "${AURORAEDGE_RUNTIME_BUNDLE}/MANIFEST")
  message(FATAL_ERROR "AURORAEDGE_RUNTIME_BUNDLE=${AURORAEDGE_RUNTIME_BUNDLE} holds no MANIFEST: "
                      "make the bundle with scripts/bundle_runtime.sh DIR")
endif()
list(PREPEND CMAKE_PREFIX_PATH "${AURORAEDGE_RUNTIME_BUNDLE}")
# Called once LibTorch is found (its config finds its own dependencies, such
# as Debian's gflags and glog, where it was installed): from then on, only the
# bundle and CMAKE_PREFIX_PATH are searched.
macro(auroraedge_find_in_bundle_only)
  set(CMAKE_FIND_USE_CMAKE_SYSTEM_PATH FALSE)
  set(CMAKE_FIND_USE_SYSTEM_ENVIRONMENT_PATH FALSE)
  set(CMAKE_FIND_USE_PACKAGE_REGISTRY FALSE)
endmacro()
set(PKG_CONFIG_EXECUTABLE "${AURORAEDGE_RUNTIME_BUNDLE}/bin/pkgconf" CACHE FILEPATH
    "pkg-config of the runtime bundle" FORCE)
set(ENV{PKG_CONFIG_LIBDIR}
    "${AURORAEDGE_BUNDLE_LIBDIR}/pkgconfig:${AURORAEDGE_RUNTIME_BUNDLE}/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# The multiarch header folder (OpenSSL's configuration.h), which the compiler
# would otherwise find only in /usr/include/x86_64-linux-gnu.
include_directories(SYSTEM "${AURORAEDGE_RUNTIME_BUNDLE}/include/x86_64-linux-gnu")
# The bundle libraries' own dependencies resolve in the bundle at link time.
add_link_options("LINKER:-rpath-link,${AURORAEDGE_BUNDLE_LIBDIR}")
# Installed programs load their libraries from ../lib: an RPATH (not RUNPATH)
# also serves the dependencies of those libraries, which carry none.
add_link_options("LINKER:--disable-new-dtags")
set(CMAKE_INSTALL_RPATH "$ORIGIN/../lib")
