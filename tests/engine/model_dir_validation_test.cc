// A broken model directory fails to load with a message naming the file or
// tensor, what was expected and what was found.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "auroraedge/model/model_runner.h"
#include "manifest.h"

namespace auroraedge::model {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

// A private copy of the small test model that a test may break.
class ModelDirCopy {
 public:
  ModelDirCopy() {
    static int counter = 0;
    dir_ = fs::temp_directory_path() / ("auroraedge-engine-test-" + std::to_string(::getpid()) +
                                        "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::copy(AURORAEDGE_TEST_MODEL_DIR, dir_, fs::copy_options::recursive);
  }
  ~ModelDirCopy() { fs::remove_all(dir_); }

  std::string path() const { return dir_.string(); }
  fs::path file(const std::string& name) const { return dir_ / name; }

  std::string Read(const std::string& name) const {
    std::ifstream in(file(name), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void Write(const std::string& name, const std::string& content) const {
    std::ofstream(file(name), std::ios::binary | std::ios::trunc) << content;
  }

  // Replaces the first occurrence of `from` (found within the first `within`
  // bytes) by `to`, of the same length, so every offset stays valid.
  void Patch(const std::string& name, const std::string& from, const std::string& to,
             size_t within = std::string::npos) const {
    REQUIRE(from.size() == to.size());
    std::string content = Read(name);
    const size_t at = content.find(from);
    REQUIRE(at != std::string::npos);
    REQUIRE(at < within);
    content.replace(at, from.size(), to);
    Write(name, content);
  }

  // Records the file's current size and sha256 in manifest.json, so that
  // only the deliberate defect remains.
  void Reseal(const std::string& name) const {
    auto manifest = nlohmann::json::parse(Read("manifest.json"));
    manifest["files"][name]["bytes"] = fs::file_size(file(name));
    manifest["files"][name]["sha256"] = Sha256OfFile(file(name).string());
    Write("manifest.json", manifest.dump());
  }

  std::string LoadError(const std::string& weights = "float32") const {
    EngineOptions options;
    options.model_dir = path();
    options.weights = weights;
    try {
      ModelRunner::Load(options);
    } catch (const ModelLoadError& e) {
      return e.what();
    }
    FAIL("the broken model directory loaded");
    return "";
  }

 private:
  fs::path dir_;
};

// Patches of decoder.safetensors must land in its JSON header, which the
// small model keeps well within its first MiB.
const size_t kHeaderScan = 1 << 20;

TEST_CASE("the intact copy loads") {
  ModelDirCopy copy;
  EngineOptions options;
  options.model_dir = copy.path();
  CHECK(ModelRunner::Load(options)->config().path == "compressed");
}

TEST_CASE("a missing file is named") {
  ModelDirCopy copy;
  fs::remove(copy.file("vision.pt"));
  const std::string error = copy.LoadError();
  CHECK_THAT(error, Contains("vision.pt") && Contains("missing"));
}

TEST_CASE("a bad checksum names the file, expected and found digests") {
  ModelDirCopy copy;
  std::string tokenizer = copy.Read("tokenizer.json");
  tokenizer[tokenizer.size() / 2] ^= 0x01;
  copy.Write("tokenizer.json", tokenizer);
  const std::string error = copy.LoadError();
  CHECK_THAT(error, Contains("tokenizer.json") && Contains("checksum mismatch") &&
                        Contains("expects sha256") && Contains("found"));
}

TEST_CASE("a size that differs from the manifest is named") {
  ModelDirCopy copy;
  copy.Write("generation_config.json", copy.Read("generation_config.json") + " ");
  CHECK_THAT(copy.LoadError(), Contains("generation_config.json") && Contains("size mismatch"));
}

TEST_CASE("a tensor with the wrong shape names the tensor, expected and found shapes") {
  ModelDirCopy copy;
  const auto config = LoadModelConfig(copy.path());
  const std::string kv =
      std::to_string(config.decoder.num_key_value_heads * config.decoder.head_dim);
  const std::string hidden = std::to_string(config.decoder.hidden_size);
  REQUIRE(kv.size() == hidden.size());  // the transposed shape keeps the header's length
  const std::string entry = "\"layers.0.self_attn.k_proj.weight\":{\"dtype\":\"F32\",\"shape\":[";
  copy.Patch("decoder.safetensors", entry + kv + "," + hidden + "]",
             entry + hidden + "," + kv + "]", kHeaderScan);
  copy.Reseal("decoder.safetensors");
  CHECK_THAT(copy.LoadError(), Contains("decoder.safetensors") &&
                                   Contains("layers.0.self_attn.k_proj.weight") &&
                                   Contains("shape [" + hidden + ", " + kv + "]") &&
                                   Contains("expected [" + kv + ", " + hidden + "]"));
}

TEST_CASE("a tensor with the wrong dtype names the tensor and both dtypes") {
  ModelDirCopy copy;
  copy.Patch("decoder.safetensors", "\"norm.weight\":{\"dtype\":\"F32\"",
             "\"norm.weight\":{\"dtype\":\"I32\"", kHeaderScan);
  copy.Reseal("decoder.safetensors");
  CHECK_THAT(copy.LoadError(), Contains("decoder.safetensors") && Contains("'norm.weight'") &&
                                   Contains("dtype I32") && Contains("expected F32 or BF16"));
}

TEST_CASE("a missing tensor is named") {
  ModelDirCopy copy;
  copy.Patch("decoder.safetensors", "\"layers.1.self_attn.k_proj.bias\"",
             "\"layers.1.self_attn.k_proj.bia_\"", kHeaderScan);
  copy.Reseal("decoder.safetensors");
  CHECK_THAT(copy.LoadError(),
             Contains("layers.1.self_attn.k_proj.bias' is missing") && Contains("expected shape"));
}

TEST_CASE("a bad config field is named with the expected and found values") {
  ModelDirCopy copy;
  copy.Patch("config.json", "\"compressed\"", "\"compresse_\"");
  copy.Reseal("config.json");
  CHECK_THAT(copy.LoadError(),
             Contains("config.json") && Contains("'path'") && Contains("compresse_"));
}

TEST_CASE("a TorchScript file without the expected methods is named") {
  ModelDirCopy copy;
  fs::copy_file(copy.file("vision.pt"), copy.file("compress_fusion.pt"),
                fs::copy_options::overwrite_existing);
  copy.Reseal("compress_fusion.pt");
  CHECK_THAT(copy.LoadError(), Contains("compress_fusion.pt") && Contains("'compress'"));
}

TEST_CASE("a fusion weight that disagrees with the config is named with both shapes") {
  ModelDirCopy copy;
  // The fusion block's intermediate_size, the one followed by "decoder".
  copy.Patch("config.json", "\"intermediate_size\": 128\n  },\n  \"decoder\"",
             "\"intermediate_size\": 256\n  },\n  \"decoder\"");
  copy.Reseal("config.json");
  CHECK_THAT(copy.LoadError(), Contains("compress_fusion.pt") &&
                                   Contains("'fusion.mlp.gate_proj.weight'") &&
                                   Contains("[256, 64]") && Contains("[128, 64]"));
}

TEST_CASE("int8 weights without vision_int8.pt are refused, naming the file and its remedy") {
  ModelDirCopy copy;
  fs::remove(copy.file("vision_int8.pt"));
  auto manifest = nlohmann::json::parse(copy.Read("manifest.json"));
  REQUIRE(manifest["files"].erase("vision_int8.pt") == 1);
  copy.Write("manifest.json", manifest.dump());
  EngineOptions float32;
  float32.model_dir = copy.path();
  CHECK_NOTHROW(ModelRunner::Load(float32));  // only int8 needs the file
  const std::string error = copy.LoadError("int8");
  CHECK_THAT(error, Contains("EngineOptions.weights") && Contains("vision_int8.pt") &&
                        Contains("quantize_vision.py"));
}

}  // namespace
}  // namespace auroraedge::model
