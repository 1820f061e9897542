"""ModelConfig: the family presets, the derived head counts, and errors that name the setting."""
import dataclasses

import pytest

from llmos.nn.config import FAMILIES, ModelConfig


def test_for_family_applies_the_family_and_lets_overrides_win():
    cfg = ModelConfig.for_family("llama", d_model=64, n_heads=4, n_kv_heads=2, mlp="gelu")
    assert (cfg.family, cfg.position, cfg.norm, cfg.tie_embeddings) == ("llama", "rope", "rmsnorm", False)
    assert cfg.mlp == "gelu"                                          # the override beats the family
    for family, settings in FAMILIES.items():
        made = ModelConfig.for_family(family, d_model=64, n_heads=4)
        assert all(getattr(made, k) == v for k, v in settings.items()), family
    with pytest.raises(ValueError, match=r"unknown family 'bert'; supported: \['gpt2', 'llama'"):
        ModelConfig.for_family("bert")


def test_heads_mha_gqa_mqa_and_head_dim():
    assert ModelConfig(d_model=64, n_heads=8).kv_heads == 8                       # MHA
    assert ModelConfig(d_model=64, n_heads=8, n_kv_heads=2).kv_heads == 2         # GQA
    assert ModelConfig(d_model=64, n_heads=8, n_kv_heads=1).kv_heads == 1         # MQA
    assert ModelConfig(d_model=64, n_heads=8).dim_per_head == 8
    assert ModelConfig(d_model=60, n_heads=8, head_dim=16).dim_per_head == 16     # explicit head_dim


@pytest.mark.parametrize("settings,message", [
    (dict(d_model=60, n_heads=8), r"d_model=60 is not divisible by n_heads=8"),
    (dict(d_model=64, n_heads=8, n_kv_heads=3), r"n_heads=8 must be a positive multiple of n_kv_heads=3"),
    (dict(d_model=64, n_heads=8, n_kv_heads=0), r"n_kv_heads=0"),
    (dict(d_model=48, n_heads=16, position="rope"), r"rotary positions need an even head_dim, got 3"),
    (dict(n_experts=4, experts_per_token=5), r"experts_per_token=5 must be in 1\.\.n_experts=4"),
    (dict(vocab_size=0), r"vocab_size must be positive, got 0"),
    (dict(max_seq_len=0), r"max_seq_len must be positive"),
])
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**settings)


def test_replace_checks_the_new_values_too():
    cfg = ModelConfig(d_model=64, n_heads=8)
    assert cfg.replace(n_layers=2).n_layers == 2 and cfg.n_layers == 12
    with pytest.raises(ValueError, match="not divisible"):
        cfg.replace(n_heads=7)
    assert dataclasses.asdict(cfg) == dataclasses.asdict(ModelConfig(d_model=64, n_heads=8))
