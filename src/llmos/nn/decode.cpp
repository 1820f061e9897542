// One decoding step's small operators, fused: each is a handful of torch operators (and a few
// tens of microseconds of dispatch) in eager PyTorch, and a single pass over a few kilobytes here.
//
//   block_step: a whole pre-norm decoder block for up to 16 new tokens of one sequence (below),
//     its matrix products through gemv.cpp's kernel (fp32, bf16 or int8 weights)
//
//   attend_step: write the new token's key and value into the cache, then attend over the cache
//       K[:, g, pos] = k,  V[:, g, pos] = v
//       out[b, h] = softmax_j(q[b, h] . K[b, g(h), j] * scale) V[b, g(h), j]      j = 0 .. pos
//     q (B, H, D); k, v (B, Hkv, D); K, V (B, Hkv, L, D) with the last dim contiguous;
//     g(h) = h / (H / Hkv) (grouped-query attention). Every row attends the same pos + 1 keys.
//
//   add_norm: the residual add and the next norm in one pass
//       r = x + h;  y = (r - mean(r)) / sqrt(var(r) + eps) * w + b     (LayerNorm)
//                   y = r / sqrt(mean(r^2) + eps) * w                  (RMSNorm, b absent)
//     x, h (M, C) fp32; returns (r, y).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <immintrin.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "gemv.h"

namespace {

inline float dot(const float* a, const float* b, int64_t n) {   // n a multiple of 8
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i < n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  return llmos::hsum(_mm256_add_ps(acc0, acc1));
}


// Keys j = 0 .. n-1 of one cache row: K + g * sg + j * sl (the same strides for V).
struct CacheRow {
  const float* k;
  const float* v;
  int64_t sg, sl;
};

// e^x for 8 lanes (Cephes' expf: x = n ln2 + r, |r| <= ln2 / 2, a degree-6 polynomial in r, then
// 2^n through the exponent bits); relative error about 1e-7. x <= 0 here (scores minus their max).
inline __m256 exp8(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));            // e^-87 ~ 1.6e-38: the smallest normal
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  for (float c : {1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f})
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(c));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

// s[0..3] = q . k_j for the four rows k, k + sl, k + 2 sl, k + 3 sl (D a multiple of 8): one
// horizontal reduction for four keys instead of one each
inline void dot4(const float* q, const float* k, int64_t sl, int64_t D, float scale, float* s) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t d = 0; d < D; d += 8) {
    const __m256 qv = _mm256_loadu_ps(q + d);
    a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + d), a0);
    a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + sl + d), a1);
    a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + 2 * sl + d), a2);
    a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + 3 * sl + d), a3);
  }
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));   // lanes: 0 1 2 3 | 0 1 2 3
  const __m128 t = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  _mm_storeu_ps(s, _mm_mul_ps(t, _mm_set1_ps(scale)));
}

// out[d0 .. d0 + 8 NV) = sum_j p[j] V[j, d0 ..]: the NV output vectors stay in registers
template <int NV>
inline void weighted_sum(const float* p, const float* v, int64_t sl, int64_t n, int64_t d0, float* out) {
  __m256 acc[NV];
  for (int i = 0; i < NV; ++i) acc[i] = _mm256_setzero_ps();
  for (int64_t j = 0; j < n; ++j) {
    const __m256 pj = _mm256_set1_ps(p[j]);
    const float* row = v + j * sl + d0;
    for (int i = 0; i < NV; ++i) acc[i] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(row + 8 * i), acc[i]);
  }
  for (int i = 0; i < NV; ++i) _mm256_storeu_ps(out + d0 + 8 * i, acc[i]);
}

