#include "auroraedge/server/metrics_observer.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "exposition.h"

namespace auroraedge::server {
namespace {

TEST_CASE("the observer feeds the metrics under its model and logs each request's version") {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("metrics_observer_test." + std::to_string(getpid()) + ".log"))
                               .string();
  auto metrics = std::make_shared<Metrics>();
  {
    MetricsObserver observer(
        metrics, std::make_shared<RequestLog>(RequestLogOptions{RequestLogFormat::kJson, path}));
    observer.OnModelLoaded({"demo", "0.3.1", "compressed", "cpu", "float32", 0.5});
    RequestRecord record;
    record.request_id = "r1";
    record.completion_tokens = 3;
    record.output_text = "ok";
    record.model_version = "0.3.1";
    observer.OnRequestFinished(record);
    observer.OnVisionBatch(2, 0.01);
    observer.OnStep({1, 0, 0.01});
    observer.OnLoad({1, 1, 10, 100, 4});
    const std::string text = metrics->Serialize();
    const std::map<std::string, std::string> model = {{"model", "demo"}, {"version", "0.3.1"}};
    CHECK(testing::SampleValue(text, "auroraedge_completion_tokens_total", model) == 3);
    CHECK(testing::SampleValue(text, "auroraedge_vision_batch_size_count", model) == 1);
    CHECK(testing::SampleValue(text, "auroraedge_decode_batch_size_count", model) == 1);
    CHECK(testing::SampleValue(text, "auroraedge_kv_cache_total_bytes", model) == 400);
  }
  // The observer lives as long as its model: once gone, so are the gauges.
  const std::string text = metrics->Serialize();
  CHECK_FALSE(testing::SampleValue(text, "auroraedge_kv_cache_total_bytes").has_value());
  CHECK(testing::SampleValue(text, "auroraedge_completion_tokens_total") == 3);

  std::ifstream file(path);
  std::string line;
  REQUIRE(std::getline(file, line));
  const auto json = nlohmann::json::parse(line);
  CHECK(json["request_id"] == "r1");
  CHECK(json["model_version"] == "0.3.1");
  CHECK(json["output"] == "ok");
  CHECK_FALSE(std::getline(file, line));
  std::remove(path.c_str());
}

TEST_CASE("the observer works without a request log") {
  auto metrics = std::make_shared<Metrics>();
  MetricsObserver observer(metrics, nullptr);
  RequestRecord record;
  record.prompt_tokens = 7;
  observer.OnRequestFinished(record);
  CHECK(testing::SampleValue(metrics->Serialize(), "auroraedge_prompt_tokens_total") == 7);
}

}  // namespace
}  // namespace auroraedge::server
