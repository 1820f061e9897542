"""Weight-only quantization for decoding: int8 with per-channel scales, and bf16.

Decoding one sequence reads every weight once per token, so on a CPU its speed
is memory bandwidth / bytes of weights. Storing weights in fewer bytes is the
only way past that bound (gpt-fast's `quantize.py` does the same on GPUs):

    fp32   4 bytes/weight
    bf16   2 bytes/weight      w16 = top 16 bits of w32 (round to nearest even)
    int8   1 byte/weight       w ~= s_n * q_nk,  q in [-127, 127],  s_n = max_k |w_nk| / 127

int8 uses one scale per output channel (row n of a Linear's (N, K) weight), so
y_n = s_n * sum_k q_nk x_k: the scale factors out of the dot product and is
applied once per output. Activations stay in floating point ("weight-only"),
so no calibration data is needed. The embedding table is quantized per row,
which for a tied LM head is the same rows: one int8 table serves both.

    model = quantize(model, "int8")     # in place; returns the model
    model = quantize(model, "bf16")

Kernels, chosen by measuring on an AVX2 CPU (see BENCHMARKS.md):
  int8: torch's `_weight_int8pack_mm` takes bf16 activations and int8 weights
        and reads the weights at memory speed; with fp32 activations it falls
        back to a slow path, so activations are cast to bf16 for the matmul and
        the result back to the input's dtype.
  bf16: without AVX-512 BF16 a bf16 x bf16 matmul is emulated and slower than
        fp32. The weights are stored as bf16 and widened to fp32 inside a fused
        matrix-vector loop (`llmos.nn.gemv`, a small C++ kernel built on first
        use); where that kernel is unavailable they are widened per call.
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from llmos.nn import gemv

QuantDtype = Literal["fp32", "bf16", "int8"]
DTYPES: tuple[str, ...] = ("fp32", "bf16", "int8")


def quantize_int8(w: Tensor) -> tuple[Tensor, Tensor]:
    """w (N, K) float -> q (N, K) int8, scales (N,) fp32 with w ~= scales[:, None] * q."""
    w = w.detach().float()
    scales = w.abs().amax(dim=1).clamp(min=1e-12) / 127               # (N,)
    q = torch.round(w / scales[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
    return q, scales


class Int8Linear(nn.Module):
    """y = x W^T + b with W stored as int8 rows and one fp32 scale per row."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: torch.device | str | None = None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.register_buffer("weight", torch.zeros(out_features, in_features, dtype=torch.int8, device=device))
        self.register_buffer("scales", torch.ones(out_features, device=device))
        self.register_buffer("scales_bf16", torch.ones(out_features, dtype=torch.bfloat16, device=device),
                             persistent=False)
        self.bias = nn.Parameter(torch.zeros(out_features, device=device), requires_grad=False) if bias else None

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> "Int8Linear":
        m = cls(linear.in_features, linear.out_features, linear.bias is not None, device=linear.weight.device)
        m.set_weight(linear.weight)
        if linear.bias is not None:
            m.bias.data = linear.bias.detach().float().clone()
        return m

    def set_weight(self, w: Tensor) -> None:
        self.weight, scales = quantize_int8(w)
        self.set_scales(scales)

    def set_scales(self, scales: Tensor) -> None:
        self.scales = scales.float()
        self.scales_bf16 = scales.to(torch.bfloat16)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self.scales_bf16 = self.scales.to(torch.bfloat16)          # derived, not saved

    def dequantized(self) -> Tensor:
        return self.weight.float() * self.scales[:, None]           # (N, K)

    def forward(self, x: Tensor) -> Tensor:                          # (..., K) -> (..., N)
        y = int8_linear(x.reshape(-1, self.in_features), self.weight, self.scales, self.scales_bf16, self.bias)
        return y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 per-row scales"


