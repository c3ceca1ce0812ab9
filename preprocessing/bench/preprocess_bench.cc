// auroraedge-preprocess-bench: milliseconds per image and images/s of
// Preprocess() on 1 and 2 threads for a 1920x1080 JPEG, a 5 MP Mono8 frame, a
// 12 MP Bayer RG8 frame, and their 12-bit twins (5 MP Mono12p packed, 12 MP
// Bayer RG12 in 16-bit words, resized as floats), next to the Python
// reference on the same inputs (1 and 2 processes). Prints a table and
// writes JSON.
//
//   auroraedge-preprocess-bench [--seconds S] [--json FILE] [--no-python]
#include <allheaders.h>  // Leptonica, which the library decodes with
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "auroraedge/preprocessing/preprocess.h"

namespace pre = auroraedge::preprocessing;
using Clock = std::chrono::steady_clock;

namespace {

struct Case {
  std::string name;
  std::string file;  // the input as the Python reference reads it
  pre::ImageSource source;
};

struct Result {
  int threads = 0;
  int images = 0;
  double ms_per_image = 0;      // mean wall time of one Preprocess() call
  double cpu_ms_per_image = 0;  // mean CPU time of one call: its cost even on a shared machine
  double images_per_second = 0;
};

cv::Mat Texture(int width, int height, int channels) {
  cv::Mat image(height, width, CV_8UC(channels));
  cv::randu(image, 0, 256);
  cv::Mat smooth;
  cv::blur(image, smooth, cv::Size(9, 9));  // camera-like content compresses like a photo
  return smooth;
}

// A colour texture as a JPEG of quality 90.
std::string Jpeg(const cv::Mat& rgb) {
  PIX* pix = pixCreate(rgb.cols, rgb.rows, 32);
  for (int y = 0; y < rgb.rows; ++y) {
    for (int x = 0; x < rgb.cols; ++x) {
      const auto& v = rgb.at<cv::Vec3b>(y, x);
      pixSetRGBPixel(pix, x, y, v[0], v[1], v[2]);
    }
  }
  l_uint8* data = nullptr;
  size_t size = 0;
  if (pixWriteMemJpeg(&data, &size, pix, 90, 0) != 0)
    throw std::runtime_error("cannot encode a JPEG");
  pixDestroy(&pix);
  std::string bytes(reinterpret_cast<const char*>(data), size);
  lept_free(data);
  return bytes;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

pre::ImageSource RawSource(const cv::Mat& pixels, pre::PixelFormat format) {
  pre::ImageSource source;
  source.raw = pre::RawFrame{
      std::string(reinterpret_cast<const char*>(pixels.data), pixels.total() * pixels.elemSize()),
      pixels.cols, pixels.rows, 0, format};
  return source;
}

// 12-bit values: the 8-bit texture in the high bits, noise in the low 4.
cv::Mat Texture12(int width, int height) {
  cv::Mat wide;
  Texture(width, height, 1).convertTo(wide, CV_16U, 16);
  cv::Mat noise(height, width, CV_16U);
  cv::randu(noise, 0, 16);
  return wide + noise;
}

// 16-bit little-endian words (bits 16), or pairs of 12-bit values packed
// LSB first in 3 bytes (bits 12, GenICam Mono12p).
pre::ImageSource WideRawSource(const cv::Mat& values, int bits, pre::PixelFormat format) {
  std::string data;
  for (int y = 0; y < values.rows; ++y) {
    const uint16_t* row = values.ptr<uint16_t>(y);
    for (int x = 0; x < values.cols; x += bits == 16 ? 1 : 2) {
      if (bits == 16) {
        data += {static_cast<char>(row[x]), static_cast<char>(row[x] >> 8)};
      } else {
        data += {static_cast<char>(row[x]), static_cast<char>(row[x] >> 8 | row[x + 1] << 4),
                 static_cast<char>(row[x + 1] >> 4)};
      }
    }
  }
  pre::ImageSource source;
  source.raw = pre::RawFrame{std::move(data), values.cols, values.rows, 0, format};
  return source;
}

const char* FormatName(pre::PixelFormat format) {
  switch (format) {
    case pre::PixelFormat::kMono8:
      return "MONO8";
    case pre::PixelFormat::kMono12p:
      return "MONO12P";
    case pre::PixelFormat::kBayerRg12:
      return "BAYER_RG12";
    default:
      return "BAYER_RG8";
  }
}

std::vector<Case> MakeCases(const std::string& folder) {
  std::vector<Case> cases;
  pre::ImageSource encoded;
  encoded.encoded = Jpeg(Texture(1920, 1080, 3));
  cases.push_back({"jpeg_1920x1080", folder + "/image.jpg", encoded});
  cases.push_back({"mono8_2592x1944", folder + "/mono8.raw",
                   RawSource(Texture(2592, 1944, 1), pre::PixelFormat::kMono8)});
  cases.push_back({"bayer_rg8_4000x3000", folder + "/bayer.raw",
                   RawSource(Texture(4000, 3000, 1), pre::PixelFormat::kBayerRg8)});
  cases.push_back({"mono12p_2592x1944", folder + "/mono12p.raw",
                   WideRawSource(Texture12(2592, 1944), 12, pre::PixelFormat::kMono12p)});
  cases.push_back({"bayer_rg12_4000x3000", folder + "/bayer12.raw",
                   WideRawSource(Texture12(4000, 3000), 16, pre::PixelFormat::kBayerRg12)});
  for (const Case& c : cases)
    WriteFile(c.file, c.source.raw ? c.source.raw->data : c.source.encoded);
  return cases;
}

double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec + now.tv_nsec * 1e-9;
}

Result Measure(const pre::ImageSource& source, int threads, double seconds) {
  const pre::PreprocessConfig config;
  pre::Preprocess(source, 0, config);  // warm-up: first-touch allocations, codec tables
  std::atomic<int> images{0};
  std::atomic<int64_t> busy_ns{0};
  std::atomic<int64_t> cpu_ns{0};
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (Clock::now() < deadline) {
        const auto begin = Clock::now();
        const double cpu_begin = ThreadCpuSeconds();
        pre::Preprocess(source, 0, config);
        cpu_ns += static_cast<int64_t>((ThreadCpuSeconds() - cpu_begin) * 1e9);
        busy_ns +=
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - begin).count();
        ++images;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  return {threads, images, busy_ns / 1e6 / images, cpu_ns / 1e6 / images, images / wall};
}

std::string ResultJson(const Result& r) {
  std::ostringstream out;
  out << "{\"threads\": " << r.threads << ", \"images\": " << r.images
      << ", \"ms_per_image\": " << r.ms_per_image
      << ", \"cpu_ms_per_image\": " << r.cpu_ms_per_image
      << ", \"images_per_second\": " << r.images_per_second << "}";
  return out.str();
}

// Runs the reference on the same files; returns its JSON object (by case name).
std::string RunPythonReference(const std::vector<Case>& cases, const std::string& folder) {
  std::string command = std::string(AURORAEDGE_PYTHON) + " " + AURORAEDGE_REFERENCE_BENCH +
                        " --out " + folder + "/python.json";
  for (const Case& c : cases) {
    command += " --case " + c.name + "=" + c.file;
    if (c.source.raw) {
      const pre::RawFrame& raw = *c.source.raw;
      command += ":" + std::to_string(raw.width) + "x" + std::to_string(raw.height) + ":" +
                 FormatName(raw.format);
    }
  }
  if (std::system(command.c_str()) != 0)
    throw std::runtime_error("the Python reference failed: " + command);
  std::ifstream in(folder + "/python.json");
  std::stringstream json;
  json << in.rdbuf();
  return json.str();
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3.0;
  std::string json_path = "preprocess_bench.json";
  bool python = true;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--seconds" && i + 1 < argc) {
      seconds = std::stod(argv[++i]);
    } else if (flag == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (flag == "--no-python") {
      python = false;
    } else {
      std::cerr << "usage: auroraedge-preprocess-bench [--seconds S] [--json FILE] [--no-python]\n";
      return 1;
    }
  }
  pre::RunOpenCvOnCallingThreads();
  const std::string folder = (std::filesystem::temp_directory_path() /
                              ("auroraedge-preprocess-bench-" + std::to_string(getpid())))
                                 .string();
  std::filesystem::create_directories(folder);
  const std::vector<Case> cases = MakeCases(folder);

