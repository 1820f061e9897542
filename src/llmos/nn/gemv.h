// The matrix-vector product of gemv.cpp for other kernels of the same build (decode.cpp).
#pragma once
#include <ATen/ATen.h>

namespace llmos {

// Whether matvec takes this weight: contiguous (N, K) fp32 or bf16 (s absent), or int8 with fp32
// scales s (N,); the bias b (N,) fp32 or absent.
bool matvec_supports(const at::Tensor& w, const at::Tensor* s, const at::Tensor* b, int64_t K);

// y (M, N) = s * (x w^T) + b for M <= 16 rows x (M, K) fp32; threads share out the rows of w.
void matvec(const float* x, int64_t M, const at::Tensor& w, const at::Tensor* s, const at::Tensor* b, float* y);

}  // namespace llmos
