import pytest

from llmos.train.align.data import (DataError, PreferencePair, SFTExample, encode_prompt, load_pairs, load_prompts,
                                    load_sft, pair_batch, save_jsonl, sft_batch)

from tests.train.align.tiny import tiny_tokenizer


def write(tmp_path, text):
    path = tmp_path / "data.jsonl"
    path.write_text(text)
    return path


def test_records_round_trip(tmp_path):
    path = tmp_path / "pairs.jsonl"
    pairs = [PreferencePair("p", "good", "bad"), PreferencePair("q", "yes", "no")]
    save_jsonl(pairs, path)
    assert load_pairs(path) == pairs
    assert load_prompts(path) == ["p", "q"]
    path.write_text('{"prompt": "a", "completion": "b"}\n\n{"prompt": "c", "response": "d"}\n')
    assert load_sft(path) == [SFTExample("a", "b"), SFTExample("c", "d")]


@pytest.mark.parametrize("text,message", [
    ('{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "a", "chosen": "b"\n', r"data.jsonl:2: not valid JSON"),
    ('{"prompt": "a", "chosen": "b", "rejected": "c"}\n\n{"prompt": "a", "chosen": "b"}\n', r"data.jsonl:3: missing key 'rejected'"),
    ('["a", "b"]\n', r"data.jsonl:1: expected a JSON object"),
    ('{"prompt": 3, "chosen": "b", "rejected": "c"}\n', r"data.jsonl:1: 'prompt' must be a string, got int"),
    ('\n\n', r"holds no records"),
])
def test_bad_lines_are_named_by_file_and_line(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        load_pairs(write(tmp_path, text))


def test_missing_file_says_what_to_give(tmp_path):
    with pytest.raises(DataError, match="does not exist; give a JSONL file"):
        load_sft(tmp_path / "nope.jsonl")


def test_batches_mask_the_response_only():
    tok = tiny_tokenizer()
    batch = sft_batch(tok, [SFTExample("ab", "cd"), SFTExample("h", "xyz ")], max_len=32)
    eos = tok.eos_id
    assert batch.input_ids[0].tolist()[:6] == [eos] + tok.encode("abcd") + [eos]
    assert batch.response_mask[0].tolist()[:7] == [0, 0, 0, 1, 1, 1, 0]       # c d eos, then padding
    assert batch.response_mask[1].tolist() == [0, 0, 1, 1, 1, 1, 1]           # x y z ' ' eos
    assert batch.attention_mask[0].tolist() == [1, 1, 1, 1, 1, 1, 0]


def test_pair_batch_puts_chosen_then_rejected_and_truncates():
    tok = tiny_tokenizer()
    batch = pair_batch(tok, [PreferencePair("abc", "dddddddd", "e")], max_len=8, max_prompt_len=3)
    assert batch.input_ids.shape == (2, 8)
    assert tok.decode(batch.input_ids[0, 1:3].tolist()) == "bc"               # prompt keeps its end
    assert batch.response_mask.sum(-1).tolist() == [5, 2]
    with pytest.raises(DataError, match="leaves no room for a response"):
        sft_batch(tok, [SFTExample("abcdefgh", "x")], max_len=8)


def test_prompt_gets_one_start_token():
    tok = tiny_tokenizer()
    ids = encode_prompt(tok, "ab")
    assert ids[0] == tok.eos_id and ids[1:] == tok.encode("ab")
    assert encode_prompt(tok, "abcdef", max_prompt_len=3) == [tok.eos_id] + tok.encode("ef")
