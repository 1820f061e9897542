"""The `llmos interp` verbs end to end on a small random model, and their bad-input errors."""
import json

import pytest
import torch

from llmos.hub import load_model, save_pretrained
from llmos.interp import cli
from llmos.nn import CausalLM, ModelConfig
from llmos.text.facts import make_world

WORLD = make_world(0, persons=6, countries=4, companies=4)
SUBJECT = WORLD.facts[0].subject
PROMPT = "{} plays the sport of"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tok = WORLD.tokenizer()
    torch.manual_seed(0)
    model = CausalLM(ModelConfig.for_family("llama", vocab_size=tok.vocab_size, d_model=32, n_layers=3,
                                            n_heads=4, d_ff=64, max_seq_len=64, bos_token_id=tok.eos_id))
    return save_pretrained(model, tmp_path_factory.mktemp("m"), tok)


def test_lens_trace_and_patch_write_their_pictures(folder, tmp_path, capsys):
    cli.lens(folder, PROMPT.format(SUBJECT), answer="golf", out=tmp_path / "lens.png")
    cli.trace(folder, PROMPT.format(SUBJECT), SUBJECT, answer="golf", out=tmp_path / "trace.png", samples=3)
    other = WORLD.facts[1].subject
    cli.patch(folder, PROMPT.format(SUBJECT), PROMPT.format(other), "golf", wrong="tennis",
              out=tmp_path / "patch.png")
    text = capsys.readouterr().out
    assert "final_post" in text and "P('golf')" in text
    assert "mlp: strongest at token" in text and "largest restoration" in text
    for name in ("lens.png", "trace.png", "patch.png"):
        assert (tmp_path / name).stat().st_size > 5000


def test_edit_saves_a_folder_that_transformers_opens(folder, tmp_path):
    transformers = pytest.importorskip("transformers")
    out = tmp_path / "edited"
    cli.edit(folder, PROMPT, SUBJECT, "golf", out, layer=1, cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").glob("rome_cov_l1_*.pt"))          # the covariance was cached
    tok = WORLD.tokenizer()
    ids = torch.tensor([[tok.eos_id] + tok.encode(PROMPT.format(SUBJECT), add_special_tokens=False)])
    hf = transformers.AutoModelForCausalLM.from_pretrained(out).eval()
    with torch.no_grad():      # transformers runs the edited weights exactly as llmos does
        torch.testing.assert_close(hf(ids).logits, load_model(out)(ids).logits, atol=1e-4, rtol=0)
        assert (hf(ids).logits - load_model(folder)(ids).logits).abs().max() > 1e-6
    # only the edited layer's MLP output matrix changed
    before, after = load_model(folder).state_dict(), load_model(out).state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed == ["blocks.1.ffn.down_proj.weight"]


def test_bad_inputs_name_what_to_fix(folder, tmp_path):
    with pytest.raises(SystemExit, match="does not occur in the prompt"):
        cli.trace(folder, PROMPT.format(SUBJECT), "Nobody Atall", out=tmp_path / "t.png")
    with pytest.raises(SystemExit, match=r"layer 7 does not exist: the model has 3 layers"):
        cli.edit(folder, PROMPT, SUBJECT, "golf", tmp_path / "e", layer=7, cache_dir=tmp_path)
    with pytest.raises(SystemExit, match="has no {} where the subject goes"):
        cli.edit(folder, "plays the sport of", SUBJECT, "golf", tmp_path / "e", layer=1, cache_dir=tmp_path)
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "config.json").write_text(json.dumps({"model_type": "bloom", "architectures": ["BloomForCausalLM"]}))
    with pytest.raises(SystemExit, match="'bloom' is not supported"):
        cli.lens(odd, "hello")
