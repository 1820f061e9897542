"""The named presets: each builds the model its table row says, and preset() hands out copies."""
import pytest
import torch

from llmos.config import ConfigError, override
from llmos.nn import CausalLM
from llmos.train.presets import PRESETS, preset


def millions(cfg) -> float:
    with torch.device("meta"):
        return sum(p.numel() for p in CausalLM(cfg.model).parameters()) / 1e6


@pytest.mark.parametrize("name,family,params", [
    ("char", "gpt2", 0.8), ("gpt", "gpt2", 4.2), ("llama", "llama", 5.0), ("mixtral", "mixtral", 5.5),
    ("demo", "gpt2", 0.8)])
def test_each_preset_is_the_model_its_docstring_table_names(name, family, params):
    cfg = preset(name)
    assert cfg.preset == name and cfg.model.family == family
    assert millions(cfg) == pytest.approx(params, abs=0.1)          # the table's "params" column


def test_the_table_rows_that_say_more():
    assert preset("char").data.tokenizer == "char" and preset("char").model.max_seq_len == 64
    assert preset("llama").model.kv_heads == 4 < preset("llama").model.n_heads          # GQA
    moe = preset("mixtral").model
    assert (moe.n_experts, moe.experts_per_token) == (4, 2)
    demo, char = preset("demo"), preset("char")
    assert demo.model == char.model and demo.train.max_steps == 1500 < char.train.max_steps


def test_preset_returns_a_copy_and_names_unknown_ones():
    cfg = override(preset("char"), ["train.max_steps=5"])
    assert cfg.train.max_steps == 5 and PRESETS["char"].train.max_steps == 2000
    a = preset("gpt")
    a.preset = "changed"
    assert PRESETS["gpt"].preset == "gpt"
    with pytest.raises(ConfigError, match="unknown preset 'tiny'; choose one of char, demo, gpt, llama, mixtral"):
        preset("tiny")
