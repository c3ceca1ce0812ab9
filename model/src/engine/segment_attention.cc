#include "segment_attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace auroraedge::model {
namespace {

struct Shape {
  int64_t rows = 0;
  int64_t q_heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t group() const { return q_heads / kv_heads; }
};

// Scratch of one worker: the group's queries, scores and sums, reused from
// task to task so that a step allocates nothing per row.
struct Scratch {
  std::vector<float> queries;
  std::vector<float> scores;
  std::vector<float> sums;
};

template <typename T>
float Dot(const float* a, const T* b, int64_t n) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += a[i] * static_cast<float>(b[i]);
  return sum;
}

template <typename T>
void AddScaled(float* out, const T* v, float weight, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] += weight * static_cast<float>(v[i]);
}

// One query row and one key head: the `group` query heads that share it go
// over the keys together, so each key and value row is read once.
template <typename T>
void AttendRowGroup(const T* q, const T* keys, const T* values, const int64_t* segment,
                    const Shape& shape, int64_t row, int64_t kv_head, T* out, Scratch& scratch) {
  const int64_t d = shape.head_dim;
  const int64_t group = shape.group();
  const int64_t stride = shape.kv_heads * d;  // from one storage row to the next
  const int64_t n = segment[1] + segment[3];
  const int64_t first_head = kv_head * group;
  T* out_row = out + (row * shape.q_heads + first_head) * d;
  if (n == 0) {
    std::fill(out_row, out_row + group * d, T(0));
    return;
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  scratch.queries.resize(group * d);
  for (int64_t h = 0; h < group; ++h) {
    const T* qh = q + (row * shape.q_heads + first_head + h) * d;
    for (int64_t i = 0; i < d; ++i) scratch.queries[h * d + i] = static_cast<float>(qh[i]) * scale;
  }
  scratch.scores.resize(group * n);
  int64_t t = 0;
  for (int part = 0; part < 2; ++part) {
    const int64_t start = segment[2 * part];
    for (int64_t j = 0; j < segment[2 * part + 1]; ++j, ++t) {
      const T* key = keys + (start + j) * stride + kv_head * d;
      for (int64_t h = 0; h < group; ++h)
        scratch.scores[h * n + t] = Dot(&scratch.queries[h * d], key, d);
    }
  }
  scratch.sums.assign(group, 0.0f);
  for (int64_t h = 0; h < group; ++h) {
    float* scores = &scratch.scores[h * n];
    const float max = *std::max_element(scores, scores + n);
    float sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      scores[i] = std::exp(scores[i] - max);
      sum += scores[i];
    }
    scratch.sums[h] = sum;
  }
  // The queries' buffer now accumulates the weighted values.
  std::fill(scratch.queries.begin(), scratch.queries.end(), 0.0f);
  t = 0;
  for (int part = 0; part < 2; ++part) {
    const int64_t start = segment[2 * part];
    for (int64_t j = 0; j < segment[2 * part + 1]; ++j, ++t) {
      const T* value = values + (start + j) * stride + kv_head * d;
      for (int64_t h = 0; h < group; ++h)
        AddScaled(&scratch.queries[h * d], value, scratch.scores[h * n + t], d);
    }
  }
  for (int64_t h = 0; h < group; ++h) {
    const float inv = 1.0f / scratch.sums[h];
    for (int64_t i = 0; i < d; ++i)
      out_row[h * d + i] = static_cast<T>(scratch.queries[h * d + i] * inv);
  }
}

template <typename T>
void AttendSegmentsCpu(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                       const at::Tensor& segments, const Shape& shape, at::Tensor& out) {
  const T* q_data = q.data_ptr<T>();
  const T* k_data = keys.data_ptr<T>();
  const T* v_data = values.data_ptr<T>();
  const int64_t* segment_data = segments.data_ptr<int64_t>();
  T* out_data = out.data_ptr<T>();
  int64_t work = 0;  // key rows read, in all
  for (int64_t r = 0; r < shape.rows; ++r) work += segment_data[4 * r + 1] + segment_data[4 * r + 3];
  // Small steps (a few decode rows of a short context) run on the calling
  // thread: waking the pool costs more than the work.
  const int64_t tasks = shape.rows * shape.kv_heads;
  const int64_t per_task = std::max<int64_t>(1, work * shape.q_heads * shape.head_dim / tasks);
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / per_task);
  at::parallel_for(0, tasks, grain, [&](int64_t begin, int64_t end) {
    Scratch scratch;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t row = task / shape.kv_heads;
      AttendRowGroup(q_data, k_data, v_data, segment_data + 4 * row, shape, row,
                     task % shape.kv_heads, out_data, scratch);
    }
  });
}

void Require(bool condition, const std::string& what) {
  if (!condition) throw std::invalid_argument("AttendSegments: " + what);
}

}  // namespace

at::Tensor AttendSegments(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                          const at::Tensor& segments) {
  Require(q.dim() == 3 && keys.dim() == 3 && values.sizes() == keys.sizes(),
          "q [R, heads, d], keys and values [T, kv_heads, d]");
  const Shape shape{q.size(0), q.size(1), keys.size(1), q.size(2)};
  Require(keys.size(2) == shape.head_dim && shape.q_heads % shape.kv_heads == 0,
          "head_dim of q and keys, q_heads a multiple of kv_heads");
  Require(segments.scalar_type() == at::kLong && segments.dim() == 2 &&
              segments.size(0) == shape.rows && segments.size(1) == 4,
          "segments int64 [R, 4]");
  Require(keys.is_contiguous() && values.is_contiguous() && keys.scalar_type() == q.scalar_type(),
          "contiguous keys and values of q's dtype");
  const at::Tensor query = q.contiguous();
  const at::Tensor segment = segments.contiguous();
  at::Tensor out = at::empty({shape.rows, shape.q_heads * shape.head_dim}, q.options());
  if (shape.rows == 0) return out;
  // The CUDA kernel waits, untested, on branch gpu-path-untested.
  Require(q.is_cpu(), "a CPU tensor (no GPU kernel is part of this build)");
  if (q.scalar_type() == at::kFloat) {
    AttendSegmentsCpu<float>(query, keys, values, segment, shape, out);
  } else if (q.scalar_type() == at::kBFloat16) {
    AttendSegmentsCpu<c10::BFloat16>(query, keys, values, segment, shape, out);
  } else {
    Require(false, "float32 or bfloat16");
  }
  return out;
}

}  // namespace auroraedge::model
