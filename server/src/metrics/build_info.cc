#include "build_info.h"

namespace auroraedge::server {

const BuildInfo& GetBuildInfo() {
  static const BuildInfo info{AURORAEDGE_BUILD_VERSION, AURORAEDGE_BUILD_TYPE,
                              AURORAEDGE_BUILD_COMPILER};
  return info;
}

}  // namespace auroraedge::server
