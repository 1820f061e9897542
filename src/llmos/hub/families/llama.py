"""The Llama layout: Llama, Mistral, Qwen2 and Mixtral.

All four name their tensors the same way (`model.layers.{i}.self_attn.q_proj`,
`mlp.gate_proj`, ...); they differ in config switches: Mistral's sliding
window, Qwen2's q/k/v biases, Mixtral's experts under `block_sparse_moe`
(`w1` = gate, `w3` = up, `w2` = down).
"""
from __future__ import annotations

from torch import Tensor

from llmos.nn.config import ModelConfig

_ATTN = {"q_proj", "k_proj", "v_proj", "o_proj"}


def _rope(hf: dict) -> tuple[float, dict | None]:
    params = dict(hf.get("rope_parameters") or {})
    legacy = hf.get("rope_scaling")
    if legacy:
        params = {**params, **legacy}
    theta = params.pop("rope_theta", hf.get("rope_theta", 10000.0))
    kind = params.get("rope_type", params.get("type", "default"))
    if kind == "default":
        return float(theta), None
    if kind not in ("linear", "llama3"):
        raise ValueError(f"config.json: rope type {kind!r} is not supported; supported: default, linear, llama3")
    if kind == "llama3":
        params.setdefault("original_max_position_embeddings", hf.get("original_max_position_embeddings"))
    params["rope_type"] = kind
    params.pop("type", None)
    return float(theta), params


def config_from_hf(hf: dict) -> ModelConfig:
    model_type = hf["model_type"]
    act = hf.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise ValueError(f"config.json: hidden_act {act!r} is not supported for {model_type}; use silu")
    if hf.get("partial_rotary_factor", 1.0) != 1.0:
        raise ValueError("config.json: partial_rotary_factor != 1 is not supported")
    theta, scaling = _rope(hf)
    window = hf.get("sliding_window")
    if model_type == "qwen2":
        n = hf["num_hidden_layers"]
        types = hf.get("layer_types") or ["full_attention"] * n
        if not hf.get("use_sliding_window", False) or all(t == "full_attention" for t in types):
            window = None
        elif any(t == "full_attention" for t in types):
            raise ValueError("config.json: Qwen2 with sliding windows on only some layers "
                             f"(max_window_layers={hf.get('max_window_layers')}) is not supported")
    if model_type == "llama":
        window = None
    fam = "mixtral" if model_type == "mixtral" else model_type
    extra = {}
    if model_type == "qwen2":
        extra["max_window_layers"] = hf.get("max_window_layers", hf["num_hidden_layers"])
    kw = dict(
        vocab_size=hf["vocab_size"], d_model=hf["hidden_size"], n_layers=hf["num_hidden_layers"],
        n_heads=hf["num_attention_heads"], n_kv_heads=hf.get("num_key_value_heads") or hf["num_attention_heads"],
        head_dim=hf.get("head_dim"), d_ff=hf["intermediate_size"],
        max_seq_len=hf.get("max_position_embeddings", 2048), rope_theta=theta, rope_scaling=scaling,
        norm_eps=hf.get("rms_norm_eps", 1e-6), tie_embeddings=hf.get("tie_word_embeddings", False),
        sliding_window=window, init_std=hf.get("initializer_range", 0.02),
        bos_token_id=hf.get("bos_token_id"), eos_token_id=_first(hf.get("eos_token_id")), extra=extra,
    )
    if model_type == "llama":
        kw.update(qkv_bias=hf.get("attention_bias", False), out_bias=hf.get("attention_bias", False),
                  mlp_bias=hf.get("mlp_bias", False))
    if model_type == "mixtral":
        kw.update(n_experts=hf["num_local_experts"], experts_per_token=hf.get("num_experts_per_tok", 2),
                  router_aux_loss_coef=hf.get("router_aux_loss_coef", 0.02))
    return ModelConfig.for_family(fam, **kw)


def _first(x):
    return x[0] if isinstance(x, list) and x else x


