#pragma once

// Reads samples back out of Prometheus' text exposition format, for tests.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace auroraedge::server::testing {

// The value of the sample `name` whose labels include every pair of `labels`
// (other labels may be present); nullopt when there is none, and a test
// failure when more than one matches.
std::optional<double> SampleValue(const std::string& exposition, const std::string& name,
                                  const std::map<std::string, std::string>& labels = {});

// Names from the "# TYPE <name> <type>" lines, by type.
std::map<std::string, std::string> MetricTypes(const std::string& exposition);

}  // namespace auroraedge::server::testing
