#include "preprocess_job.h"

#include <exception>
#include <stdexcept>
#include <string>

#include "image_digest.h"

namespace auroraedge::server {

PreprocessedImages PreprocessImages(SequenceId id,
                                    const std::vector<preprocessing::ImageSource>& images,
                                    const preprocessing::PreprocessConfig& config,
                                    bool feature_keys) {
  PreprocessedImages result;
  result.id = id;
  try {
    for (size_t i = 0; i < images.size(); ++i) {
      preprocessing::PatchImage patches =
          preprocessing::Preprocess(images[i], static_cast<int>(i), config);
      result.records.push_back(
          {patches.source_width, patches.source_height, ImageSha256(images[i])});
      if (feature_keys) result.feature_keys.push_back(PatchSha256(patches));
      result.patches.push_back(std::move(patches));
    }
  } catch (const std::invalid_argument& error) {
    result.status = {StatusCode::kInvalidArgument, error.what()};
  } catch (const std::exception& error) {
    result.status = {StatusCode::kInternal, std::string("preprocessing: ") + error.what()};
  }
  if (!result.status.ok()) result.patches.clear();
  return result;
}

}  // namespace auroraedge::server
