"""Grammar constraints: masks, states, errors, and constrained generation with a random-weight model."""
import json
import string

import jsonschema
import pytest
import torch

from llmos.infer import GenerationConfig, complete
from llmos.infer.grammar import (Grammar, GrammarError, compile_grammar, constrain_logits, pack_mask,
                                 unpack_bitmask)
from llmos.nn import CausalLM, ModelConfig
from llmos.text import Tokenizer

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["n", "kind"],
          "properties": {"n": {"type": "integer", "minimum": 0, "maximum": 10},
                         "kind": {"enum": ["cat", "dog"]},
                         "tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "maxLength": 3}}}}


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.char(string.printable)


def tiny(vocab: int, eos: int, extra: int = 0) -> CausalLM:
    torch.manual_seed(0)
    return CausalLM(ModelConfig.for_family("llama", vocab_size=vocab + extra, d_model=32, n_layers=1, n_heads=4,
                                           d_ff=64, max_seq_len=160, eos_token_id=eos)).eval()


def test_mask_follows_the_schema_token_by_token(tok):
    state = compile_grammar(Grammar.json_schema(SCHEMA), tok).start()
    allowed = state.allowed()
    assert allowed.shape == (tok.vocab_size,)
    assert allowed.nonzero().flatten().tolist() == tok.encode("{")   # no whitespace, no other start
    text = '{"n": 10, "kind": "dog"}'
    for i, t in enumerate(tok.encode(text)):
        assert state.allowed()[t], f"{text[:i + 1]!r} was refused"
        assert state.advance(t)
    assert state.is_accepting and not state.is_dead
    assert state.allowed().nonzero().flatten().tolist() == [tok.eos_id]   # only the end may follow


def test_a_forbidden_token_kills_the_state_and_fork_is_independent(tok):
    state = compile_grammar(Grammar.json_schema(SCHEMA), tok).start()
    for t in tok.encode('{"n": '):
        state.advance(t)
    copy = state.fork()
    assert not state.allowed()[tok.encode("x")[0]] and state.allowed()[tok.encode("7")[0]]
    assert not state.advance(tok.encode("x")[0])
    assert state.is_dead and not copy.is_dead
    assert copy.advance(tok.encode("7")[0])


def test_bitmask_packing_round_trips():
    mask = torch.rand(77) > 0.5
    mask[31] = mask[63] = True   # the sign bit of a word
    assert torch.equal(unpack_bitmask(pack_mask(mask)[None], 77)[0], mask)


def test_batched_masks_equal_one_at_a_time_and_leave_free_rows(tok):
    g = compile_grammar(Grammar.json_schema(SCHEMA), tok)
    a, b = g.start(), g.start()
    for t in tok.encode('{"kind": "c'):
        b.advance(t)
    logits = torch.randn(3, tok.vocab_size)
    out, dead = constrain_logits(logits, [a, None, b])
    assert dead == [False, False, False]
    assert torch.equal(out[1], logits[1])
    for row, s in ((0, a), (2, b)):
        assert torch.equal(torch.isfinite(out[row]), s.allowed())
        assert torch.equal(out[row][s.allowed()], logits[row][s.allowed()])


@pytest.mark.parametrize("make", ["char", "bpe"])
def test_constrained_generation_from_random_weights_is_valid_json(make, tok):
    if make == "bpe":   # byte-level BPE goes through llguidance's own tokenizer.json reader
        tok = Tokenizer.train_bpe(['{"n": 1, "kind": "cat", "tags": ["a", "bc"]} ' * 20, string.printable],
                                  vocab_size=300)
    model = tiny(tok.vocab_size, tok.eos_id, extra=5)   # a padded embedding: ids past the tokenizer's
    grammar = compile_grammar(Grammar.json_schema(SCHEMA), tok, model.config.vocab_size)
    prompt = tok.encode("Answer:")
    for seed in range(4):
        c = complete(model, prompt, GenerationConfig(max_new_tokens=60, seed=seed), tok, grammar=grammar)
        assert c.finish_reason == "stop", c
        jsonschema.validate(json.loads(c.text), SCHEMA)


def test_unconstrained_random_weights_do_not_make_json(tok):
    """The check above is not vacuous: without the grammar the same model writes noise."""
    model = tiny(tok.vocab_size, tok.eos_id)
    c = complete(model, tok.encode("Answer:"), GenerationConfig(max_new_tokens=30, seed=0), tok)
    with pytest.raises(json.JSONDecodeError):
        json.loads(c.text)


def test_json_object_mode_and_grammar_needs_a_tokenizer():
    tok = Tokenizer.char('{}[]":, ab1')     # a small alphabet, so a random model's strings soon close
    model = tiny(tok.vocab_size, tok.eos_id)
    finished = 0
    for seed in range(4):   # any object: a random model's strings may outrun the budget
        c = complete(model, tok.encode("a"), GenerationConfig(max_new_tokens=40, seed=seed), tok,
                     grammar=Grammar.json_object())
        assert c.text.startswith("{")
        if c.finish_reason == "stop":
            finished += 1
            assert isinstance(json.loads(c.text), dict)
    assert finished
    with pytest.raises(ValueError, match="tokenizer"):
        complete(model, tok.encode("a"), GenerationConfig(max_new_tokens=5), grammar=Grammar.json_object())


def test_a_grammar_the_vocabulary_cannot_finish_ends_with_no_valid_token():
    tok = Tokenizer.char('{}"xy')            # no "z": the only allowed value "xyz" cannot be written
    model = tiny(tok.vocab_size, tok.eos_id)
    c = complete(model, tok.encode("x"), GenerationConfig(max_new_tokens=20, seed=0), tok,
                 grammar=Grammar.json_schema({"enum": ["xyz"]}))
    assert (c.text, c.finish_reason) == ('"xy', "no_valid_token")


def test_an_invalid_schema_names_the_failing_part():
    with pytest.raises(GrammarError) as e:
        Grammar.json_schema({"type": "object", "properties": {"age": {"type": "integr"}}})
    assert e.value.kind == "invalid" and e.value.where == "properties.age.type"
    assert "properties.age.type" in str(e.value) and "integr" in str(e.value)
    with pytest.raises(GrammarError, match="not valid JSON"):
        Grammar.json_schema("{oops")


def test_an_unsupported_feature_is_named():
    with pytest.raises(GrammarError) as e:
        Grammar.json_schema({"type": "object", "not": {"required": ["a"]}})
    assert e.value.kind == "unsupported" and '"not"' in str(e.value)


def test_regex_and_lark_grammars(tok):
    model = tiny(tok.vocab_size, tok.eos_id)
    c = complete(model, tok.encode("x"), GenerationConfig(max_new_tokens=20, seed=2), tok,
                 grammar=Grammar.regex(r"(yes|no)!"))
    assert c.text in ("yes!", "no!") and c.finish_reason == "stop"
    c = complete(model, tok.encode("x"), GenerationConfig(max_new_tokens=20, seed=2), tok,
                 grammar=Grammar.lark('start: "a" ("b" | "c") "d"'))
    assert c.text in ("abd", "acd")
