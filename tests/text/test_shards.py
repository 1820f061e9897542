"""Token shards: deterministic packing, the train/val split, windows across shard files."""
import numpy as np
import pytest

from llmos.text.shards import ShardError, TokenShards, pack, read_meta
from llmos.text.tokenizer import Tokenizer


def test_single_document_splits_like_nanogpt(tmp_path):
    text = "abcdefghij" * 10
    tok = Tokenizer.char(text)
    meta = pack([text], tok, tmp_path, val_fraction=0.1, shard_tokens=7)
    assert meta.n_tokens == 100 and meta.split == 90 and meta.dtype == "uint16"
    assert len(meta.shards) == 15 and sum(meta.shards) == 100           # 7-token shards, last one short
    train, val = TokenShards(tmp_path, "train"), TokenShards(tmp_path, "val")
    assert len(train) == 90 and len(val) == 10
    ids = np.array(tok.encode(text))
    assert (train.window(0, 90) == ids[:90]).all() and (val.window(0, 10) == ids[90:]).all()
    assert (train.window(5, 20) == ids[5:25]).all()                     # spans four shard files
    assert meta.unigram_entropy == pytest.approx(np.log(10))          # ten equally frequent chars
    with pytest.raises(IndexError):
        val.window(5, 6)


def test_documents_are_shuffled_with_a_seed_and_separated_by_eos(tmp_path):
    docs = [f"doc{i} " * 3 for i in range(10)]
    tok = Tokenizer.char("".join(docs))
    a = pack(docs, tok, tmp_path / "a", seed=1)
    b = pack(docs, tok, tmp_path / "b", seed=1)
    c = pack(docs, tok, tmp_path / "c", seed=2)
    read = lambda f: (f / "tokens_000.bin").read_bytes()  # noqa: E731
    assert read(tmp_path / "a") == read(tmp_path / "b") != read(tmp_path / "c")
    stream = TokenShards(tmp_path / "a").window(0, a.split).tolist() + TokenShards(tmp_path / "a", "val").window(
        0, a.n_tokens - a.split).tolist()
    assert stream.count(tok.eos_id) == 9
    assert sorted(tok.decode(stream).split("<|endoftext|>")) == sorted(docs)
    assert stream != tok.encode("<|endoftext|>".join(docs))            # order was shuffled


def test_truncated_or_missing_data_is_named(tmp_path):
    tok = Tokenizer.char("hello world")
    pack(["hello world " * 50], tok, tmp_path)
    with open(tmp_path / "tokens_000.bin", "r+b") as f:
        f.truncate(10)
    with pytest.raises(ShardError, match="truncated"):
        TokenShards(tmp_path)
    with pytest.raises(ShardError, match="meta.json missing"):
        read_meta(tmp_path / "nowhere")
    (tmp_path / "meta.json").write_text("{")
    with pytest.raises(ShardError, match="corrupt"):
        read_meta(tmp_path)


def test_check_fits_names_the_split_that_is_too_small(tmp_path):
    tok = Tokenizer.char("abc")
    pack(["abc" * 10], tok, tmp_path)
    with pytest.raises(ShardError, match="val split has 3 tokens"):
        TokenShards(tmp_path, "val").check_fits(64)
