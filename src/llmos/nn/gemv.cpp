// Matrix-vector products that read weights at memory speed (AVX2 + FMA; built with AVX-512
// too where the CPU has it, and then one row of x goes 16 weights at a time).
//
//   y[m, n] = s[n] * sum_k q[n, k] x[m, k] + b[n]      q int8 (N, K), s fp32 (N,)
//   y[m, n] =        sum_k w[n, k] x[m, k] + b[n]      w bf16 or fp32 (N, K)
//
// b (N,) fp32 is optional: the bias is added in the same pass, not by a second operator.
// x is fp32 (M, K) with M small (one token per sequence when decoding). Each
// weight row is read once and widened to fp32 in registers, then used for all
// M rows of x, so the weights cross the memory bus once per call. Rows of the
// weight are shared out among threads by at::parallel_for.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <immintrin.h>

#include <cmath>
#include <vector>

#include "gemv.h"

namespace {

using llmos::hsum;

constexpr int kMaxM = 16;

// Software prefetch: each loop asks for the weights kAhead bytes past the ones it multiplies.
// One thread's hardware prefetcher keeps too few lines in flight to stream at the memory's
// speed; asking 4 KiB ahead took the int8 kernel from 13.6 to 18.2 GB/s (of a 19.4 GB/s
// streaming sum) on GPT-2's matrices (2 threads, BENCHMARKS.md). Past the last row it is harmless.
constexpr int kAhead = 4096;

template <typename W, int N>    // the lines of N weights starting at p, kAhead bytes on
inline void prefetch(const W* p) {
  const char* c = reinterpret_cast<const char*>(p) + kAhead;
  for (int b = 0; b < N * static_cast<int>(sizeof(W)); b += 64) _mm_prefetch(c + b, _MM_HINT_T0);
}

// 8 weights starting at p, widened to fp32
inline __m256 load8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline __m256 load8(const at::BFloat16* p) {   // bf16 is the top half of an fp32: shift it back up
  __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline float widen(int8_t v) { return static_cast<float>(v); }
inline float widen(at::BFloat16 v) { return static_cast<float>(v); }
inline float widen(float v) { return v; }

// out[m] = sum_k row[k] x[m * K + k] for R rows of x at once (R <= 4: accumulators stay in registers)
template <typename W, int R>
inline void dot_rows(const W* row, const float* x, int64_t K, float* out) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    if (k % 64 == 0) prefetch<W, 64>(row + k);
    const __m256 wv = load8(row + k);
    for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + r * K + k), acc[r]);
  }
  for (int r = 0; r < R; ++r) {
    float a = hsum(acc[r]);
    for (int64_t j = k; j < K; ++j) a += widen(row[j]) * x[r * K + j];
    out[r] = a;
  }
}

#ifdef __AVX512F__
// 16 weights starting at p, widened to fp32 (AVX-512 builds: twice the weights per instruction)
inline __m512 load16(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline __m512 load16(const at::BFloat16* p) {
  __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
#endif

// one row of x: four accumulators hide the FMA latency
template <typename W>
inline float dot_one(const W* row, const float* x, int64_t K) {
  int64_t k = 0;
  float head = 0.0f;    // the AVX-512 loop's share of the sum; the AVX2 loops take what is left
#ifdef __AVX512F__
  __m512 b0 = _mm512_setzero_ps(), b1 = b0, b2 = b0, b3 = b0;
  for (; k + 64 <= K; k += 64) {
    prefetch<W, 64>(row + k);
    b0 = _mm512_fmadd_ps(load16(row + k), _mm512_loadu_ps(x + k), b0);
    b1 = _mm512_fmadd_ps(load16(row + k + 16), _mm512_loadu_ps(x + k + 16), b1);
    b2 = _mm512_fmadd_ps(load16(row + k + 32), _mm512_loadu_ps(x + k + 32), b2);
    b3 = _mm512_fmadd_ps(load16(row + k + 48), _mm512_loadu_ps(x + k + 48), b3);
  }
  head = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(b0, b1), _mm512_add_ps(b2, b3)));
#endif
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (; k + 32 <= K; k += 32) {
    prefetch<W, 32>(row + k);
    a0 = _mm256_fmadd_ps(load8(row + k), _mm256_loadu_ps(x + k), a0);
    a1 = _mm256_fmadd_ps(load8(row + k + 8), _mm256_loadu_ps(x + k + 8), a1);
    a2 = _mm256_fmadd_ps(load8(row + k + 16), _mm256_loadu_ps(x + k + 16), a2);
    a3 = _mm256_fmadd_ps(load8(row + k + 24), _mm256_loadu_ps(x + k + 24), a3);
  }
  for (; k + 8 <= K; k += 8) a0 = _mm256_fmadd_ps(load8(row + k), _mm256_loadu_ps(x + k), a0);
  float acc = head + hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; k < K; ++k) acc += widen(row[k]) * x[k];
  return acc;
}

