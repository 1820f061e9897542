// One decoding step's small operators, fused: each is a handful of torch operators (and a few
// tens of microseconds of dispatch) in eager PyTorch, and a single pass over a few kilobytes here.
//
//   block_step: a whole pre-norm decoder block for one new token of one sequence (below), its
//     matrix products through gemv.cpp's kernel (fp32, bf16 or int8 weights)
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

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float dot(const float* a, const float* b, int64_t n) {   // n a multiple of 8
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i < n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  return hsum8(_mm256_add_ps(acc0, acc1));
}

inline void axpy(float a, const float* x, float* y, int64_t n) {   // y += a x, n a multiple of 8
  const __m256 av = _mm256_set1_ps(a);
  for (int64_t i = 0; i < n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
}

// Keys j = 0 .. n-1 of one cache row: K + g * sg + j * sl (the same strides for V).
struct CacheRow {
  const float* k;
  const float* v;
  int64_t sg, sl;
};

// out (H, D) = attention of q (H, D) over n cached keys; threads share out the heads
void attend(const float* q, int64_t H, int64_t G, int64_t D, const CacheRow& c, int64_t n, float scale, float* out) {
  const int64_t rep = H / G;
  const int64_t grain = std::max<int64_t>(1, 32768 / (n * D));   // small caches stay on one thread
  at::parallel_for(0, H, grain, [&](int64_t h0, int64_t h1) {
    std::vector<float> p(n);
    for (int64_t h = h0; h < h1; ++h) {
      const float* qh = q + h * D;
      const float* kb = c.k + (h / rep) * c.sg;
      const float* vb = c.v + (h / rep) * c.sg;
      float m = -INFINITY;
      for (int64_t j = 0; j < n; ++j) {
        p[j] = dot(qh, kb + j * c.sl, D) * scale;
        m = std::max(m, p[j]);
      }
      float z = 0.0f;
      for (int64_t j = 0; j < n; ++j) z += (p[j] = std::exp(p[j] - m));
      float* oh = out + h * D;
      std::fill_n(oh, D, 0.0f);
      for (int64_t j = 0; j < n; ++j) axpy(p[j], vb + j * c.sl, oh, D);
      const __m256 inv = _mm256_set1_ps(1.0f / z);
      for (int64_t d = 0; d < D; d += 8) _mm256_storeu_ps(oh + d, _mm256_mul_ps(inv, _mm256_loadu_ps(oh + d)));
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

void activate(at::Tensor& a, int64_t act) {
  switch (act) {
    case kRelu: a.relu_(); break;
    case kGelu: at::gelu_out(a, a, "none"); break;
    case kGeluTanh: at::gelu_out(a, a, "tanh"); break;
    default: at::silu_out(a, a); break;
  }
}

// One whole pre-norm decoder block for one new token (batch 1), the weights read once:
//
//   a = Norm1(x);  q, k, v = a Wq, a Wk, a Wv (+ biases);  rotary on q, k
//   K[pos], V[pos] = k, v;  z = attention(q, K[:pos+1], V[:pos+1]);  r = x + z Wo
//   f = MLP(Norm2(r)) = act(n W1) W2   or   SwiGLU: (act(n Wg) * n Wu) Wd;   out = r + f
//
// p: norm1 w, b; norm2 w, b; then (weight, scales, bias) for q, k, v, o and the feed-forward's
// two (MLP: in, out) or three (SwiGLU: gate, up, down) matrices. meta: rms, swiglu, act, H, Hkv,
// D, rope (0 none, 1 half, 2 interleaved), pos. eps: norm1's, norm2's eps and the score scale.
// Returns x's next value (1, C), or an empty tensor where a weight is of a kind it does not take
// (nothing is written then, and the caller runs the block operator by operator).
at::Tensor block_step(const at::Tensor& x, const c10::List<std::optional<at::Tensor>>& p, at::IntArrayRef meta,
                      at::ArrayRef<double> eps, at::Tensor kc, at::Tensor vc, const std::optional<at::Tensor>& cos,
                      const std::optional<at::Tensor>& sin) {
  TORCH_CHECK(meta.size() == 8 && eps.size() == 3, "block_step: meta has 8 entries, eps 3");
  const bool rms = meta[0], swiglu = meta[1];
  const int64_t act = meta[2], H = meta[3], G = meta[4], D = meta[5], rope = meta[6], pos = meta[7];
  const size_t n_lin = swiglu ? 7 : 6;
  TORCH_CHECK(p.size() == 4 + 3 * n_lin, "block_step: ", 4 + 3 * n_lin, " weights expected, got ", p.size());
  const at::Tensor empty = at::empty({0}, x.options());
  if (x.dim() != 2 || x.size(0) != 1 || x.scalar_type() != at::kFloat || !x.is_contiguous()) return empty;
  if (D % 8 != 0 || H % G != 0 || !cache_ok(kc, vc, 1, G, D, pos)) return empty;
  const int64_t C = x.size(1);
  std::vector<at::Tensor> keep(p.size());
  const at::Tensor* nw[2] = {opt(p, 0, keep), opt(p, 2, keep)};
  const at::Tensor* nb[2] = {opt(p, 1, keep), opt(p, 3, keep)};
  for (int i = 0; i < 2; ++i) {
    if (!nw[i] || nw[i]->scalar_type() != at::kFloat || !nw[i]->is_contiguous() || nw[i]->numel() != C) return empty;
    if (nb[i] && (nb[i]->scalar_type() != at::kFloat || !nb[i]->is_contiguous() || nb[i]->numel() != C)) return empty;
  }
  std::vector<Lin> lin;
  for (size_t i = 0; i < n_lin; ++i) {
    const at::Tensor* w = opt(p, 4 + 3 * i, keep);
    if (!w) return empty;
    lin.push_back(Lin{w, opt(p, 5 + 3 * i, keep), opt(p, 6 + 3 * i, keep)});
  }
  const Lin &wq = lin[0], &wk = lin[1], &wv = lin[2], &wo = lin[3];
  const int64_t F = lin[4].out();
  const int64_t in_dims[7] = {C, C, C, H * D, C, swiglu ? C : F, F};
  const int64_t out_dims[7] = {H * D, G * D, G * D, C, F, swiglu ? F : C, C};
  for (size_t i = 0; i < n_lin; ++i)
    if (!llmos::matvec_supports(*lin[i].w, lin[i].s, lin[i].b, in_dims[i]) || lin[i].out() != out_dims[i]) return empty;
  if (rope && (!cos || !sin || cos->numel() != D || sin->numel() != D || cos->scalar_type() != at::kFloat ||
               sin->scalar_type() != at::kFloat || !cos->is_contiguous() || !sin->is_contiguous()))
    return empty;

  const auto opts = x.options();
  at::Tensor a = at::empty({C}, opts), q = at::empty({H * D}, opts), k = at::empty({G * D}, opts),
             v = at::empty({G * D}, opts), z = at::empty({H * D}, opts), r = at::empty({C}, opts),
             u = at::empty({F}, opts), out = at::empty({1, C}, opts);
  float *ap = a.data_ptr<float>(), *rp = r.data_ptr<float>(), *op = out.data_ptr<float>();
  const float* xp = x.data_ptr<float>();
  const auto nbp = [&](int i) { return nb[i] ? nb[i]->data_ptr<float>() : nullptr; };

  norm_row(xp, C, nw[0]->data_ptr<float>(), nbp(0), eps[0], rms, ap);
  llmos::matvec(ap, *wq.w, wq.s, wq.b, q.data_ptr<float>());
  llmos::matvec(ap, *wk.w, wk.s, wk.b, k.data_ptr<float>());
  llmos::matvec(ap, *wv.w, wv.s, wv.b, v.data_ptr<float>());
  if (rope) {
    rotate(q.data_ptr<float>(), H, D, cos->data_ptr<float>(), sin->data_ptr<float>(), rope == 2);
    rotate(k.data_ptr<float>(), G, D, cos->data_ptr<float>(), sin->data_ptr<float>(), rope == 2);
  }
  const int64_t sg = kc.stride(1), sl = kc.stride(2);
  store(k.data_ptr<float>(), v.data_ptr<float>(), G, D, kc.data_ptr<float>(), vc.data_ptr<float>(), sg, sl, pos);
  attend(q.data_ptr<float>(), H, G, D, CacheRow{kc.data_ptr<float>(), vc.data_ptr<float>(), sg, sl}, pos + 1,
         static_cast<float>(eps[2]), z.data_ptr<float>());
  llmos::matvec(z.data_ptr<float>(), *wo.w, wo.s, wo.b, rp);
  for (int64_t c = 0; c < C; ++c) rp[c] += xp[c];                                   // r = x + attention
  norm_row(rp, C, nw[1]->data_ptr<float>(), nbp(1), eps[1], rms, ap);
  llmos::matvec(ap, *lin[4].w, lin[4].s, lin[4].b, u.data_ptr<float>());
  activate(u, act);
  if (swiglu) {
    at::Tensor up = at::empty({F}, opts);
    llmos::matvec(ap, *lin[5].w, lin[5].s, lin[5].b, up.data_ptr<float>());
    u.mul_(up);
  }
  const Lin& wd = lin[n_lin - 1];
  llmos::matvec(u.data_ptr<float>(), *wd.w, wd.s, wd.b, op);
  for (int64_t c = 0; c < C; ++c) op[c] += rp[c];                                   // out = r + feed-forward
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
