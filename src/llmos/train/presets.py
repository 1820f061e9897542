"""Named starting points for `llmos train PRESET key=value ...`.

    preset    model                                    tokens       params  after
    char      GPT, 4 layers, 4 heads, 128 dims, ctx 64  characters   0.8 M   nanoGPT's CPU shakespeare_char
    gpt       GPT-2 style, 4 x 256, ctx 128             BPE 4096     4.2 M
    llama     Llama style (RoPE, RMSNorm, SwiGLU, GQA)  BPE 4096     5.0 M
    mixtral   Mixtral style MoE, 4 experts, top-2       BPE 4096     5.5 M   logs expert load + aux loss
    demo      `char`, sized for the main job            characters   0.8 M

Every preset trains on the embedded default corpus unless `data.corpus=PATH`.
"""
from __future__ import annotations

import dataclasses

from llmos.config import ConfigError
from llmos.nn.config import ModelConfig
from llmos.train.config import DataConfig, PretrainConfig, TrainConfig

# vocab_size is filled in from the tokenizer when the run starts.
PRESETS: dict[str, PretrainConfig] = {
    "char": PretrainConfig(
        model=ModelConfig.for_family("gpt2", vocab_size=256, d_model=128, n_layers=4, n_heads=4,
                                     d_ff=512, max_seq_len=64, dropout=0.0),
        data=DataConfig(tokenizer="char"),
        train=TrainConfig(max_steps=2000, batch_size=12, lr=1e-3, min_lr=1e-4, warmup_steps=100,
                          beta2=0.99, weight_decay=0.1, eval_every=250, eval_batches=20)),
    "gpt": PretrainConfig(
        model=ModelConfig.for_family("gpt2", vocab_size=4096, d_model=256, n_layers=4, n_heads=4,
                                     d_ff=1024, max_seq_len=128, dropout=0.0),
        data=DataConfig(tokenizer="bpe", vocab_size=4096),
        train=TrainConfig(max_steps=3000, batch_size=16, lr=6e-4, min_lr=6e-5, warmup_steps=200)),
    "llama": PretrainConfig(
        model=ModelConfig.for_family("llama", vocab_size=4096, d_model=256, n_layers=4, n_heads=8,
                                     n_kv_heads=4, d_ff=688, max_seq_len=128),
        data=DataConfig(tokenizer="bpe", vocab_size=4096),
        train=TrainConfig(max_steps=3000, batch_size=16, lr=6e-4, min_lr=6e-5, warmup_steps=200,
                          beta2=0.95)),
    "mixtral": PretrainConfig(
        model=ModelConfig.for_family("mixtral", vocab_size=4096, d_model=192, n_layers=4, n_heads=6,
                                     n_kv_heads=2, d_ff=384, max_seq_len=128, n_experts=4,
                                     experts_per_token=2, router_aux_loss_coef=0.02,
                                     router_z_loss_coef=0.001),
        data=DataConfig(tokenizer="bpe", vocab_size=4096),
        train=TrainConfig(max_steps=3000, batch_size=16, lr=6e-4, min_lr=6e-5, warmup_steps=200,
                          beta2=0.95)),
}
PRESETS["demo"] = dataclasses.replace(
    PRESETS["char"], train=dataclasses.replace(PRESETS["char"].train, max_steps=1500, eval_every=250,
                                               checkpoint_every=500))
for _name, _cfg in PRESETS.items():
    _cfg.preset = _name


def preset(name: str) -> PretrainConfig:
    """A fresh copy of the named preset."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}")
    return dataclasses.replace(PRESETS[name])