template <typename W>
void gemv_rows(const float* x, const W* w, const float* s, const float* b, float* y, int64_t M, int64_t K,
               int64_t N, int64_t n0, int64_t n1) {
  float out[kMaxM];
  for (int64_t n = n0; n < n1; ++n) {
    const W* row = w + n * K;           // read from memory once; the later groups of x find it in L1
    if (M == 1) {
      out[0] = dot_one(row, x, K);
    } else {
      for (int64_t m = 0; m < M; m += 4) {
        switch (std::min<int64_t>(4, M - m)) {
          case 1: out[m] = dot_one(row, x + m * K, K); break;
          case 2: dot_rows<W, 2>(row, x + m * K, K, out + m); break;
          case 3: dot_rows<W, 3>(row, x + m * K, K, out + m); break;
          default: dot_rows<W, 4>(row, x + m * K, K, out + m); break;
        }
      }
    }
    const float scale = s ? s[n] : 1.0f, shift = b ? b[n] : 0.0f;
    for (int64_t m = 0; m < M; ++m) y[m * N + n] = out[m] * scale + shift;
  }
}

const float* bias_ptr(const std::optional<at::Tensor>& b, int64_t N) {
  if (!b.has_value()) return nullptr;
  TORCH_CHECK(b->scalar_type() == at::kFloat && b->is_contiguous() && b->numel() == N, "b must be fp32 (N,)");
  return b->data_ptr<float>();
}

template <typename W>
void gemv_into(const float* xp, const W* wp, const float* s, const float* bp, float* yp, int64_t M, int64_t K,
               int64_t N) {
  // grain: at least 64 KiB of weights per task, so small layers do not pay for threads they cannot use
  const int64_t grain = std::max<int64_t>(1, 65536 / (K * static_cast<int64_t>(sizeof(W))));
  at::parallel_for(0, N, grain, [&](int64_t n0, int64_t n1) { gemv_rows<W>(xp, wp, s, bp, yp, M, K, N, n0, n1); });
}

template <typename W>
at::Tensor gemv(const at::Tensor& x, const at::Tensor& w, const float* s, const std::optional<at::Tensor>& b) {
  TORCH_CHECK(x.dim() == 2 && x.scalar_type() == at::kFloat && x.is_contiguous(), "x must be contiguous fp32 (M, K)");
  TORCH_CHECK(w.dim() == 2 && w.is_contiguous() && w.size(1) == x.size(1), "w must be contiguous (N, K)");
  TORCH_CHECK(x.size(0) <= kMaxM, "at most 16 rows of x");
  const int64_t M = x.size(0), K = x.size(1), N = w.size(0);
  at::Tensor y = at::empty({M, N}, x.options());
  gemv_into<W>(x.data_ptr<float>(), reinterpret_cast<const W*>(w.data_ptr()), s, bias_ptr(b, N),
               y.data_ptr<float>(), M, K, N);
  return y;
}

#ifdef __AVX512VNNI__
// One row of x against int8 weights without widening them to fp32 (builds for CPUs with AVX-512
// VNNI): x is rounded once to int16, x ~= sx * xq with |xq| <= 32767 (15 bits, a relative error
// of 1.5e-5 of max |x|, against int8 weights' 4e-3), and vpdpwssd adds 32 products
// q[n, k] * xq[k] into int32 lanes per instruction:
//
//   y[n] = s[n] * sx * sum_k q[n, k] xq[k] + b[n]
//
// A lane gains at most 2 * 127 * 32767 ~ 8.3e6 a step; four accumulators share the steps, so
// int32 holds for K < 4 * 32 * 258 ~ 33,000. Lanes are summed in fp32.
constexpr int64_t kVnniMaxK = 32768;

inline float dot_vnni(const int8_t* row, const int16_t* xq, int64_t K) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  auto w32 = [&](int64_t k) {   // 32 int8 weights widened to int16
    return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + k)));
  };
  auto x32 = [&](int64_t k) { return _mm512_loadu_si512(reinterpret_cast<const void*>(xq + k)); };
  int64_t k = 0;
  for (; k + 128 <= K; k += 128) {
    prefetch<int8_t, 128>(row + k);
    a0 = _mm512_dpwssd_epi32(a0, w32(k), x32(k));
    a1 = _mm512_dpwssd_epi32(a1, w32(k + 32), x32(k + 32));
    a2 = _mm512_dpwssd_epi32(a2, w32(k + 64), x32(k + 64));
    a3 = _mm512_dpwssd_epi32(a3, w32(k + 96), x32(k + 96));
  }
  for (; k + 32 <= K; k += 32) a0 = _mm512_dpwssd_epi32(a0, w32(k), x32(k));
  __m512 f = _mm512_add_ps(_mm512_add_ps(_mm512_cvtepi32_ps(a0), _mm512_cvtepi32_ps(a1)),
                           _mm512_add_ps(_mm512_cvtepi32_ps(a2), _mm512_cvtepi32_ps(a3)));
  float acc = _mm512_reduce_add_ps(f);
  for (; k < K; ++k) acc += static_cast<float>(row[k]) * static_cast<float>(xq[k]);
  return acc;
}