def config_to_hf(cfg: ModelConfig) -> dict:
    model_type = cfg.family
    if cfg.position != "rope" or cfg.norm != "rmsnorm" or cfg.mlp != "swiglu" or cfg.rope_interleaved:
        raise ValueError(f"a {model_type} checkpoint needs RoPE (rotate-half), RMSNorm and SwiGLU; "
                         "this model differs: save it under the family it was built as")
    if bool(cfg.n_experts) != (model_type == "mixtral"):
        raise ValueError("mixture-of-experts models save as mixtral, dense ones as llama/mistral/qwen2")
    if model_type == "qwen2" and (cfg.out_bias or cfg.mlp_bias or not cfg.qkv_bias):
        raise ValueError("qwen2 checkpoints have q/k/v biases and no other biases")
    if model_type in ("mistral", "mixtral") and (cfg.qkv_bias or cfg.out_bias or cfg.mlp_bias):
        raise ValueError(f"{model_type} checkpoints have no biases")
    if model_type == "llama" and cfg.qkv_bias != cfg.out_bias:
        raise ValueError("llama checkpoints have one attention_bias switch for q/k/v and o")
    if model_type == "llama" and cfg.sliding_window:
        raise ValueError("llama has no sliding window; save as mistral")
    arch = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM",
            "qwen2": "Qwen2ForCausalLM", "mixtral": "MixtralForCausalLM"}[model_type]
    rope = {"rope_type": "default", "rope_theta": cfg.rope_theta, **(cfg.rope_scaling or {})}
    hf = {
        "architectures": [arch], "model_type": model_type, "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.d_model, "intermediate_size": cfg.d_ff, "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads, "num_key_value_heads": cfg.kv_heads, "head_dim": cfg.dim_per_head,
        "max_position_embeddings": cfg.max_seq_len, "rms_norm_eps": cfg.norm_eps, "hidden_act": "silu",
        "rope_theta": cfg.rope_theta, "rope_scaling": cfg.rope_scaling, "rope_parameters": rope,
        "tie_word_embeddings": cfg.tie_embeddings, "initializer_range": cfg.init_std,
        "bos_token_id": cfg.bos_token_id, "eos_token_id": cfg.eos_token_id, "attention_dropout": 0.0,
    }
    if model_type == "llama":
        hf.update(attention_bias=cfg.qkv_bias, mlp_bias=cfg.mlp_bias)
    if model_type in ("mistral", "mixtral"):
        hf["sliding_window"] = cfg.sliding_window
    if model_type == "qwen2":
        hf.update(use_sliding_window=cfg.sliding_window is not None,
                  sliding_window=cfg.sliding_window, max_window_layers=0 if cfg.sliding_window else cfg.n_layers)
        if cfg.sliding_window is None:
            hf["max_window_layers"] = cfg.extra.get("max_window_layers", cfg.n_layers)
    if model_type == "mixtral":
        hf.update(num_local_experts=cfg.n_experts, num_experts_per_tok=cfg.experts_per_token,
                  router_aux_loss_coef=cfg.router_aux_loss_coef, output_router_logits=False)
    return hf


def _block_to_hf(rest: str) -> str:
    """Name inside one block: llmos -> HF."""
    head, _, tail = rest.partition(".")
    if head == "norm1":
        return "input_layernorm." + tail
    if head == "norm2":
        return "post_attention_layernorm." + tail
    if head == "attn":
        return "self_attn." + tail
    if head == "ffn":
        if tail.startswith("router."):
            return "block_sparse_moe.gate." + tail[len("router."):]
        if tail.startswith("experts."):
            _, e, proj, param = tail.split(".")
            w = {"gate_proj": "w1", "down_proj": "w2", "up_proj": "w3"}[proj]
            return f"block_sparse_moe.experts.{e}.{w}.{param}"
        return "mlp." + tail
    raise KeyError(rest)


def _name_to_hf(name: str) -> str:
    if name == "tok_emb.weight":
        return "model.embed_tokens.weight"
    if name.startswith("norm_f."):
        return "model.norm." + name[len("norm_f."):]
    if name.startswith("lm_head."):
        return name
    _, i, rest = name.split(".", 2)                       # blocks.{i}.rest
    return f"model.layers.{i}.{_block_to_hf(rest)}"


def to_hf(sd: dict[str, Tensor], cfg: ModelConfig) -> dict[str, Tensor]:
    out = {_name_to_hf(k): v.contiguous() for k, v in sd.items()}
    if cfg.tie_embeddings:
        out.pop("lm_head.weight", None)
    return out


def from_hf(t: dict[str, Tensor], cfg: ModelConfig) -> dict[str, Tensor]:
    from llmos.nn.causal_lm import CausalLM
    import torch
    with torch.device("meta"):
        names = CausalLM(cfg).state_dict().keys()
    sd = {n: t[_name_to_hf(n)] for n in names if not (cfg.tie_embeddings and n == "lm_head.weight")}
    return sd


IGNORED = ("rotary_emb.inv_freq",)
