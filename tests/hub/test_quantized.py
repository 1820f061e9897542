import json

import pytest
import torch

from llmos.hub import save_pretrained
from llmos.hub.quantized import load_for_decoding, load_quantized, save_quantized
from llmos.nn import CausalLM, ModelConfig
from llmos.nn.quantize import quantize, quantized_dtype


def tiny(family: str) -> CausalLM:
    torch.manual_seed(0)
    cfg = ModelConfig.for_family(family, vocab_size=61, d_model=32, n_layers=2, n_heads=4,
                                 n_kv_heads=None if family == "gpt2" else 2, d_ff=48, max_seq_len=64)
    return CausalLM(cfg).eval()


@pytest.mark.parametrize("family", ["gpt2", "llama"])
@pytest.mark.parametrize("dtype", ["int8", "bf16"])
def test_a_saved_quantized_model_loads_as_it_was(tmp_path, family, dtype, monkeypatch):
    model = quantize(tiny(family), dtype)
    save_quantized(model, tmp_path / "q")
    assert json.loads((tmp_path / "q" / "quantization.json").read_text())["dtype"] == dtype
    # loading must not quantize again: the stored integers come back as they are
    monkeypatch.setattr("llmos.nn.quantize.quantize_int8", lambda w: pytest.fail("requantized"))
    back = load_quantized(tmp_path / "q")
    assert quantized_dtype(back) == dtype
    if family == "gpt2":
        assert back.lm_head is back.tok_emb.head
    assert torch.equal(back.blocks[1].ffn.state_dict()[next(iter(back.blocks[1].ffn.state_dict()))],
                       model.blocks[1].ffn.state_dict()[next(iter(model.blocks[1].ffn.state_dict()))])
    ids = torch.randint(0, 61, (2, 10))
    with torch.no_grad():
        assert torch.equal(back(ids).logits, model(ids).logits)


def test_load_for_decoding_quantizes_an_fp32_folder_and_guards_a_quantized_one(tmp_path):
    save_pretrained(tiny("gpt2"), tmp_path / "fp32")
    model, tok = load_for_decoding(tmp_path / "fp32", "int8")
    assert quantized_dtype(model) == "int8" and tok is None
    save_quantized(model, tmp_path / "int8")
    assert quantized_dtype(load_for_decoding(tmp_path / "int8", "fp32")[0]) == "int8"
    with pytest.raises(ValueError, match="holds int8 weights"):
        load_for_decoding(tmp_path / "int8", "bf16")
    with pytest.raises(ValueError, match="choose one of"):
        load_for_decoding(tmp_path / "fp32", "int4")


def test_a_damaged_quantized_folder_is_named(tmp_path):
    save_quantized(quantize(tiny("llama"), "int8"), tmp_path / "q")
    (tmp_path / "q" / "quantized.safetensors").unlink()
    with pytest.raises(ValueError, match="weights are missing"):
        load_quantized(tmp_path / "q")
    with pytest.raises(ValueError, match="not quantized"):
        save_quantized(tiny("llama"), tmp_path / "x")
