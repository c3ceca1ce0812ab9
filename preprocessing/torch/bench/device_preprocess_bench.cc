// auroraedge-device-preprocess-bench: raw Bayer RG8 frames of 1, 5 and 12
// megapixels through the CPU path (Preprocess(), OpenCV, one thread) and the
// LibTorch path (PreprocessRawFrameOn) on --device: warm median milliseconds
// per frame and per megapixel, upload included, patches left on the device.
// Prints a table and writes JSON.
//
//   auroraedge-device-preprocess-bench [--device cpu|cuda[:N]] [--repeats N] [--json FILE]
#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "auroraedge/preprocessing/preprocess.h"
#include "auroraedge/preprocessing/torch/device_preprocess.h"

#ifdef AURORAEDGE_CUDA
#include <torch/cuda.h>
#endif

namespace pre = auroraedge::preprocessing;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string device = "cpu";
  int repeats = 10;
  std::string json;
};

struct Row {
  std::string name;
  int width, height;
  double cpu_ms, device_ms;
};

Options Parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--device") {
      options.device = value;
    } else if (flag == "--repeats") {
      options.repeats = std::stoi(value);
      if (options.repeats <= 0) throw std::invalid_argument("--repeats must be positive");
    } else if (flag == "--json") {
      options.json = value;
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  return options;
}

c10::Device ParsedDevice(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
#ifdef AURORAEDGE_CUDA
  if (name.rfind("cuda", 0) == 0 && torch::cuda::is_available()) return c10::Device(name);
  throw std::invalid_argument("--device " + name + ": LibTorch sees no such device");
#else
  throw std::invalid_argument("--device " + name + " needs a build with -DAURORAEDGE_CUDA=ON");
#endif
}

void Synchronize(c10::Device device) {
#ifdef AURORAEDGE_CUDA
  if (device.is_cuda()) torch::cuda::synchronize(device.index() < 0 ? 0 : device.index());
#else
  (void)device;
#endif
}

// A camera-like mosaic: smooth light and a little noise.
pre::ImageSource BayerFrame(int width, int height) {
  pre::RawFrame frame;
  frame.width = width;
  frame.height = height;
  frame.format = pre::PixelFormat::kBayerRg8;
  frame.data.resize(static_cast<size_t>(width) * height);
  uint32_t noise = 12345;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      noise = noise * 1664525u + 1013904223u;
      frame.data[static_cast<size_t>(y) * width + x] =
          static_cast<char>((x * 255 / width + y * 128 / height + (noise >> 28)) & 0xFF);
    }
  }
  pre::ImageSource source;
  source.raw = std::move(frame);
  return source;
}

template <typename F>
double MedianMs(int repeats, F&& run) {
  run();  // warm-up: allocator, kernels, caches
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    run();
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = Parse(argc, argv);
    const c10::Device device = ParsedDevice(options.device);
    const pre::PreprocessConfig config;
    const struct {
      const char* name;
      int width, height;
    } sizes[] = {{"1mp", 1280, 800}, {"5mp", 2592, 1944}, {"12mp", 4000, 3000}};
    std::vector<Row> rows;
    for (const auto& size : sizes) {
      const pre::ImageSource frame = BayerFrame(size.width, size.height);
      const double cpu = MedianMs(options.repeats, [&] { pre::Preprocess(frame, 0, config); });
      const double on_device = MedianMs(options.repeats, [&] {
        const pre::DevicePatches patches = pre::PreprocessRawFrameOn(frame, 0, config, device);
        Synchronize(device);
      });
      rows.push_back({size.name, size.width, size.height, cpu, on_device});
    }
    std::printf("Bayer RG8 -> 256 patches, warm median of %d; device %s\n", options.repeats,
                options.device.c_str());
    std::printf("%-6s %11s %10s %10s %12s %12s\n", "frame", "size", "cpu ms", "device ms",
                "cpu ms/MP", "device ms/MP");
    std::ofstream json;
    if (!options.json.empty()) json.open(options.json);
    json << "{\"device\": \"" << options.device << "\", \"repeats\": " << options.repeats
         << ", \"frames\": [";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      const double mp = r.width * static_cast<double>(r.height) / 1e6;
      std::printf("%-6s %5dx%-5d %10.2f %10.2f %12.2f %12.2f\n", r.name.c_str(), r.width, r.height,
                  r.cpu_ms, r.device_ms, r.cpu_ms / mp, r.device_ms / mp);
      json << (i ? ", " : "") << "{\"frame\": \"" << r.name << "\", \"width\": " << r.width
           << ", \"height\": " << r.height << ", \"megapixels\": " << mp
           << ", \"cpu_path_ms\": " << r.cpu_ms << ", \"device_path_ms\": " << r.device_ms
           << ", \"cpu_path_ms_per_mp\": " << r.cpu_ms / mp
           << ", \"device_path_ms_per_mp\": " << r.device_ms / mp << "}";
    }
    json << "]}\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "auroraedge-device-preprocess-bench: " << e.what() << "\n";
    return 2;
  }
}
