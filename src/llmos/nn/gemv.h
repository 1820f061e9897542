// The matrix-vector product of gemv.cpp, and a helper, for other kernels of the same build (decode.cpp).
#pragma once
#include <ATen/ATen.h>
#include <immintrin.h>

namespace llmos {

// the sum of a vector's 8 lanes
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Whether matvec takes this weight: contiguous (N, K) fp32 or bf16 (s absent), or int8 with fp32
// scales s (N,); the bias b (N,) fp32 or absent.
bool matvec_supports(const at::Tensor& w, const at::Tensor* s, const at::Tensor* b, int64_t K);

// y (M, N) = s * (x w^T) + b for M <= 16 rows x (M, K) fp32; threads share out the rows of w.
void matvec(const float* x, int64_t M, const at::Tensor& w, const at::Tensor* s, const at::Tensor* b, float* y);

}  // namespace llmos