  std::ostringstream cpp_json;
  cpp_json << "{";
  std::printf("%-22s %8s %8s %10s %10s %10s\n", "input", "impl", "threads", "ms/image", "cpu ms",
              "images/s");
  for (size_t i = 0; i < cases.size(); ++i) {
    cpp_json << (i ? ", " : "") << "\"" << cases[i].name << "\": [";
    for (int threads : {1, 2}) {
      const Result r = Measure(cases[i].source, threads, seconds);
      std::printf("%-22s %8s %8d %10.2f %10.2f %10.2f\n", cases[i].name.c_str(), "c++", threads,
                  r.ms_per_image, r.cpu_ms_per_image, r.images_per_second);
      cpp_json << (threads > 1 ? ", " : "") << ResultJson(r);
    }
    cpp_json << "]";
  }
  cpp_json << "}";

  std::fflush(stdout);  // the reference prints its rows below ours
  const std::string python_json = python ? RunPythonReference(cases, folder) : "null";
  std::filesystem::remove_all(folder);
  std::ofstream(json_path) << "{\"benchmark\": \"preprocess\", \"hardware_threads\": "
                           << std::thread::hardware_concurrency()
                           << ", \"seconds_per_run\": " << seconds
                           << ", \"cpp\": " << cpp_json.str()
                           << ", \"python_reference\": " << python_json << "}\n";
  std::cout << "wrote " << json_path << "\n";
  return 0;
}
