#include "engine_fixtures.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace auroraedge::model::testing {

std::vector<int32_t> ToIds(const at::Tensor& t) {
  const auto ids = t.to(at::kInt).contiguous();
  return std::vector<int32_t>(ids.data_ptr<int32_t>(), ids.data_ptr<int32_t>() + ids.numel());
}

Fixtures LoadFixtures(const std::string& dir) {
  std::ifstream in(std::filesystem::path(dir) / "fixtures.json");
  const auto description = nlohmann::json::parse(in);
  const auto file = SafetensorsFile::Open(
      (std::filesystem::path(dir) / "fixtures.safetensors").string(), "fixtures.safetensors");
  const auto get = [&](const std::string& name) { return file->Get(name).clone(); };
  const bool compressed = description.at("path") == "compressed";
  Fixtures f;
  f.tolerance = description.at("tolerance").get<double>();
  for (size_t i = 0; i < description.at("images").size(); ++i) {
    const std::string prefix = "image." + std::to_string(i) + ".";
    const auto patches = get(prefix + "patches").contiguous();
    const auto grid = get(prefix + "grid_hw");
    preprocessing::PatchImage image;
    image.max_num_patches = static_cast<int>(patches.size(0));
    image.patch_dim = static_cast<int>(patches.size(1));
    image.patches.assign(patches.data_ptr<float>(), patches.data_ptr<float>() + patches.numel());
    image.grid_h = static_cast<int>(grid[0].item<int64_t>());
    image.grid_w = static_cast<int>(grid[1].item<int64_t>());
    f.images.push_back(std::move(image));
    f.visual.push_back(get(prefix + "visual"));
    if (compressed) f.compressed.push_back(get(prefix + "compressed"));
  }
  for (size_t j = 0; j < description.at("prompts").size(); ++j) {
    const std::string prefix = "prompt." + std::to_string(j) + ".";
    FixturePrompt p;
    p.tokens = ToIds(get(prefix + "tokens"));
    const auto images = get(prefix + "images");
    p.images.assign(images.data_ptr<int64_t>(), images.data_ptr<int64_t>() + images.numel());
    p.generated = ToIds(get(prefix + "generated"));
    p.logits = get(prefix + "logits");
    p.margin = get(prefix + "margin");
    f.prompts.push_back(std::move(p));
  }
  return f;
}

double MaxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kFloat) - b.to(at::kFloat)).abs().max().item<double>();
}

double MaxAbsDiff(const std::vector<float>& a, const at::Tensor& b) {
  const auto t =
      at::from_blob(const_cast<float*>(a.data()), {static_cast<int64_t>(a.size())}, at::kFloat);
  return MaxAbsDiff(t, b);
}

}  // namespace auroraedge::model::testing
