#pragma once

// What this binary was built from, for auroraedge_build_info. The values are
// compiled into build_info.cc from CMake, so only that file rebuilds when
// they change.

#include <string>

namespace auroraedge::server {

struct BuildInfo {
  std::string version;     // the project version
  std::string build_type;  // CMAKE_BUILD_TYPE
  std::string compiler;    // "<id> <version>"
};

const BuildInfo& GetBuildInfo();

}  // namespace auroraedge::server
