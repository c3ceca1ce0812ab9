#pragma once

// Process memory and start time for Prometheus. prometheus-cpp has no process
// collector, so this reads /proc/self/statm at each scrape.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace auroraedge::server {

struct ProcessMemory {
  int64_t virtual_bytes = 0;
  int64_t resident_bytes = 0;
};

// Parses the content of /proc/<pid>/statm ("size resident shared ..." in
// pages). Returns nullopt when it does not start with two page counts.
std::optional<ProcessMemory> ParseStatm(std::string_view statm, int64_t page_size);

class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector();  // records the start time
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  double start_time_seconds_;
};

}  // namespace auroraedge::server
