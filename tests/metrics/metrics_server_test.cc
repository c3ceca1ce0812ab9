#include "auroraedge/server/metrics_server.h"

#include <catch2/catch.hpp>

#include "http_get.h"

namespace auroraedge::server {
namespace {

using testing::HttpGet;
using testing::HttpRequest;

TEST_CASE("the metrics endpoint serves the current metrics over HTTP") {
  Metrics metrics;
  MetricsServer server(metrics, "127.0.0.1:0");
  REQUIRE(server.port() > 0);
  metrics.RecordRpc("Generate", 0, 0.2);

  const std::string response = HttpGet(server.port(), "/metrics");
  CHECK(response.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(response.find("auroraedge_rpc_requests_total{grpc_code=\"OK\",method=\"Generate\"} 1") !=
        std::string::npos);
  CHECK(response.find("auroraedge_process_resident_memory_bytes ") != std::string::npos);
  CHECK(response.find("auroraedge_build_info{") != std::string::npos);
}

TEST_CASE("the metrics endpoint answers HEAD, other paths and methods as HTTP says") {
  Metrics metrics;
  MetricsServer server(metrics, ":0");
  const std::string with_query = HttpGet(server.port(), "/metrics?name[]=x");
  CHECK(with_query.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(with_query.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);

  const std::string head = HttpRequest(server.port(), "HEAD", "/metrics");
  CHECK(head.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(head.find("auroraedge_") == std::string::npos);

  CHECK(HttpGet(server.port(), "/other").rfind("HTTP/1.1 404", 0) == 0);
  CHECK(HttpRequest(server.port(), "POST", "/metrics").rfind("HTTP/1.1 405", 0) == 0);
  CHECK(HttpRequest(server.port(), "GET", "").rfind("HTTP/1.1 400", 0) == 0);
}

TEST_CASE("the metrics endpoint stops with its server") {
  Metrics metrics;
  int port = 0;
  {
    MetricsServer server(metrics, "127.0.0.1:0");
    port = server.port();
    REQUIRE_FALSE(HttpGet(port, "/metrics").empty());
  }
  CHECK(HttpGet(port, "/metrics").empty());
}

TEST_CASE("\"off\" and an empty address switch the metrics endpoint off") {
  CHECK(MetricsServer::IsDisabled(""));
  CHECK(MetricsServer::IsDisabled("off"));
  CHECK_FALSE(MetricsServer::IsDisabled("0.0.0.0:9464"));
}

TEST_CASE("a bad metrics listen address is a clear error") {
  Metrics metrics;
  for (const std::string address :
       {"localhost", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000"}) {
    INFO(address);
    CHECK_THROWS_AS(MetricsServer(metrics, address), std::invalid_argument);
    CHECK_THROWS_WITH(MetricsServer(metrics, address), Catch::Contains("\"" + address + "\""));
  }
}

TEST_CASE("a metrics port already in use is a clear error") {
  Metrics metrics;
  MetricsServer first(metrics, "127.0.0.1:0");
  const std::string taken = "127.0.0.1:" + std::to_string(first.port());
  CHECK_THROWS_WITH(MetricsServer(metrics, taken),
                    Catch::Contains("cannot listen on \"" + taken + "\""));
}

}  // namespace
}  // namespace auroraedge::server
