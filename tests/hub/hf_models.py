"""Tiny random Hugging Face models, one per family, built from configs (nothing downloaded)."""
from __future__ import annotations

import torch

transformers = __import__("pytest").importorskip("transformers")

FAMILIES = ["gpt2", "llama", "mistral", "qwen2", "mixtral"]


def hf_config(family: str):
    common = dict(vocab_size=97, hidden_size=48, intermediate_size=80, num_hidden_layers=2,
                  num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=128,
                  bos_token_id=1, eos_token_id=2, pad_token_id=0)
    if family == "gpt2":
        return transformers.GPT2Config(vocab_size=97, n_embd=48, n_layer=2, n_head=6, n_positions=128,
                                       n_inner=None, bos_token_id=1, eos_token_id=2,
                                       attn_pdrop=0.0, embd_pdrop=0.0, resid_pdrop=0.0)
    if family == "llama":
        return transformers.LlamaConfig(**common, rope_theta=5000.0, rope_scaling={
            "rope_type": "llama3", "factor": 4.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 16})
    if family == "mistral":
        return transformers.MistralConfig(**common, sliding_window=7)
    if family == "qwen2":
        return transformers.Qwen2Config(**common, tie_word_embeddings=True)
    if family == "mixtral":
        return transformers.MixtralConfig(**common, num_local_experts=4, num_experts_per_tok=2)
    raise ValueError(family)


def hf_model(family: str, seed: int = 0):
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(hf_config(family), attn_implementation="eager")
    with torch.no_grad():   # make biases and norm gains non-trivial so a wrong mapping shows
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model.eval()
