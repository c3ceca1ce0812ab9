#include "process_collector.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>

namespace auroraedge::server {
namespace {

std::optional<int64_t> NextNumber(std::string_view& text) {
  const size_t begin = text.find_first_not_of(' ');
  if (begin == std::string_view::npos) return std::nullopt;
  text.remove_prefix(begin);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return value;
}

prometheus::MetricFamily GaugeFamily(const char* name, const char* help, double value) {
  prometheus::ClientMetric metric;
  metric.gauge.value = value;
  return {name, help, prometheus::MetricType::Gauge, {metric}};
}

}  // namespace

std::optional<ProcessMemory> ParseStatm(std::string_view statm, int64_t page_size) {
  const std::optional<int64_t> size = NextNumber(statm);
  const std::optional<int64_t> resident = size ? NextNumber(statm) : std::nullopt;
  if (!resident) return std::nullopt;
  return ProcessMemory{*size * page_size, *resident * page_size};
}

ProcessCollector::ProcessCollector()
    : start_time_seconds_(
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count()) {}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  families.push_back(GaugeFamily("auroraedge_process_start_time_seconds",
                                 "Start time of the process since the Unix epoch, in seconds.",
                                 start_time_seconds_));
  std::ifstream file("/proc/self/statm");
  const std::string statm((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (const auto memory = ParseStatm(statm, sysconf(_SC_PAGESIZE))) {
    families.push_back(GaugeFamily("auroraedge_process_resident_memory_bytes",
                                   "Resident memory size of the process, in bytes.",
                                   static_cast<double>(memory->resident_bytes)));
    families.push_back(GaugeFamily("auroraedge_process_virtual_memory_bytes",
                                   "Virtual memory size of the process, in bytes.",
                                   static_cast<double>(memory->virtual_bytes)));
  }
  return families;
}

}  // namespace auroraedge::server
