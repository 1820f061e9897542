"""GPT-2 (`GPT2LMHeadModel`).

Its checkpoints store linear layers as `Conv1D`, whose weight is (in, out), the
transpose of `nn.Linear`'s (out, in); and fuse the query, key and value
projections into one `c_attn` of width 3C. Both are undone here.
"""
from __future__ import annotations

import torch
from torch import Tensor

from llmos.nn.config import ModelConfig

ACT_FROM_HF = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu": "gelu",
               "relu": "relu", "silu": "silu", "swish": "silu", "gelu_fast": "gelu_tanh"}
ACT_TO_HF = {"gelu_tanh": "gelu_new", "gelu": "gelu", "relu": "relu", "silu": "silu"}


def config_from_hf(hf: dict) -> ModelConfig:
    for flag in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"):
        if hf.get(flag):
            raise ValueError(f"config.json: GPT-2 option {flag}=true is not supported by llmos")
    if hf.get("scale_attn_weights", True) is False:
        raise ValueError("config.json: GPT-2 option scale_attn_weights=false is not supported by llmos")
    act = hf.get("activation_function", "gelu_new")
    if act not in ACT_FROM_HF:
        raise ValueError(f"config.json: activation_function {act!r} is not supported; "
                         f"supported: {sorted(ACT_FROM_HF)}")
    d = hf["n_embd"]
    return ModelConfig.for_family(
        "gpt2", vocab_size=hf["vocab_size"], d_model=d, n_layers=hf["n_layer"], n_heads=hf["n_head"],
        d_ff=hf.get("n_inner") or 4 * d, max_seq_len=hf.get("n_positions", 1024),
        norm_eps=hf.get("layer_norm_epsilon", 1e-5), activation=ACT_FROM_HF[act],
        tie_embeddings=hf.get("tie_word_embeddings", True), init_std=hf.get("initializer_range", 0.02),
        bos_token_id=hf.get("bos_token_id"), eos_token_id=hf.get("eos_token_id"),
    )


def config_to_hf(cfg: ModelConfig) -> dict:
    if cfg.position != "learned" or cfg.norm != "layernorm" or cfg.mlp != "gelu" or cfg.n_experts:
        raise ValueError("only GPT-2-shaped models (learned positions, LayerNorm, GELU MLP, dense) "
                         "can be saved as GPT-2; pick the family that matches the model")
    if cfg.kv_heads != cfg.n_heads or cfg.dim_per_head * cfg.n_heads != cfg.d_model:
        raise ValueError("GPT-2 checkpoints need n_kv_heads = n_heads and head_dim = d_model / n_heads")
    if not (cfg.qkv_bias and cfg.out_bias and cfg.mlp_bias):
        raise ValueError("GPT-2 checkpoints have biases on every linear layer; this model lacks some")
    return {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "vocab_size": cfg.vocab_size, "n_embd": cfg.d_model, "n_layer": cfg.n_layers,
        "n_head": cfg.n_heads, "n_inner": cfg.d_ff, "n_positions": cfg.max_seq_len,
        "n_ctx": cfg.max_seq_len, "layer_norm_epsilon": cfg.norm_eps,
        "activation_function": ACT_TO_HF[cfg.activation], "tie_word_embeddings": cfg.tie_embeddings,
        "initializer_range": cfg.init_std, "bos_token_id": cfg.bos_token_id, "eos_token_id": cfg.eos_token_id,
        "attn_pdrop": 0.0, "embd_pdrop": 0.0, "resid_pdrop": 0.0,
        "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
    }


# llmos name (per block, after "blocks.{i}.") -> GPT-2 name (after "transformer.h.{i}.")
_BLOCK = {"norm1.weight": "ln_1.weight", "norm1.bias": "ln_1.bias",
          "norm2.weight": "ln_2.weight", "norm2.bias": "ln_2.bias",
          "attn.o_proj.weight": "attn.c_proj.weight", "attn.o_proj.bias": "attn.c_proj.bias",
          "ffn.fc_in.weight": "mlp.c_fc.weight", "ffn.fc_in.bias": "mlp.c_fc.bias",
          "ffn.fc_out.weight": "mlp.c_proj.weight", "ffn.fc_out.bias": "mlp.c_proj.bias"}
_TOP = {"tok_emb.weight": "transformer.wte.weight", "pos_emb.weight": "transformer.wpe.weight",
        "norm_f.weight": "transformer.ln_f.weight", "norm_f.bias": "transformer.ln_f.bias",
        "lm_head.weight": "lm_head.weight"}


def to_hf(sd: dict[str, Tensor], cfg: ModelConfig) -> dict[str, Tensor]:
    out = {hf: sd[ours] for ours, hf in _TOP.items() if ours in sd}
    if cfg.tie_embeddings:
        out.pop("lm_head.weight", None)
    for i in range(cfg.n_layers):
        p, h = f"blocks.{i}.", f"transformer.h.{i}."
        for ours, hf in _BLOCK.items():
            w = sd[p + ours]
            out[h + hf] = w.t() if hf.endswith("weight") and w.dim() == 2 else w
        qkv_w = torch.cat([sd[p + f"attn.{n}_proj.weight"] for n in "qkv"], 0)   # (3C, C)
        out[h + "attn.c_attn.weight"] = qkv_w.t()                                  # Conv1D: (C, 3C)
        out[h + "attn.c_attn.bias"] = torch.cat([sd[p + f"attn.{n}_proj.bias"] for n in "qkv"], 0)
    return {k: v.contiguous() for k, v in out.items()}


def from_hf(t: dict[str, Tensor], cfg: ModelConfig) -> dict[str, Tensor]:
    sd = {ours: t[hf] for ours, hf in _TOP.items() if hf in t}
    if cfg.tie_embeddings:
        sd.pop("lm_head.weight", None)
    c = cfg.d_model
    for i in range(cfg.n_layers):
        p, h = f"blocks.{i}.", f"transformer.h.{i}."
        for ours, hf in _BLOCK.items():
            w = t[h + hf]
            sd[p + ours] = w.t() if hf.endswith("weight") and w.dim() == 2 else w
        qkv_w, qkv_b = t[h + "attn.c_attn.weight"].t(), t[h + "attn.c_attn.bias"]  # (3C, C), (3C,)
        for j, n in enumerate("qkv"):
            sd[p + f"attn.{n}_proj.weight"] = qkv_w[j * c:(j + 1) * c]
            sd[p + f"attn.{n}_proj.bias"] = qkv_b[j * c:(j + 1) * c]
    return sd


IGNORED = ("attn.bias", "attn.masked_bias")   # causal-mask buffers in old GPT-2 checkpoints
