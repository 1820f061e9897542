import types

import pytest
import torch

from llmos.infer.calculator import CalculatorError, calculate, evaluate, pending_call, sample_n
from llmos.infer.sampling import GenerationConfig
from llmos.text import Tokenizer


def test_plain_arithmetic_is_evaluated_by_walking_the_syntax_tree():
    assert evaluate("23-20") == 3 and evaluate("(2+3)*4") == 20 and evaluate("-2**3") == -8
    assert calculate("7/2") == "3.5" and calculate("6/3") == "2" and calculate("0.1+0.2") == "0.3"


@pytest.mark.parametrize("expr, reason", [
    ("__import__('os').system('ls')", "function calls"), ("x+1", "names"), ("'a'*3", "str constants"),
    ("(1).real", "attributes"), ("1/0", "division by zero"), ("9**9**9", "exponent"), ("2+", "not an arithmetic"),
])
def test_anything_else_is_refused_with_the_reason(expr, reason):
    with pytest.raises(CalculatorError, match=reason):
        evaluate(expr)
    assert calculate(expr).startswith("refused: ")


def test_pending_call_finds_an_open_call_at_the_end():
    assert pending_call("so <<23-20=") == "23-20"
    assert pending_call("so <<23-20=3>> then") is None and pending_call("a=") is None


class ScriptModel(torch.nn.Module):
    """Writes `script` one token per position, whatever it is fed: forced tokens show up as a change."""

    def __init__(self, tok, script: str, prompt_len: int):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.ids = tok.encode(script)
        self.prompt_len = prompt_len
        self.config = types.SimpleNamespace(max_seq_len=64, eos_token_id=tok.eos_id, vocab_size=tok.vocab_size)

    def new_cache(self, n, max_len):
        return {"len": 0}

    def forward(self, ids, cache=None, last_only=False, **kw):
        cache["len"] += ids.shape[1]
        k = cache["len"] - self.prompt_len
        logits = torch.full((ids.shape[0], 1, self.config.vocab_size), -1e9)
        logits[:, :, self.ids[k] if k < len(self.ids) else self.config.eos_token_id] = 0.0
        return types.SimpleNamespace(logits=logits)


def test_the_calculators_result_is_forced_into_the_text_while_decoding():
    tok = Tokenizer.char("0123456789<>=+-*/ abcdefghijklmnopqrstuvwxyz.:()'")
    prompt = tok.encode("q:")
    model = ScriptModel(tok, "<<2+3=999 ok <<1+1=77 end", len(prompt))   # the model's own (wrong) digits
    (with_calc,) = sample_n(model, tok, prompt, GenerationConfig(max_new_tokens=40, temperature=0), calculator=True)
    assert with_calc.text == "<<2+3=5>> ok <<1+1=2>>end"                 # forced tokens replace the model's
    assert with_calc.calls == [("2+3", "5"), ("1+1", "2")]
    assert with_calc.sampled_tokens == len(with_calc.token_ids) - 6      # forced tokens have no logprob
    (plain,) = sample_n(model, tok, prompt, GenerationConfig(max_new_tokens=40, temperature=0))
    assert plain.text == "<<2+3=999 ok <<1+1=77 end" and plain.calls == []


def test_n_rows_decode_together_with_stop_strings_and_seeds():
    torch.manual_seed(0)
    from llmos.nn import CausalLM, ModelConfig
    tok = Tokenizer.char("abc\n")
    model = CausalLM(ModelConfig.for_family("gpt2", vocab_size=tok.vocab_size, d_model=16, n_layers=1, n_heads=2,
                                            d_ff=32, max_seq_len=32, eos_token_id=tok.eos_id))
    cfg = GenerationConfig(max_new_tokens=12, temperature=1.0, seed=3, stop=["\n"])
    a = sample_n(model, tok, tok.encode("ab"), cfg, n=4)
    b = sample_n(model, tok, tok.encode("ab"), cfg, n=4)
    assert [r.text for r in a] == [r.text for r in b]                     # same seed, same samples
    assert all("\n" not in r.text for r in a) and len(a) == 4
    assert all(lp <= 0 for r in a for lp in r.logprobs)


def test_rows_of_different_lengths_decode_as_each_would_alone():
    torch.manual_seed(0)
    from llmos.infer.calculator import sample_rows
    from llmos.nn import CausalLM, ModelConfig
    tok = Tokenizer.char("abcdef\n")
    model = CausalLM(ModelConfig.for_family("llama", vocab_size=tok.vocab_size, d_model=16, n_layers=2, n_heads=2,
                                            d_ff=32, max_seq_len=32, eos_token_id=tok.eos_id))
    cfg = GenerationConfig(max_new_tokens=8, temperature=0)
    prompts = [tok.encode("abcdef"), tok.encode("fa"), tok.encode("ccc")]
    together = sample_rows(model, tok, prompts, cfg)
    alone = [sample_rows(model, tok, [p], cfg)[0] for p in prompts]
    assert [r.token_ids for r in together] == [r.token_ids for r in alone]


def test_a_call_that_is_not_arithmetic_is_refused_in_the_text():
    tok = Tokenizer.char("0123456789<>=+-*/ abcdefghijklmnopqrstuvwxyz.:()',")
    prompt = tok.encode("q:")
    model = ScriptModel(tok, "<<x+1=", len(prompt))
    (row,) = sample_n(model, tok, prompt, GenerationConfig(max_new_tokens=120, temperature=0), calculator=True)
    assert row.text.startswith("<<x+1=refused: names are not plain arithmetic")
    assert row.calls[0][0] == "x+1" and row.calls[0][1].startswith("refused: names")
