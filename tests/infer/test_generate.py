import pytest
import torch

from llmos.hub import load_model
from llmos.infer import GenerationConfig, complete, generate
from llmos.nn import CausalLM, ModelConfig

from tests.hub.hf_models import FAMILIES, hf_model


class CharTok:
    """A throwaway tokenizer: token i is chr(97 + i % 26)."""

    def decode(self, ids):
        return "".join(chr(97 + i % 26) for i in ids)


@pytest.mark.parametrize("family", FAMILIES)
def test_greedy_equals_transformers_generate(family, tmp_path):
    ref = hf_model(family, seed=11)
    ref.save_pretrained(tmp_path)
    ours = load_model(tmp_path)
    prompt = [5, 17, 33, 8, 40]
    with torch.no_grad():
        want = ref.generate(torch.tensor([prompt]), max_new_tokens=12, do_sample=False,
                            eos_token_id=None, pad_token_id=0)[0, len(prompt):].tolist()
    got = generate(ours, prompt, GenerationConfig(max_new_tokens=12, temperature=0, stop_token_ids=[]))
    assert got == want


def tiny():
    torch.manual_seed(0)
    return CausalLM(ModelConfig.for_family("llama", vocab_size=26, d_model=32, n_layers=1, n_heads=4,
                                           d_ff=32, max_seq_len=40, eos_token_id=3)).eval()


def test_same_seed_same_text_and_different_seed_differs():
    model = tiny()
    cfg = lambda s: GenerationConfig(max_new_tokens=20, temperature=1.5, seed=s, stop_token_ids=[])
    a, b, c = (generate(model, [1, 2], cfg(s)) for s in (5, 5, 6))
    assert a == b and a != c


def test_budget_is_clipped_to_the_context():
    model = tiny()
    out = complete(model, [i % 26 for i in range(30)], GenerationConfig(max_new_tokens=100, temperature=0, stop_token_ids=[]))
    assert len(out.tokens) == 10 and out.finish_reason == "length"


def test_prompt_longer_than_context_is_a_clear_error():
    with pytest.raises(ValueError, match="context is 40"):
        generate(tiny(), [i % 26 for i in range(45)], GenerationConfig())


def test_stop_token_ends_generation():
    model = tiny()
    free = generate(model, [1, 2], GenerationConfig(max_new_tokens=15, temperature=0, stop_token_ids=[]))
    stop_at = free[4]
    out = complete(model, [1, 2], GenerationConfig(max_new_tokens=15, temperature=0, stop_token_ids=[stop_at]))
    assert out.finish_reason == "stop" and out.tokens == free[:free.index(stop_at)]


def test_stop_string_cuts_text_and_tokens():
    model, tok = tiny(), CharTok()
    free = generate(model, [1, 2], GenerationConfig(max_new_tokens=15, temperature=0, stop_token_ids=[]))
    text = tok.decode(free)
    stop = text[6:8]
    out = complete(model, [1, 2], GenerationConfig(max_new_tokens=15, temperature=0, stop=[stop],
                                                   stop_token_ids=[]), tok)
    assert out.finish_reason == "stop"
    assert out.text == text[:text.find(stop)] and tok.decode(out.tokens) == out.text


def test_stop_strings_without_tokenizer_are_refused():
    with pytest.raises(ValueError, match="tokenizer"):
        complete(tiny(), [1], GenerationConfig(stop=["x"]))


def test_token_outside_vocabulary_is_a_clear_error():
    with pytest.raises(ValueError, match="vocabulary of 26"):
        generate(tiny(), [1, 99], GenerationConfig())