// out (H, D) = attention of q (H, D) over n cached keys; threads share out the heads
void attend(const float* q, int64_t H, int64_t G, int64_t D, const CacheRow& c, int64_t n, float scale, float* out) {
  const int64_t rep = H / G;
  const int64_t grain = std::max<int64_t>(1, 32768 / (n * D));   // small caches stay on one thread
  at::parallel_for(0, H, grain, [&](int64_t h0, int64_t h1) {
    std::vector<float> p(n + 8);
    for (int64_t h = h0; h < h1; ++h) {
      const float* qh = q + h * D;
      const float* kb = c.k + (h / rep) * c.sg;
      const float* vb = c.v + (h / rep) * c.sg;
      int64_t j = 0;
      for (; j + 4 <= n; j += 4) dot4(qh, kb + j * c.sl, c.sl, D, scale, p.data() + j);
      for (; j < n; ++j) p[j] = dot(qh, kb + j * c.sl, D) * scale;
      float m = -INFINITY;
      for (j = 0; j < n; ++j) m = std::max(m, p[j]);
      __m256 zv = _mm256_setzero_ps();
      const __m256 mv = _mm256_set1_ps(m);
      for (j = 0; j + 8 <= n; j += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(p.data() + j), mv));
        _mm256_storeu_ps(p.data() + j, e);
        zv = _mm256_add_ps(zv, e);
      }
      float z = llmos::hsum(zv);
      for (; j < n; ++j) z += (p[j] = std::exp(p[j] - m));
      const float inv = 1.0f / z;
      for (j = 0; j < n; ++j) p[j] *= inv;
      float* oh = out + h * D;
      for (int64_t d0 = 0; d0 < D; d0 += 64) {
        switch (std::min<int64_t>(8, (D - d0) / 8)) {
          case 1: weighted_sum<1>(p.data(), vb, c.sl, n, d0, oh); break;
          case 2: weighted_sum<2>(p.data(), vb, c.sl, n, d0, oh); break;
          case 3: weighted_sum<3>(p.data(), vb, c.sl, n, d0, oh); break;
          case 4: weighted_sum<4>(p.data(), vb, c.sl, n, d0, oh); break;
          case 5: weighted_sum<5>(p.data(), vb, c.sl, n, d0, oh); break;
          case 6: weighted_sum<6>(p.data(), vb, c.sl, n, d0, oh); break;
          case 7: weighted_sum<7>(p.data(), vb, c.sl, n, d0, oh); break;
          default: weighted_sum<8>(p.data(), vb, c.sl, n, d0, oh); break;
        }
      }
    }
  });
}

// K[g, pos] = k[g], V[g, pos] = v[g] for one cache row
void store(const float* k, const float* v, int64_t G, int64_t D, float* kc, float* vc, int64_t sg, int64_t sl,
           int64_t pos) {
  for (int64_t g = 0; g < G; ++g) {
    std::copy_n(k + g * D, D, kc + g * sg + pos * sl);
    std::copy_n(v + g * D, D, vc + g * sg + pos * sl);
  }
}

bool cache_ok(const at::Tensor& kc, const at::Tensor& vc, int64_t B, int64_t G, int64_t D, int64_t pos) {
  return kc.dim() == 4 && vc.dim() == 4 && kc.scalar_type() == at::kFloat && vc.scalar_type() == at::kFloat &&
         kc.stride(-1) == 1 && kc.size(0) == B && kc.size(1) == G && kc.size(3) == D && vc.sizes() == kc.sizes() &&
         vc.strides() == kc.strides() && 0 <= pos && pos < kc.size(2);
}

at::Tensor attend_step(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, at::Tensor kc, at::Tensor vc,
                       int64_t pos, double scale) {
  TORCH_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3, "attend_step: q (B, H, D), k and v (B, Hkv, D)");
  for (const at::Tensor* t : std::initializer_list<const at::Tensor*>{&q, &k, &v})
    TORCH_CHECK(t->scalar_type() == at::kFloat && t->is_contiguous(), "attend_step: q, k, v contiguous fp32");
  const int64_t B = q.size(0), H = q.size(1), D = q.size(2), G = k.size(1);
  TORCH_CHECK(D % 8 == 0 && H % G == 0 && k.sizes() == v.sizes() && k.size(0) == B && k.size(2) == D,
              "attend_step: shapes");
  TORCH_CHECK(cache_ok(kc, vc, B, G, D, pos), "attend_step: caches (B, Hkv, L, D) fp32, pos < L");
  const int64_t sb = kc.stride(0), sg = kc.stride(1), sl = kc.stride(2);
  at::Tensor out = at::empty({B, H, D}, q.options());
  for (int64_t b = 0; b < B; ++b) {
    float* kb = kc.data_ptr<float>() + b * sb;
    float* vb = vc.data_ptr<float>() + b * sb;
    store(k.data_ptr<float>() + b * G * D, v.data_ptr<float>() + b * G * D, G, D, kb, vb, sg, sl, pos);
    attend(q.data_ptr<float>() + b * H * D, H, G, D, CacheRow{kb, vb, sg, sl}, pos + 1, static_cast<float>(scale),
           out.data_ptr<float>() + b * H * D);
  }
  return out;
}

