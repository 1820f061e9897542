"""Batches depend only on (seed, step), and split the same way over processes and micro-steps."""
import numpy as np
import pytest
import torch

from llmos.text.shards import ShardError, TokenShards, pack
from llmos.text.tokenizer import Tokenizer
from llmos.train.batches import BatchSampler


def random_text() -> str:
    rng = np.random.default_rng(0)
    return "".join(chr(97 + int(i)) for i in rng.integers(0, 26, size=5000))


@pytest.fixture
def shards(tmp_path):
    text = random_text()
    pack([text], Tokenizer.char(text), tmp_path)
    return TokenShards(tmp_path, "train")


def test_targets_are_inputs_shifted_by_one(shards):
    sampler = BatchSampler(shards, 8, 4, seed=0)
    x, y = sampler.batch(3)
    assert x.shape == y.shape == (4, 8) and x.dtype == torch.int64
    assert torch.equal(x[:, 1:], y[:, :-1])
    # each row is the corpus's own tokens at its drawn start: 9 consecutive characters of the text
    text = random_text()
    ids = torch.tensor(Tokenizer.char(text).encode(text))
    for row, start in enumerate(sampler.starts(3)[:4]):
        assert torch.equal(x[row], ids[start:start + 8]) and torch.equal(y[row], ids[start + 1:start + 9])


def test_batch_is_a_function_of_seed_and_step(shards):
    a, b = BatchSampler(shards, 8, 4, seed=0), BatchSampler(shards, 8, 4, seed=0)
    assert torch.equal(a.batch(5)[0], b.batch(5)[0])
    assert not torch.equal(a.batch(5)[0], a.batch(6)[0])
    assert not torch.equal(a.batch(5)[0], BatchSampler(shards, 8, 4, seed=1).batch(5)[0])
    assert torch.equal(a.eval_batch(0)[0], b.eval_batch(0)[0])


def test_two_processes_see_the_rows_one_process_sees_with_accumulation(shards):
    one = BatchSampler(shards, 8, 3, seed=0, grad_accum=2)
    two = [BatchSampler(shards, 8, 3, seed=0, grad_accum=1, world=2, rank=r) for r in range(2)]
    assert one.global_batch == two[0].global_batch == 6
    rows_one = torch.cat([one.batch(7, m)[0] for m in range(2)])
    rows_two = torch.cat([s.batch(7)[0] for s in two])
    assert torch.equal(rows_one, rows_two)
    assert len({tuple(r.tolist()) for r in rows_two}) == 6


def test_windows_cover_the_whole_split(shards):
    starts = np.concatenate([BatchSampler(shards, 8, 64, seed=0).starts(s) for s in range(50)])
    assert starts.min() == 0 and starts.max() == shards.n_windows(9) - 1


def test_too_small_split_is_refused(tmp_path):
    pack(["abcdef" * 5], Tokenizer.char("abcdef"), tmp_path)
    with pytest.raises(ShardError, match="fewer than one sequence"):
        BatchSampler(TokenShards(tmp_path, "val"), 8, 2, seed=0)
