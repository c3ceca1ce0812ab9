#include "bench_text.h"

#include <random>

namespace auroraedge::model::bench {
namespace {

const std::vector<std::string>& Sentences() {
  static const std::vector<std::string> sentences = {
      "The weld seam on the left bracket shows a crack of about {n} mm; verdict: fail.",
      "No defect is visible on the {n}th connector, the label is aligned and readable.",
      "Station {n} reports a misaligned gasket; the part is held for review.",
      "It's the operator's call whether we'll rework the housing or scrap it.",
      "Describe the image and list every defect with its position and size.",
      "The quick brown fox jumps over the lazy dog while the conveyor keeps moving.",
      "Measurements: length {n}.25 mm, width 12.5 mm, tolerance +/- 0.05 mm at 21.5 °C.",
      "Prüfung der Schweißnaht an Station {n}: Oberfläche glatt, keine Risse, Maße in Ordnung.",
      "Die Größe des Kratzers beträgt {n} mm; das Teil muss nachgearbeitet werden.",
      "检测结果：第{n}号焊缝表面有一条裂纹，判定为不合格，需要返工。",
      "图像中的连接器没有缺陷，标签清晰可读，位置正确。",
      "部品{n}の外観検査を行いました。傷や汚れはありません。",
      "용접 부위 {n}번에 균열이 있습니다. 불합격으로 판정합니다.",
      "✅ Lot {n} passed 👍🏽, ❌ lot {n}1 failed ⚠️ (see 👨\u200d🔧 notes).",
      "def inspect(frame):\n    score = model(frame)\n    return score > 0.{n}\n",
      "for (int i = 0; i < {n}; ++i) {\n\tsum += x[i];\r\n}\n",
      "{\"station\": {n}, \"verdict\": \"pass\", \"scores\": [0.97, 0.02, 0.01]}",
      "Serial SN-{n}-2024-05-17, batch 0042, timestamp 12:34:56.789 UTC.",
      "    Indented line with    runs of   spaces and\ttabs\t\tbetween words.",
  };
  return sentences;
}

std::string Fill(const std::string& sentence, uint32_t number) {
  std::string out;
  const size_t at = sentence.find("{n}");
  if (at == std::string::npos) return sentence;
  out = sentence.substr(0, at) + std::to_string(number) + sentence.substr(at + 3);
  return Fill(out, number);
}

}  // namespace

std::vector<std::string> MixedDocuments(size_t total_bytes, size_t document_bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, Sentences().size() - 1);
  std::uniform_int_distribution<uint32_t> number(1, 99999);
  std::vector<std::string> documents;
  size_t bytes = 0;
  while (bytes < total_bytes) {
    std::string document;
    while (document.size() < document_bytes) {
      document += Fill(Sentences()[pick(rng)], number(rng));
      document += (rng() % 4 == 0) ? "\n\n" : " ";
    }
    bytes += document.size();
    documents.push_back(std::move(document));
  }
  return documents;
}

}  // namespace auroraedge::model::bench