void int8_vnni_into(const float* xp, const int8_t* qp, const float* s, const float* b, float* yp, int64_t K,
                    int64_t N) {
  float amax = 0.0f;
  for (int64_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(xp[k]));
  const float sx = amax > 0.0f ? amax / 32767.0f : 1.0f;
  std::vector<int16_t> xq(K);
  for (int64_t k = 0; k < K; ++k) xq[k] = static_cast<int16_t>(std::nearbyint(xp[k] / sx));
  const int64_t grain = std::max<int64_t>(1, 65536 / K);
  at::parallel_for(0, N, grain, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) yp[n] = dot_vnni(qp + n * K, xq.data(), K) * sx * s[n] + (b ? b[n] : 0.0f);
  });
}

at::Tensor int8_gemv_vnni(const at::Tensor& x, const at::Tensor& q, const float* s, const float* b) {
  at::Tensor y = at::empty({1, q.size(0)}, x.options());
  int8_vnni_into(x.data_ptr<float>(), q.data_ptr<int8_t>(), s, b, y.data_ptr<float>(), x.size(1), q.size(0));
  return y;
}
#endif

at::Tensor int8_gemv(const at::Tensor& x, const at::Tensor& q, const at::Tensor& s,
                     const std::optional<at::Tensor>& b) {
  TORCH_CHECK(q.scalar_type() == at::kChar, "q must be int8");
  TORCH_CHECK(s.scalar_type() == at::kFloat && s.is_contiguous() && s.numel() == q.size(0), "s must be fp32 (N,)");
#ifdef __AVX512VNNI__
  if (x.dim() == 2 && x.size(0) == 1 && x.scalar_type() == at::kFloat && x.is_contiguous() && q.dim() == 2 &&
      q.is_contiguous() && q.size(1) == x.size(1) && x.size(1) < kVnniMaxK) {
    return int8_gemv_vnni(x, q, s.data_ptr<float>(), bias_ptr(b, q.size(0)));
  }
#endif
  return gemv<int8_t>(x, q, s.data_ptr<float>(), b);
}

at::Tensor bf16_gemv(const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& b) {
  TORCH_CHECK(w.scalar_type() == at::kBFloat16, "w must be bf16");
  return gemv<at::BFloat16>(x, w, nullptr, b);
}

at::Tensor fp32_gemv(const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& b) {
  TORCH_CHECK(w.scalar_type() == at::kFloat, "w must be fp32");
  return gemv<float>(x, w, nullptr, b);
}

}  // namespace

namespace llmos {

bool matvec_supports(const at::Tensor& w, const at::Tensor* s, const at::Tensor* b, int64_t K) {
  if (w.dim() != 2 || !w.is_contiguous() || w.size(1) != K || w.device().type() != at::kCPU) return false;
  if (b && (b->scalar_type() != at::kFloat || !b->is_contiguous() || b->numel() != w.size(0))) return false;
  switch (w.scalar_type()) {
    case at::kFloat: case at::kBFloat16: return s == nullptr;
    case at::kChar: return s && s->scalar_type() == at::kFloat && s->is_contiguous() && s->numel() == w.size(0);
    default: return false;
  }
}

void matvec(const float* x, int64_t M, const at::Tensor& w, const at::Tensor* s, const at::Tensor* b, float* y) {
  const int64_t N = w.size(0), K = w.size(1);
  const float* bp = b ? b->data_ptr<float>() : nullptr;
  switch (w.scalar_type()) {
    case at::kFloat: return gemv_into<float>(x, w.data_ptr<float>(), nullptr, bp, y, M, K, N);
    case at::kBFloat16: return gemv_into<at::BFloat16>(x, w.data_ptr<at::BFloat16>(), nullptr, bp, y, M, K, N);
    default:
#ifdef __AVX512VNNI__
      if (M == 1 && K < kVnniMaxK) return int8_vnni_into(x, w.data_ptr<int8_t>(), s->data_ptr<float>(), bp, y, K, N);
#endif
      return gemv_into<int8_t>(x, w.data_ptr<int8_t>(), s->data_ptr<float>(), bp, y, M, K, N);
  }
}

}  // namespace llmos

TORCH_LIBRARY(llmos_gemv, m) {
  m.def("int8(Tensor x, Tensor q, Tensor s, Tensor? b=None) -> Tensor");
  m.def("bf16(Tensor x, Tensor w, Tensor? b=None) -> Tensor");
  m.def("fp32(Tensor x, Tensor w, Tensor? b=None) -> Tensor");
}

TORCH_LIBRARY_IMPL(llmos_gemv, CPU, m) {
  m.impl("int8", &int8_gemv);
  m.impl("bf16", &bf16_gemv);
  m.impl("fp32", &fp32_gemv);
}