class Bf16Linear(nn.Module):
    """y = x W^T + b with W stored in bf16; the arithmetic is fp32."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: torch.device | str | None = None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.register_buffer("weight", torch.zeros(out_features, in_features, dtype=torch.bfloat16, device=device))
        self.bias = nn.Parameter(torch.zeros(out_features, device=device), requires_grad=False) if bias else None

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> "Bf16Linear":
        m = cls(linear.in_features, linear.out_features, linear.bias is not None, device=linear.weight.device)
        m.weight = linear.weight.detach().to(torch.bfloat16).contiguous()
        if linear.bias is not None:
            m.bias.data = linear.bias.detach().float().clone()
        return m

    def dequantized(self) -> Tensor:
        return self.weight.float()

    def forward(self, x: Tensor) -> Tensor:                          # (..., K) -> (..., N)
        y = bf16_linear(x.reshape(-1, self.in_features), self.weight, self.bias)
        return y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bf16 weights"


class QuantEmbedding(nn.Module):
    """An embedding table in int8 or bf16; it can also serve as the tied LM head."""

    def __init__(self, num_embeddings: int, dim: int, dtype: QuantDtype, device=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim, self.dtype = num_embeddings, dim, dtype
        self.head = (Int8Linear if dtype == "int8" else Bf16Linear)(dim, num_embeddings, bias=False,
                                                                     device=device)

    @classmethod
    def from_embedding(cls, emb: nn.Embedding, dtype: QuantDtype) -> "QuantEmbedding":
        m = cls(emb.num_embeddings, emb.embedding_dim, dtype, device=emb.weight.device)
        m.head = (Int8Linear if dtype == "int8" else Bf16Linear).from_linear(_as_linear(emb.weight))
        return m

    @property
    def weight(self) -> Tensor:
        """The table dequantized (V, C): for code that reads embeddings (e.g. interpretability)."""
        return self.head.dequantized()

    def forward(self, ids: Tensor) -> Tensor:                        # (B, T) -> (B, T, C) fp32
        rows = self.head.weight[ids].float()
        if isinstance(self.head, Int8Linear):
            rows = rows * self.head.scales[ids][..., None]
        return rows


def _as_linear(weight: Tensor) -> nn.Linear:
    with torch.device("meta"):
        lin = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    lin.weight = nn.Parameter(weight.detach(), requires_grad=False)
    return lin


def int8_linear(x: Tensor, q: Tensor, scales: Tensor, scales_bf16: Tensor | None = None,
                bias: Tensor | None = None) -> Tensor:
    """x (M, K) float, q (N, K) int8, scales (N,), bias (N,) or None -> (M, N) in x's dtype."""
    if x.device.type == "cpu" and x.shape[0] <= 16 and gemv.available():
        return gemv.int8(x.float().contiguous(), q, scales, _fp32(bias)).to(x.dtype)
    # torch 2.13's op segfaults unless every weight row starts on a 16-byte boundary (K a multiple
    # of 16, the tensor itself aligned); measured on AVX2 and AVX-512 CPUs
    if x.device.type == "cpu" and x.shape[1] % 16 == 0 and q.data_ptr() % 16 == 0:
        sb = scales_bf16 if scales_bf16 is not None else scales.to(torch.bfloat16)
        y = torch.ops.aten._weight_int8pack_mm(x.to(torch.bfloat16).contiguous(), q, sb).to(x.dtype)
    else:
        y = (nn.functional.linear(x.float(), q.float()) * scales).to(x.dtype)
    return y if bias is None else y + bias.to(y.dtype)


def bf16_linear(x: Tensor, w: Tensor, bias: Tensor | None = None) -> Tensor:
    """x (M, K) float, w (N, K) bf16, bias (N,) or None -> (M, N) in x's dtype."""
    if x.device.type == "cpu" and x.shape[0] <= 16 and gemv.available():
        return gemv.bf16(x.float().contiguous(), w, _fp32(bias)).to(x.dtype)
    if x.dtype == torch.bfloat16 and x.device.type != "cpu":
        y = nn.functional.linear(x, w)
    else:
        y = nn.functional.linear(x.float(), w.float()).to(x.dtype)
    return y if bias is None else y + bias.to(y.dtype)


