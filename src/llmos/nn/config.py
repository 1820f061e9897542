"""One typed config for every decoder-only family llmos builds.

The families differ in a handful of switches:

    family   positions  norm       feed-forward   biases          tied emb.  extra
    gpt2     learned    LayerNorm  GELU (tanh)    everywhere      yes
    llama    RoPE       RMSNorm    SwiGLU         none            no
    mistral  RoPE       RMSNorm    SwiGLU         none            no         sliding window
    qwen2    RoPE       RMSNorm    SwiGLU         q, k, v only    no
    mixtral  RoPE       RMSNorm    MoE of SwiGLU  none            no         top-2 of 8 experts

`ModelConfig.for_family("llama", d_model=256, ...)` starts from a family's
switches and overrides what you pass.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

FAMILIES: dict[str, dict[str, Any]] = {
    "gpt2": dict(position="learned", norm="layernorm", norm_eps=1e-5, mlp="gelu", activation="gelu_tanh",
                 qkv_bias=True, out_bias=True, mlp_bias=True, tie_embeddings=True),
    "llama": dict(position="rope", norm="rmsnorm", norm_eps=1e-6, mlp="swiglu", activation="silu",
                  qkv_bias=False, out_bias=False, mlp_bias=False, tie_embeddings=False),
    "mistral": dict(position="rope", norm="rmsnorm", norm_eps=1e-5, mlp="swiglu", activation="silu",
                    qkv_bias=False, out_bias=False, mlp_bias=False, tie_embeddings=False),
    "qwen2": dict(position="rope", norm="rmsnorm", norm_eps=1e-6, mlp="swiglu", activation="silu",
                  qkv_bias=True, out_bias=False, mlp_bias=False, tie_embeddings=False),
    "mixtral": dict(position="rope", norm="rmsnorm", norm_eps=1e-5, mlp="swiglu", activation="silu",
                    qkv_bias=False, out_bias=False, mlp_bias=False, tie_embeddings=False,
                    n_experts=8, experts_per_token=2),
}


@dataclass
class ModelConfig:
    family: Literal["gpt2", "llama", "mistral", "qwen2", "mixtral"] = "gpt2"
    vocab_size: int = 50257
    d_model: int = 768
    n_layers: int = 12
    n_heads: int = 12
    n_kv_heads: int | None = None        # None: = n_heads (MHA); 1: MQA; between: GQA
    head_dim: int | None = None          # None: d_model // n_heads
    d_ff: int = 3072
    max_seq_len: int = 1024
    position: Literal["learned", "rope", "sinusoidal", "none"] = "learned"
    rope_theta: float = 10000.0
    rope_scaling: dict | None = None     # e.g. {"rope_type": "llama3", "factor": 8.0, ...}
    rope_interleaved: bool = False       # pair features (2i, 2i+1) instead of (i, i + d/2)
    norm: Literal["layernorm", "rmsnorm"] = "layernorm"
    norm_eps: float = 1e-5
    mlp: Literal["gelu", "swiglu"] = "gelu"
    activation: str = "gelu_tanh"
    qkv_bias: bool = True
    out_bias: bool = True
    mlp_bias: bool = True
    tie_embeddings: bool = True
    sliding_window: int | None = None    # attend to at most this many most recent positions
    dropout: float = 0.0
    # mixture of experts (n_experts = 0: dense feed-forward)
    n_experts: int = 0
    experts_per_token: int = 2
    capacity_factor: float | None = None
    router_aux_loss_coef: float = 0.02
    router_z_loss_coef: float = 0.0
    init_std: float = 0.02
    bos_token_id: int | None = None
    eos_token_id: int | None = None
    extra: dict = field(default_factory=dict)   # family-specific settings kept for round trips

    def __post_init__(self) -> None:
        if self.head_dim is None and self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}; "
                             "change one of them or set head_dim")
        kv = self.kv_heads
        if kv < 1 or self.n_heads % kv:
            raise ValueError(f"n_heads={self.n_heads} must be a positive multiple of n_kv_heads={kv}")
        if self.position == "rope" and self.dim_per_head % 2:
            raise ValueError(f"rotary positions need an even head_dim, got {self.dim_per_head}")
        if self.n_experts and not 1 <= self.experts_per_token <= self.n_experts:
            raise ValueError(f"experts_per_token={self.experts_per_token} must be in 1..n_experts={self.n_experts}")
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "d_ff", "max_seq_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def kv_heads(self) -> int:
        return self.n_heads if self.n_kv_heads is None else self.n_kv_heads

    @property
    def dim_per_head(self) -> int:
        return self.head_dim if self.head_dim is not None else self.d_model // self.n_heads

    @classmethod
    def for_family(cls, family: str, **overrides: Any) -> "ModelConfig":
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; supported: {sorted(FAMILIES)}")
        return cls(family=family, **{**FAMILIES[family], **overrides})

    def replace(self, **changes: Any) -> "ModelConfig":
        return dataclasses.replace(self, **changes)
