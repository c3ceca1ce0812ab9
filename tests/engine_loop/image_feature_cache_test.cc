// The image-feature cache through the serving core: a golden image sent
// with every request is encoded once, a hit gives bit-identical scores to a
// miss, the key is the encoder's input (a crop of the same bytes is another
// image), and the byte budget holds, least recently used first out.

#include "image_feature_cache.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine_test_support.h"

using namespace auroraedge::server;
using namespace auroraedge::server::testing;

namespace {

const std::vector<std::string> kLabels{"OK", "NG"};

InspectionResult Inspect(ServingFrontEnd& engine, InspectionRequest request) {
  const InspectionOutcome outcome = Run(engine, std::move(request));
  INFO((outcome.error ? outcome.error->message : ""));
  REQUIRE(outcome.result);
  return *outcome.result;
}

// A golden reference (seed 1) and a test image of `seed`.
InspectionRequest GoldenAndTest(const std::string& id, int seed) {
  InspectionRequest request = Inspection(id, "Does the part match the reference?", kLabels, 1, 1);
  InspectionRequest test = Inspection(id, "", {}, 1, seed);
  request.images.push_back(test.images[0]);
  request.image_roles = {auroraedge::model::ImageRole::kReference,
                         auroraedge::model::ImageRole::kTest};
  return request;
}

void CheckSameScores(const InspectionResult& a, const InspectionResult& b) {
  REQUIRE(a.scores.size() == b.scores.size());
  for (size_t k = 0; k < a.scores.size(); ++k) {
    CHECK(a.scores[k].logprob == b.scores[k].logprob);  // bit for bit
  }
}

}  // namespace

TEST_CASE("Image-feature cache: a golden image sent with every request is encoded once") {
  auto observer = std::make_shared<StepObserver>();
  auto engine = ServingFrontEnd::Start(TestOptions(), observer);
  const auto before = observer->image_lookups();  // the warm-up is not observed
  CHECK(before == std::make_pair(0, 0));
  Inspect(*engine, GoldenAndTest("a", 2));
  CHECK(observer->image_lookups() == std::make_pair(0, 2));
  Inspect(*engine, GoldenAndTest("b", 3));
  CHECK(observer->image_lookups() == std::make_pair(1, 3));
  Inspect(*engine, GoldenAndTest("c", 4));
  CHECK(observer->image_lookups() == std::make_pair(2, 4));
  // The same image twice in one request is encoded once.
  InspectionRequest twice = GoldenAndTest("d", 5);
  twice.images.push_back(twice.images[1]);
  twice.image_roles.push_back(auroraedge::model::ImageRole::kTest);
  Inspect(*engine, twice);
  CHECK(observer->image_lookups() == std::make_pair(4, 5));
}

TEST_CASE("Image-feature cache: a hit gives bit-identical scores to a miss") {
  auto observer = std::make_shared<StepObserver>();
  auto cached = ServingFrontEnd::Start(TestOptions(), observer);
  ServingOptions no_cache_options = TestOptions();
  no_cache_options.image_feature_cache_bytes = 0;
  auto uncached = ServingFrontEnd::Start(no_cache_options, nullptr);

  const InspectionResult miss = Inspect(*cached, Inspection("m", "Is it OK?", kLabels, 1, 7));
  const InspectionResult hit = Inspect(*cached, Inspection("h", "Is it OK?", kLabels, 1, 7));
  CHECK(observer->image_lookups() == std::make_pair(1, 1));
  const InspectionResult never_cached =
      Inspect(*uncached, Inspection("n", "Is it OK?", kLabels, 1, 7));
  CheckSameScores(miss, hit);
  CheckSameScores(miss, never_cached);
  // Generate's answer too.
  const Outcome first = Run(*cached, ImageRequest("g1", "Describe it.", 12, 1, 64, 48, 9));
  const Outcome second = Run(*cached, ImageRequest("g2", "Describe it.", 12, 1, 64, 48, 9));
  CHECK(observer->image_lookups() == std::make_pair(2, 2));
  CHECK(first.tokens == second.tokens);
}

TEST_CASE("Image-feature cache: keyed by the encoder's input, within its byte budget") {
  auto observer = std::make_shared<StepObserver>();
  auto engine = ServingFrontEnd::Start(TestOptions(), observer);
  // The same bytes cropped are another image; the crop again is a hit.
  InspectionRequest whole = Inspection("w", "Is it OK?", kLabels, 1, 11);
  InspectionRequest cropped = whole;
  cropped.request_id = "c";
  cropped.images[0].roi = auroraedge::preprocessing::RegionOfInterest{0, 0, 32, 32};
  Inspect(*engine, whole);
  const InspectionResult crop_miss = Inspect(*engine, cropped);
  CHECK(observer->image_lookups() == std::make_pair(0, 2));
  cropped.request_id = "c2";
  CheckSameScores(crop_miss, Inspect(*engine, cropped));
  CHECK(observer->image_lookups() == std::make_pair(1, 2));
}

TEST_CASE("Image-feature cache: least recently used first out, within the byte budget") {
  const auto runner = auroraedge::model::ModelRunner::Load(TestOptions().engine);
  const auroraedge::model::VisionConfig& vision = runner->config().vision;
  const auto image = [&](float value) {
    auroraedge::preprocessing::PatchImage patches;
    patches.max_num_patches = vision.max_num_patches;
    patches.patch_dim = 3 * vision.patch_size * vision.patch_size;
    patches.grid_h = 2;
    patches.grid_w = 2;
    patches.patches.assign(static_cast<size_t>(patches.max_num_patches) * patches.patch_dim, 0.0f);
    std::fill(patches.patches.begin(), patches.patches.begin() + 4 * patches.patch_dim, value);
    return patches;
  };
  const auto a = image(0.1f), b = image(0.2f), c = image(0.3f);
  const auto features = runner->EncodeImages({&a, &b, &c});
  const int64_t size = features[0].bytes();
  REQUIRE(size > 0);

  ImageFeatureCache cache(2 * size + size / 2);  // two images' features
  cache.Insert("a", features[0]);
  cache.Insert("b", features[1]);
  CHECK(cache.bytes() == 2 * size);
  REQUIRE(cache.Find("a"));  // now the most recently used
  cache.Insert("c", features[2]);
  CHECK(cache.size() == 2);
  CHECK(cache.bytes() == 2 * size);
  CHECK_FALSE(cache.Find("b"));
  const auto found = cache.Find("a");
  REQUIRE(found);
  CHECK(found->impl() == features[0].impl());  // the very features
  CHECK(cache.Find("c"));

  ImageFeatureCache too_small(size - 1);
  too_small.Insert("a", features[0]);
  CHECK(too_small.size() == 0);
  CHECK(too_small.bytes() == 0);
}
