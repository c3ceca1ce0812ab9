#include <catch2/catch.hpp>

#include "auroraedge/preprocessing/naflex_size.h"

namespace pre = auroraedge::preprocessing;

namespace {

std::pair<int, int> Grid(int height, int width, int patch_size = 16, int max_num_patches = 256) {
  const pre::PatchGrid grid = pre::NaflexGrid(height, width, patch_size, max_num_patches);
  return {grid.rows, grid.columns};
}

}  // namespace

TEST_CASE("naflex grid matches transformers' bisection on known sizes") {
  // Values from Siglip2ImageProcessor's get_image_size_for_max_num_patches.
  CHECK(Grid(1080, 1920) == std::pair{12, 21});
  CHECK(Grid(3000, 4000) == std::pair{14, 18});
  CHECK(Grid(240, 320) == std::pair{14, 18});
  CHECK(Grid(1, 1000) == std::pair{1, 256});
  CHECK(Grid(1000, 1) == std::pair{256, 1});
  CHECK(Grid(1, 1) == std::pair{7, 7});  // upscaling stops at 100x
  CHECK(Grid(37, 53) == std::pair{13, 19});
}

TEST_CASE("naflex grid follows patch_size and max_num_patches") {
  CHECK(Grid(1080, 1920, 14, 256) == std::pair{12, 21});
  CHECK(Grid(512, 512, 16, 1024) == std::pair{32, 32});
  CHECK(Grid(512, 512, 16, 64) == std::pair{8, 8});
  CHECK(Grid(32, 32, 16, 4) == std::pair{2, 2});
}

TEST_CASE("naflex grid never exceeds max_num_patches for ordinary aspect ratios") {
  for (int height : {1, 7, 16, 99, 480, 1080, 4000}) {
    for (int width : {1, 3, 16, 100, 640, 1920, 6000}) {
      const pre::PatchGrid grid = pre::NaflexGrid(height, width, 16, 256);
      INFO(height << " x " << width);
      CHECK(grid.rows >= 1);
      CHECK(grid.columns >= 1);
      CHECK(grid.rows * grid.columns <= 256);
    }
  }
}
