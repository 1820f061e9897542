"""Sliding-window generation: the same tokens as cached generation while it fits, any length after."""
import torch

from llmos.infer.generate import generate
from llmos.infer.sampling import GenerationConfig
from llmos.infer.window import generate_window, stream_window
from llmos.nn import CausalLM, ModelConfig


def model():
    torch.manual_seed(0)
    return CausalLM(ModelConfig.for_family("gpt2", vocab_size=20, d_model=16, n_layers=1, n_heads=2,
                                           d_ff=32, max_seq_len=8)).eval()


def test_within_the_context_it_is_cached_generation():
    m = model()
    cfg = GenerationConfig(max_new_tokens=5, temperature=0.0, stop_token_ids=[])
    assert generate_window(m, [1, 2], cfg) == generate(m, [1, 2], cfg)


def test_past_the_context_each_token_comes_from_the_last_window():
    m = model()
    cfg = GenerationConfig(max_new_tokens=20, temperature=0.0, stop_token_ids=[])
    out = list(stream_window(m, [1, 2, 3], cfg))
    assert len(out) == 20
    ids = [1, 2, 3] + out
    for i in range(3, len(ids)):                       # greedy: argmax over the last 8 tokens
        window = torch.tensor([ids[max(0, i - 8):i]])
        assert int(m(window).logits[0, -1].argmax()) == ids[i]