// y = norm(r) for one row r (C): LayerNorm with gain w and bias b (or none), or RMSNorm
void norm_row(const float* r, int64_t C, const float* w, const float* b, double eps, bool rms, float* y) {
  double sum = 0.0, sq = 0.0;
  for (int64_t c = 0; c < C; ++c) {
    sum += r[c];
    sq += static_cast<double>(r[c]) * r[c];
  }
  const double mean = rms ? 0.0 : sum / C;
  const double var = rms ? sq / C : std::max(0.0, sq / C - mean * mean);
  const float inv = static_cast<float>(1.0 / std::sqrt(var + eps)), mu = static_cast<float>(mean);
  for (int64_t c = 0; c < C; ++c) y[c] = (r[c] - mu) * inv * w[c] + (b ? b[c] : 0.0f);
}

std::tuple<at::Tensor, at::Tensor> add_norm(const at::Tensor& x, const at::Tensor& h, const at::Tensor& w,
                                            const std::optional<at::Tensor>& b, double eps, bool rms) {
  TORCH_CHECK(x.dim() == 2 && x.sizes() == h.sizes(), "add_norm: x and h (M, C)");
  for (const at::Tensor* t : std::initializer_list<const at::Tensor*>{&x, &h, &w})
    TORCH_CHECK(t->scalar_type() == at::kFloat && t->is_contiguous(), "add_norm: contiguous fp32");
  const int64_t M = x.size(0), C = x.size(1);
  TORCH_CHECK(w.numel() == C, "add_norm: weight (C,)");
  const float* bp = nullptr;
  if (b.has_value()) {
    TORCH_CHECK(b->scalar_type() == at::kFloat && b->is_contiguous() && b->numel() == C, "add_norm: bias (C,)");
    bp = b->data_ptr<float>();
  }
  at::Tensor r = at::add(x, h), y = at::empty_like(x);
  for (int64_t m = 0; m < M; ++m)
    norm_row(r.data_ptr<float>() + m * C, C, w.data_ptr<float>(), bp, eps, rms, y.data_ptr<float>() + m * C);
  return {r, y};
}

// x * cos + rot(x) * sin for each of n heads of x (n, D) in place; rot turns each pair by 90
// degrees: pairs (i, i + D/2) ("half", HF's rotate_half) or (2i, 2i + 1) (interleaved)
void rotate(float* x, int64_t n, int64_t D, const float* cos, const float* sin, bool interleaved) {
  std::vector<float> t(D);
  for (int64_t h = 0; h < n; ++h) {
    float* xh = x + h * D;
    for (int64_t i = 0; i < D; ++i) {
      const float other = interleaved ? (i % 2 ? xh[i - 1] : -xh[i + 1]) : (i < D / 2 ? -xh[i + D / 2] : xh[i - D / 2]);
      t[i] = xh[i] * cos[i] + other * sin[i];
    }
    std::copy_n(t.data(), D, xh);
  }
}

// One linear layer of block_step: weight, int8 scales or absent, bias or absent
struct Lin {
  const at::Tensor* w;
  const at::Tensor* s;
  const at::Tensor* b;
  int64_t out() const { return w->size(0); }
};

const at::Tensor* opt(const c10::List<std::optional<at::Tensor>>& p, size_t i, std::vector<at::Tensor>& keep) {
  const std::optional<at::Tensor> t = p[i];
  if (!t.has_value()) return nullptr;
  keep[i] = *t;
  return &keep[i];
}

enum Act { kRelu = 0, kGelu = 1, kGeluTanh = 2, kSilu = 3 };

// a = act(a) in place over n values: relu; GELU exact (through torch's erf); GELU's tanh form
// x/2 (1 + tanh(u)) = x / (1 + e^(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3); silu x / (1 + e^(-x))
void activate(float* a, int64_t n, int64_t act) {
  if (act == kGelu) {
    at::Tensor t = at::from_blob(a, {n}, at::TensorOptions().dtype(at::kFloat));
    at::gelu_out(t, t, "none");
    return;
  }
  const auto f = [act](__m256 x) {
    if (act == kRelu) return _mm256_max_ps(x, _mm256_setzero_ps());
    __m256 t = x;                                           // silu: x / (1 + e^-x)
    if (act == kGeluTanh) {                                 // x / (1 + e^(-2u))
      const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
      t = _mm256_mul_ps(_mm256_set1_ps(2.0f * 0.7978845608f), _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
    }
    // e^-t for either sign of t: exp8 takes arguments <= 0, so use e^-|t| and its reciprocal
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_andnot_ps(_mm256_set1_ps(-0.0f), t)));
    const __m256 pos = _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_GE_OQ);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 sig = _mm256_blendv_ps(_mm256_div_ps(e, _mm256_add_ps(one, e)), _mm256_div_ps(one, _mm256_add_ps(one, e)), pos);
    return _mm256_mul_ps(x, sig);                           // x * sigmoid(t)
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(a + i, f(_mm256_loadu_ps(a + i)));
  if (i < n) {                                              // the tail through a padded vector
    float buf[8] = {0};
    std::copy(a + i, a + n, buf);
    _mm256_storeu_ps(buf, f(_mm256_loadu_ps(buf)));
    std::copy(buf, buf + (n - i), a + i);
  }
}

