// auroraedge-preprocess-dump: runs Preprocess() on one image file and writes
// the patches as a float32 .npy [max_num_patches, 3*p*p]; prints the grid as
// JSON. Lets the Python parity tests drive the C++ side. Bad input: the
// PreprocessError message on stderr, exit code 2.
#include <array>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "auroraedge/preprocessing/preprocess.h"

namespace pre = auroraedge::preprocessing;

namespace {

constexpr char kUsage[] =
    "usage: auroraedge-preprocess-dump (--encoded FILE | --raw FILE --width W --height H\n"
    "         --pixel-format FORMAT [--stride S]) [--roi X,Y,W,H]\n"
    "         [--patch-size P] [--max-num-patches N] [--mean R,G,B] [--std R,G,B] --out FILE.npy\n"
    "FORMAT: MONO8 RGB8 BGR8 BAYER_RG8 BAYER_GR8 BAYER_GB8 BAYER_BG8 MONO10 MONO12 MONO16\n"
    "        MONO10P MONO12P BAYER_RG12 BAYER_RG16\n";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::vector<std::string> SplitCommas(const std::string& text, size_t count, const char* flag) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  if (parts.size() != count) {
    throw std::runtime_error(std::string(flag) + " needs " + std::to_string(count) + " values");
  }
  return parts;
}

std::array<float, 3> ParseTriple(const std::string& text, const char* flag) {
  const auto parts = SplitCommas(text, 3, flag);
  return {std::stof(parts[0]), std::stof(parts[1]), std::stof(parts[2])};
}

pre::PixelFormat ParsePixelFormat(const std::string& name) {
  static const std::map<std::string, pre::PixelFormat> kFormats = {
      {"MONO8", pre::PixelFormat::kMono8},
      {"RGB8", pre::PixelFormat::kRgb8},
      {"BGR8", pre::PixelFormat::kBgr8},
      {"BAYER_RG8", pre::PixelFormat::kBayerRg8},
      {"BAYER_GR8", pre::PixelFormat::kBayerGr8},
      {"BAYER_GB8", pre::PixelFormat::kBayerGb8},
      {"BAYER_BG8", pre::PixelFormat::kBayerBg8},
      {"MONO10", pre::PixelFormat::kMono10},
      {"MONO12", pre::PixelFormat::kMono12},
      {"MONO16", pre::PixelFormat::kMono16},
      {"MONO10P", pre::PixelFormat::kMono10p},
      {"MONO12P", pre::PixelFormat::kMono12p},
      {"BAYER_RG12", pre::PixelFormat::kBayerRg12},
      {"BAYER_RG16", pre::PixelFormat::kBayerRg16}};
  const auto found = kFormats.find(name);
  if (found == kFormats.end()) throw std::runtime_error("unknown --pixel-format " + name);
  return found->second;
}

void WriteNpy(const std::string& path, const pre::PatchImage& image) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(image.max_num_patches) + ", " +
                       std::to_string(image.patch_dim) + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t length = static_cast<uint16_t>(header.size());
  out.put(static_cast<char>(length & 0xFF));
  out.put(static_cast<char>(length >> 8));
  out << header;
  out.write(reinterpret_cast<const char*>(image.patches.data()),
            static_cast<std::streamsize>(image.patches.size() * sizeof(float)));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  if (argc % 2 == 0 || !flags.count("--out") || flags.count("--encoded") == flags.count("--raw")) {
    std::cerr << kUsage;
    return 1;
  }
  try {
    pre::ImageSource source;
    if (flags.count("--encoded")) {
      source.encoded = ReadFile(flags["--encoded"]);
    } else {
      pre::RawFrame frame;
      frame.data = ReadFile(flags["--raw"]);
      frame.width = std::stoi(flags["--width"]);
      frame.height = std::stoi(flags["--height"]);
      frame.stride = flags.count("--stride") ? std::stoi(flags["--stride"]) : 0;
      frame.format = ParsePixelFormat(flags["--pixel-format"]);
      source.raw = std::move(frame);
    }
    if (flags.count("--roi")) {
      const auto parts = SplitCommas(flags["--roi"], 4, "--roi");
      source.roi = pre::RegionOfInterest{std::stoi(parts[0]), std::stoi(parts[1]),
                                         std::stoi(parts[2]), std::stoi(parts[3])};
    }
    pre::PreprocessConfig config;
    if (flags.count("--patch-size")) config.patch_size = std::stoi(flags["--patch-size"]);
    if (flags.count("--max-num-patches")) {
      config.max_num_patches = std::stoi(flags["--max-num-patches"]);
    }
    if (flags.count("--mean")) config.mean = ParseTriple(flags["--mean"], "--mean");
    if (flags.count("--std")) config.std = ParseTriple(flags["--std"], "--std");

    const pre::PatchImage image = pre::Preprocess(source, 0, config);
    WriteNpy(flags["--out"], image);
    std::cout << "{\"grid_h\": " << image.grid_h << ", \"grid_w\": " << image.grid_w << "}\n";
    return 0;
  } catch (const pre::PreprocessError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "auroraedge-preprocess-dump: " << e.what() << "\n" << kUsage;
    return 1;
  }
}
