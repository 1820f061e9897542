"""Attention-map pictures: the numbers drawn are the model's, in a layers x heads grid."""
import matplotlib.image
import pytest
import torch

from llmos.interp.attention_maps import plot_attention_maps, save_attention_maps, token_labels
from llmos.nn import CausalLM, ModelConfig


class CharTokenizer:
    """The encode/decode a tokenizer offers, one character per token."""

    def encode(self, text):
        return [ord(c) - 32 for c in text]                  # printable ASCII -> 0..94

    def decode(self, ids):
        return "".join(chr(i + 32) for i in ids)


def tiny_lm(family="llama"):
    cfg = ModelConfig.for_family(family, vocab_size=96, d_model=32, n_layers=3, n_heads=4, n_kv_heads=2,
                                 d_ff=64, max_seq_len=64)
    return CausalLM(cfg).eval()


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_plotted_weights_are_the_models_and_the_grid_is_layers_by_heads(tmp_path, family):
    model = tiny_lm(family)
    prompt = "the cat sat on the mat"
    pic = save_attention_maps(model, prompt, CharTokenizer(), tmp_path / "maps.png")
    assert pic.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pic.grid == (3, 4)
    ids = torch.tensor([CharTokenizer().encode(prompt)])
    with torch.no_grad():
        expected = torch.stack([w[0] for w in model(ids, need_weights=True).attentions])
    assert pic.weights.shape == (3, 4, len(prompt), len(prompt))
    torch.testing.assert_close(torch.from_numpy(pic.weights), expected, atol=0, rtol=0)
    assert len(pic.tokens) == len(prompt) and pic.tokens[3] == "\u2423"          # the space, made visible


def test_a_subset_of_layers_and_heads(tmp_path):
    model = tiny_lm()
    ids = list(range(1, 33))                                                   # 32 tokens
    full = save_attention_maps(model, ids, out=tmp_path / "all.png")
    part = save_attention_maps(model, ids, out=tmp_path / "part.png", layers=[2, 0], heads=[1])
    assert part.grid == (2, 1) and (part.layers, part.heads) == ([2, 0], [1])
    assert (part.weights[0, 0] == full.weights[2, 1]).all() and (part.weights[1, 0] == full.weights[0, 1]).all()
    h_all, w_all = matplotlib.image.imread(full.path).shape[:2]
    h_part, w_part = matplotlib.image.imread(part.path).shape[:2]
    assert w_all > 3 * w_part and h_all > h_part                           # 4 columns vs 1, 3 rows vs 2


def test_bad_requests_are_named(tmp_path):
    model = tiny_lm()
    with pytest.raises(ValueError, match=r"layer \[5\].*3 layers"):
        save_attention_maps(model, [1, 2, 3], out=tmp_path / "x.png", layers=[5])
    with pytest.raises(ValueError, match="tokenizer"):
        save_attention_maps(model, "text", out=tmp_path / "x.png")
    with pytest.raises(ValueError, match="one label per token"):
        plot_attention_maps(torch.rand(1, 1, 3, 3), ["a", "b"], tmp_path / "x.png")


def test_token_labels_show_whitespace_and_shorten():
    class Words:
        def decode(self, ids):
            return {0: " the", 1: "\n", 2: "supercalifragilistic"}[ids[0]]

    assert token_labels([0, 1, 2], Words()) == ["\u2423the", "\u21b5", "supercalifr\u2026"]
    assert token_labels([7, 8]) == ["7", "8"]


def test_cli_verb_draws_a_saved_model(tmp_path):
    from llmos.cli.main import main
    from llmos.hub import save_pretrained
    from llmos.text import Tokenizer

    tok = Tokenizer.char("hello world, attention maps")
    cfg = ModelConfig.for_family("gpt2", vocab_size=tok.vocab_size, d_model=32, n_layers=2, n_heads=2,
                                 d_ff=64, max_seq_len=64)
    save_pretrained(CausalLM(cfg), tmp_path / "model", tokenizer=tok)
    out = tmp_path / "maps.png"
    assert main(["attention", str(tmp_path / "model"), "--prompt", "hello world", "--out", str(out),
                 "--heads", "1"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
