#include "exposition.h"

#include <catch2/catch.hpp>
#include <sstream>

namespace auroraedge::server::testing {

std::optional<double> SampleValue(const std::string& exposition, const std::string& name,
                                  const std::map<std::string, std::string>& labels) {
  std::istringstream lines(exposition);
  std::optional<double> found;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t name_end = line.find_first_of("{ ");
    if (line.compare(0, name_end, name) != 0 || name_end != name.size()) continue;
    const size_t value_begin = line.rfind(' ');
    const std::string label_text = line.substr(name_end, value_begin - name_end);
    bool all = true;
    for (const auto& [key, value] : labels) {
      all = all && label_text.find(key + "=\"" + value + "\"") != std::string::npos;
    }
    if (!all) continue;
    INFO("more than one sample of " << name << " matches: " << line);
    REQUIRE_FALSE(found.has_value());
    found = std::stod(line.substr(value_begin + 1));
  }
  return found;
}

std::map<std::string, std::string> MetricTypes(const std::string& exposition) {
  std::istringstream lines(exposition);
  std::map<std::string, std::string> types;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string hash, keyword, name, type;
    if (words >> hash >> keyword >> name >> type && hash == "#" && keyword == "TYPE") {
      types[name] = type;
    }
  }
  return types;
}

}  // namespace auroraedge::server::testing
