import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from llmos.hub import CheckpointError, UnsupportedArchitecture, load_model, save_pretrained
from llmos.nn import CausalLM, ModelConfig

from tests.hub.hf_models import FAMILIES, hf_model, transformers

TOL = 1e-4


def _ids(vocab=97, b=2, t=20, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(3, vocab, (b, t), generator=g)


def _left_padded(t, seed, row, n_pad):
    """ids, mask with `n_pad` pads on the left of `row`, and the positions transformers needs to count
    real tokens only, as llmos does."""
    ids = _ids(t=t, seed=seed)
    mask = torch.ones_like(ids)
    mask[row, :n_pad] = 0
    return ids, mask, (mask.cumsum(-1) - 1).clamp(min=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_hf_folder_loads_with_equal_logits(family, tmp_path):
    ref = hf_model(family)
    ref.save_pretrained(tmp_path)
    ours = load_model(tmp_path).eval()
    assert ours.config.family == family
    ids = _ids()
    with torch.no_grad():
        want = ref(ids).logits
        got = ours(ids).logits
    assert (got - want).abs().max().item() < TOL


@pytest.mark.parametrize("family", FAMILIES)
def test_llmos_folder_loads_in_transformers_with_equal_logits(family, tmp_path):
    src = hf_model(family, seed=3)
    src.save_pretrained(tmp_path / "hf")
    ours = load_model(tmp_path / "hf").eval()
    save_pretrained(ours, tmp_path / "llmos")
    back = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "llmos", attn_implementation="eager").eval()
    ids = _ids(seed=4)
    with torch.no_grad():
        assert (back(ids).logits - ours(ids).logits).abs().max().item() < TOL


@pytest.mark.parametrize("family", FAMILIES)
def test_padded_batch_matches_transformers(family, tmp_path):
    ref = hf_model(family, seed=5)
    ref.save_pretrained(tmp_path)
    ours = load_model(tmp_path).eval()
    ids, mask, positions = _left_padded(t=12, seed=6, row=0, n_pad=4)
    with torch.no_grad():
        want = ref(ids, attention_mask=mask, position_ids=positions).logits
        got = ours(ids, attention_mask=mask).logits
    real = mask.bool()
    assert (got[real] - want[real]).abs().max().item() < TOL


@pytest.mark.parametrize("family", FAMILIES)
def test_attention_weights_equal_transformers_output_attentions(family, tmp_path):
    """need_weights gives transformers' eager attention maps (GQA, rotary, mistral's window of 7 < 14)."""
    ref = hf_model(family, seed=7)
    ref.save_pretrained(tmp_path)
    ours = load_model(tmp_path).eval()
    ids, mask, positions = _left_padded(t=14, seed=8, row=0, n_pad=3)
    with torch.no_grad():
        want = ref(ids, attention_mask=mask, position_ids=positions, output_attentions=True).attentions
        got = ours(ids, attention_mask=mask, need_weights=True).attentions
    assert len(got) == len(want) == 2
    real = mask.bool()                                # queries at padding see nothing: only real rows compared
    for g, w in zip(got, want):
        assert g.shape == w.shape == (2, 6, 14, 14)
        torch.testing.assert_close(g.permute(0, 2, 1, 3)[real], w.permute(0, 2, 1, 3)[real], atol=1e-5, rtol=0)


def test_mixtral_router_logits_and_losses_equal_transformers(tmp_path):
    """Router logits per layer, the load-balancing loss with padding left out, and the total training loss."""
    ref = hf_model("mixtral", seed=9)
    ref.save_pretrained(tmp_path)
    ours = load_model(tmp_path).eval()
    assert ours.config.router_aux_loss_coef == ref.config.router_aux_loss_coef
    ids, mask, positions = _left_padded(t=10, seed=10, row=1, n_pad=4)
    labels = ids.masked_fill(mask == 0, -100)
    labels[:, 1:][mask[:, :-1] == 0] = -100           # a token after padding has no real context to predict it
    targets = torch.full_like(labels, -100)
    targets[:, :-1] = labels[:, 1:]                   # llmos takes targets already shifted; transformers shifts
    with torch.no_grad():
        want = ref(ids, attention_mask=mask, position_ids=positions, labels=labels, output_router_logits=True)
        got = ours(ids, attention_mask=mask, targets=targets)
    real = mask.reshape(-1).bool()
    for stats, logits in zip(got.router_stats, want.router_logits, strict=True):
        torch.testing.assert_close(stats.logits[real], logits[real], atol=1e-5, rtol=0)
    torch.testing.assert_close(got.aux_loss, ref.config.router_aux_loss_coef * want.aux_loss, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(got.loss, want.loss, atol=1e-5, rtol=0)


def test_llmos_built_model_round_trips(tmp_path):
    cfg = ModelConfig.for_family("llama", vocab_size=50, d_model=32, n_layers=2, n_heads=4, n_kv_heads=1,
                                 d_ff=64, max_seq_len=64)
    model = CausalLM(cfg).eval()
    save_pretrained(model, tmp_path)
    again = load_model(tmp_path).eval()
    ids = _ids(vocab=50)
    with torch.no_grad():
        assert torch.equal(model(ids).logits, again(ids).logits)


def test_unsupported_architecture_is_named(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "falcon", "architectures": ["FalconForCausalLM"]}))
    with pytest.raises(UnsupportedArchitecture, match="falcon"):
        load_model(tmp_path)


def test_missing_weights_file_is_named(tmp_path):
    hf_model("llama").save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_model(tmp_path)


def test_missing_config_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="config.json"):
        load_model(tmp_path)


def test_missing_tensor_is_named(tmp_path):
    hf_model("qwen2").save_pretrained(tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    del tensors["model.layers.1.self_attn.k_proj.bias"]
    save_file(tensors, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match=r"model\.layers\.1\.self_attn\.k_proj\.bias"):
        load_model(tmp_path)


def test_mismatched_shape_names_tensor_and_both_shapes(tmp_path):
    hf_model("mistral").save_pretrained(tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["model.layers.0.mlp.up_proj.weight"] = torch.zeros(81, 48)
    save_file(tensors, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError) as e:
        load_model(tmp_path)
    msg = str(e.value)
    assert "model.layers.0.mlp.up_proj.weight" in msg and "(81, 48)" in msg and "(80, 48)" in msg


def test_corrupt_weights_file_is_named(tmp_path):
    hf_model("gpt2").save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_model(tmp_path)


def test_unexpected_tensor_is_named_with_its_file(tmp_path):
    hf_model("llama").save_pretrained(tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["model.layers.0.extra.weight"] = torch.zeros(2)
    save_file(tensors, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match=r"unexpected tensor 'model\.layers\.0\.extra\.weight' "
                                              r"in model\.safetensors \(1 in all\)"):
        load_model(tmp_path)


def test_generation_config_eos_ids_are_read_from_the_folder(tmp_path):
    from llmos.hub import generation_eos_ids
    (tmp_path / "config.json").write_text("{}")
    assert generation_eos_ids(tmp_path) == set()                      # no generation_config.json
    (tmp_path / "generation_config.json").write_text('{"eos_token_id": [7, 9]}')
    assert generation_eos_ids(tmp_path) == {7, 9}
    (tmp_path / "generation_config.json").write_text('{"eos_token_id": 3}')
    assert generation_eos_ids(tmp_path) == {3}
    (tmp_path / "generation_config.json").write_text('{"eos_token_id": ')
    with pytest.raises(CheckpointError, match=r"generation_config\.json is not valid JSON"):
        generation_eos_ids(tmp_path)