def _fp32(bias: Tensor | None) -> Tensor | None:
    """The bias as the kernel takes it; the layers store it fp32 already, so no copy on the decode path."""
    return bias if bias is None or bias.dtype == torch.float32 else bias.float().contiguous()


def quantize(model: nn.Module, dtype: QuantDtype) -> nn.Module:
    """Replace a CausalLM's Linear layers (and embedding) with `dtype` weights, in place.

    fp32 leaves the model as it is. Norms, biases and position tables stay fp32
    (they are a few thousand numbers). Mixture-of-experts layers are quantized
    expert by expert; the router stays fp32.
    """
    if dtype not in DTYPES:
        raise ValueError(f"unknown weight dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    if dtype == "fp32":
        return model
    if is_quantized(model):
        raise ValueError(f"this model is already quantized ({quantized_dtype(model)}); load the fp32 "
                         "weights to quantize again")
    model.eval()
    tied = getattr(model, "config", None) is not None and model.config.tie_embeddings
    emb = getattr(model, "tok_emb", None)
    if isinstance(emb, nn.Embedding):
        model.tok_emb = QuantEmbedding.from_embedding(emb, dtype)
    linear_cls = Int8Linear if dtype == "int8" else Bf16Linear
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if not isinstance(child, nn.Linear) or _is_router(module, child_name):
                continue
            full = f"{name}.{child_name}" if name else child_name
            if tied and full == "lm_head":
                setattr(module, child_name, model.tok_emb.head)        # one table for both
            else:
                setattr(module, child_name, linear_cls.from_linear(child))
    for p in model.parameters():
        p.requires_grad_(False)
    model.quant_dtype = dtype
    return model


def _is_router(parent: nn.Module, child_name: str) -> bool:
    return type(parent).__name__ == "MoE" and child_name in ("router", "gate")


def empty_quantized(model: nn.Module, dtype: QuantDtype) -> nn.Module:
    """The module layout of `quantize(model, dtype)` without computing any scales (for loading)."""
    if dtype == "fp32":
        return model
    tied = model.config.tie_embeddings
    emb = model.tok_emb
    model.tok_emb = QuantEmbedding(emb.num_embeddings, emb.embedding_dim, dtype)
    linear_cls = Int8Linear if dtype == "int8" else Bf16Linear
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if not isinstance(child, nn.Linear) or _is_router(module, child_name):
                continue
            full = f"{name}.{child_name}" if name else child_name
            if tied and full == "lm_head":
                setattr(module, child_name, model.tok_emb.head)
            else:
                setattr(module, child_name, linear_cls(child.in_features, child.out_features,
                                                       child.bias is not None))
    model.quant_dtype = dtype
    return model


def is_quantized(model: nn.Module) -> bool:
    return getattr(model, "quant_dtype", "fp32") != "fp32"


def quantized_dtype(model: nn.Module) -> str:
    return getattr(model, "quant_dtype", "fp32")


def weight_bytes(model: nn.Module) -> int:
    """Bytes of weights one decoding step reads: every matrix once (a tied table once), no position table."""
    seen, total = set(), 0
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        if id(t) in seen or "pos_emb" in name or "rotary" in name or name.endswith("scales_bf16"):
            continue
        seen.add(id(t))
        total += t.numel() * t.element_size()
    emb = getattr(model, "tok_emb", None)
    tied = getattr(model, "config", None) is not None and model.config.tie_embeddings
    if emb is not None and not tied:                # an untied table is looked up, not read whole
        w = emb.weight if isinstance(emb, nn.Embedding) else emb.head.weight
        total -= w.numel() * w.element_size()
    return total