// One whole pre-norm decoder block for T <= 16 new tokens of one sequence, the weights read once:
//
//   a = Norm1(x);  q, k, v = a Wq, a Wk, a Wv (+ biases);  rotary on q, k
//   K[pos + t], V[pos + t] = k_t, v_t;  z_t = attention(q_t, K[:pos+t+1], V[:pos+t+1]) (causal)
//   r = x + z Wo;  f = MLP(Norm2(r)) = act(n W1) W2  or  SwiGLU: (act(n Wg) * n Wu) Wd;  out = r + f
//
// x (T, C). p: norm1 w, b; norm2 w, b; then (weight, scales, bias) for q, k, v, o and the
// feed-forward's two (MLP: in, out) or three (SwiGLU: gate, up, down) matrices. meta: rms,
// swiglu, act, H, Hkv, D, rope (0 none, 1 half, 2 interleaved), pos, layer, slot. eps: norm1's,
// norm2's eps and the score scale. kc, vc: the whole cache (layers, slots, Hkv, L, D); the block
// uses [layer, slot], keys 0 .. pos - 1 already there. cos, sin (T, D) with rope.
// Returns x's next value (T, C), or an empty tensor where a weight is of a kind it does not take
// (nothing is written then, and the caller runs the block operator by operator).
at::Tensor block_step(const at::Tensor& x, const c10::List<std::optional<at::Tensor>>& p, at::IntArrayRef meta,
                      at::ArrayRef<double> eps, at::Tensor kc, at::Tensor vc, const std::optional<at::Tensor>& cos,
                      const std::optional<at::Tensor>& sin) {
  TORCH_CHECK(meta.size() == 10 && eps.size() == 3, "block_step: meta has 10 entries, eps 3");
  const bool rms = meta[0], swiglu = meta[1];
  const int64_t act = meta[2], H = meta[3], G = meta[4], D = meta[5], rope = meta[6], pos = meta[7], layer = meta[8],
                slot = meta[9];
  const size_t n_lin = swiglu ? 7 : 6;
  TORCH_CHECK(p.size() == 4 + 3 * n_lin, "block_step: ", 4 + 3 * n_lin, " weights expected, got ", p.size());
  const auto empty = [&] { return at::empty({0}, x.options()); };    // "not taken": the caller goes on
  if (x.dim() != 2 || x.size(0) < 1 || x.size(0) > 16 || x.scalar_type() != at::kFloat || !x.is_contiguous())
    return empty();
  const int64_t T = x.size(0), C = x.size(1);
  // the cache (layers, slots, Hkv, L, D): this block reads and writes [layer, slot] (pointers, not
  // views: a view costs a dispatch)
  if (kc.dim() != 5 || vc.dim() != 5 || kc.scalar_type() != at::kFloat || vc.scalar_type() != at::kFloat ||
      kc.sizes() != vc.sizes() || kc.strides() != vc.strides() || kc.stride(4) != 1 || layer < 0 ||
      layer >= kc.size(0) || slot < 0 || slot >= kc.size(1) || kc.size(2) != G || kc.size(4) != D || pos < 0 ||
      pos + T > kc.size(3))
    return empty();
  if (D % 8 != 0 || H % G != 0) return empty();
  std::vector<at::Tensor> keep(p.size());
  const at::Tensor* nw[2] = {opt(p, 0, keep), opt(p, 2, keep)};
  const at::Tensor* nb[2] = {opt(p, 1, keep), opt(p, 3, keep)};
  for (int i = 0; i < 2; ++i) {
    if (!nw[i] || nw[i]->scalar_type() != at::kFloat || !nw[i]->is_contiguous() || nw[i]->numel() != C) return empty();
    if (nb[i] && (nb[i]->scalar_type() != at::kFloat || !nb[i]->is_contiguous() || nb[i]->numel() != C)) return empty();
  }
  std::vector<Lin> lin;
  for (size_t i = 0; i < n_lin; ++i) {
    const at::Tensor* w = opt(p, 4 + 3 * i, keep);
    if (!w) return empty();
    lin.push_back(Lin{w, opt(p, 5 + 3 * i, keep), opt(p, 6 + 3 * i, keep)});
  }
  const Lin &wq = lin[0], &wk = lin[1], &wv = lin[2], &wo = lin[3];
  const int64_t F = lin[4].out();
  const int64_t in_dims[7] = {C, C, C, H * D, C, swiglu ? C : F, F};
  const int64_t out_dims[7] = {H * D, G * D, G * D, C, F, swiglu ? F : C, C};
  for (size_t i = 0; i < n_lin; ++i)
    if (!llmos::matvec_supports(*lin[i].w, lin[i].s, lin[i].b, in_dims[i]) || lin[i].out() != out_dims[i]) return empty();
  if (rope && (!cos || !sin || cos->numel() != T * D || sin->numel() != T * D || cos->scalar_type() != at::kFloat ||
               sin->scalar_type() != at::kFloat || !cos->is_contiguous() || !sin->is_contiguous()))
    return empty();

  // one scratch buffer for every intermediate, T rows each: a (C), q (H D), k and v (G D), z (H D),
  // r (C), u and up (F)
  at::Tensor out = at::empty({T, C}, x.options());
  at::Tensor scratch = at::empty({T * (2 * C + 2 * H * D + 2 * G * D + 2 * F)}, x.options());
  float* ap = scratch.data_ptr<float>();
  float* q = ap + T * C;
  float* k = q + T * H * D;
  float* v = k + T * G * D;
  float* z = v + T * G * D;
  float* rp = z + T * H * D;
  float* u = rp + T * C;
  float* up = u + T * F;
  float* op = out.data_ptr<float>();
  const float* xp = x.data_ptr<float>();
  const auto nbp = [&](int i) { return nb[i] ? nb[i]->data_ptr<float>() : nullptr; };
  const auto mv = [&](const float* in, const Lin& l, float* y) { llmos::matvec(in, T, *l.w, l.s, l.b, y); };

  for (int64_t t = 0; t < T; ++t) norm_row(xp + t * C, C, nw[0]->data_ptr<float>(), nbp(0), eps[0], rms, ap + t * C);
  mv(ap, wq, q);
  mv(ap, wk, k);
  mv(ap, wv, v);
  const int64_t sg = kc.stride(2), sl = kc.stride(3);
  float* kp = kc.data_ptr<float>() + layer * kc.stride(0) + slot * kc.stride(1);
  float* vp = vc.data_ptr<float>() + layer * vc.stride(0) + slot * vc.stride(1);
  for (int64_t t = 0; t < T; ++t) {
    if (rope) {
      const float *ct = cos->data_ptr<float>() + t * D, *st = sin->data_ptr<float>() + t * D;
      rotate(q + t * H * D, H, D, ct, st, rope == 2);
      rotate(k + t * G * D, G, D, ct, st, rope == 2);
    }
    store(k + t * G * D, v + t * G * D, G, D, kp, vp, sg, sl, pos + t);
  }
  for (int64_t t = 0; t < T; ++t)           // token t sees the cache and the new tokens up to itself
    attend(q + t * H * D, H, G, D, CacheRow{kp, vp, sg, sl}, pos + t + 1, static_cast<float>(eps[2]), z + t * H * D);
  mv(z, wo, rp);
  for (int64_t i = 0; i < T * C; ++i) rp[i] += xp[i];                               // r = x + attention
  for (int64_t t = 0; t < T; ++t) norm_row(rp + t * C, C, nw[1]->data_ptr<float>(), nbp(1), eps[1], rms, ap + t * C);
  mv(ap, lin[4], u);
  activate(u, T * F, act);
  if (swiglu) {
    mv(ap, lin[5], up);
    for (int64_t i = 0; i < T * F; ++i) u[i] *= up[i];
  }
  mv(u, lin[n_lin - 1], op);
  for (int64_t i = 0; i < T * C; ++i) op[i] += rp[i];                               // out = r + feed-forward
  return out;
}

}  // namespace

TORCH_LIBRARY(llmos_decode, m) {
  m.def("attend_step(Tensor q, Tensor k, Tensor v, Tensor(a!) kc, Tensor(b!) vc, int pos, float scale) -> Tensor");
  m.def("add_norm(Tensor x, Tensor h, Tensor w, Tensor? b, float eps, bool rms) -> (Tensor, Tensor)");
  m.def("block_step(Tensor x, Tensor?[] p, int[] meta, float[] eps, Tensor(a!) kc, Tensor(b!) vc, Tensor? cos, "
        "Tensor? sin) -> Tensor");
}

TORCH_LIBRARY_IMPL(llmos_decode, CPU, m) {
  m.impl("attend_step", &attend_step);
  m.impl("add_norm", &add_norm);
  m.impl("block_step", &block_step);
}
