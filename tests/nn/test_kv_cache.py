"""The static per-slot KV cache: ragged lengths, padding, reset, reorder and overflow."""
import pytest
import torch

from llmos.nn.kv_cache import CacheFullError, KVCache

L, HKV, D = 2, 2, 4


def kv(b, t, fill=None):
    """Keys/values (B, Hkv, T, D); with fill, every entry of row i is fill[i] (easy to trace)."""
    if fill is None:
        return torch.randn(b, HKV, t, D), torch.randn(b, HKV, t, D)
    x = torch.tensor(fill, dtype=torch.float32)[:, None, None, None].expand(b, HKV, t, D).clone()
    return x, -x


def write(cache, t, slots=None, mask=None, fill=None):
    b = len(slots) if slots is not None else (mask.shape[0] if mask is not None else cache.n_slots)
    step = cache.step(t, None if slots is None else torch.tensor(slots), mask)
    k, v = kv(b, t, fill)
    outs = [step.update(layer, k, v) for layer in range(L)]
    step.commit()
    return step, outs


def test_ragged_lengths_across_slots():
    cache = KVCache(L, 3, HKV, 10, D)
    write(cache, 3, slots=[0], fill=[1.0])
    write(cache, 5, slots=[2], fill=[3.0])
    write(cache, 1, slots=[1], fill=[2.0])
    assert cache.lengths.tolist() == [3, 1, 5]
    # one joint step: each row writes at its own length
    step, outs = write(cache, 2, fill=[10.0, 20.0, 30.0])
    assert cache.lengths.tolist() == [5, 3, 7]
    assert step.write.tolist() == [[3, 4], [1, 2], [5, 6]]
    assert step.positions.tolist() == [[3, 4], [1, 2], [5, 6]]
    k_all, v_all = outs[1]
    assert k_all.shape == (3, HKV, 7, D)                           # read up to the longest row
    assert k_all[0, 0, :, 0].tolist()[:5] == [1, 1, 1, 10, 10]
    assert k_all[1, 0, :, 0].tolist()[:3] == [2, 20, 20]
    assert k_all[2, 0, :, 0].tolist() == [3, 3, 3, 3, 3, 30, 30]
    torch.testing.assert_close(v_all, -k_all)
    assert step.key_valid().tolist() == [[True] * 5 + [False] * 2, [True] * 3 + [False] * 4, [True] * 7]


def test_left_padding_is_stored_but_not_counted_as_a_position():
    cache = KVCache(L, 2, HKV, 8, D)
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    step, _ = write(cache, 4, mask=mask)
    assert step.positions.tolist() == [[0, 0, 0, 1], [0, 1, 2, 3]]
    assert step.key_valid().tolist() == mask.bool().tolist()
    step, _ = write(cache, 1)
    assert step.positions.tolist() == [[2], [4]]                   # continues from the real tokens
    assert step.key_positions()[0].tolist() == [0, 0, 0, 1, 2]


def test_non_contiguous_slots_read_their_own_rows():
    cache = KVCache(L, 4, HKV, 6, D)
    _, outs = write(cache, 2, slots=[3, 1], fill=[7.0, 5.0])
    k_all, _ = outs[0]
    assert k_all[:, 0, :, 0].tolist() == [[7, 7], [5, 5]]
    assert cache.lengths.tolist() == [0, 2, 0, 2]


def test_reset_empties_only_the_given_slots():
    cache = KVCache(L, 3, HKV, 6, D)
    write(cache, 4, fill=[1.0, 2.0, 3.0])
    cache.reset([1])
    assert cache.lengths.tolist() == [4, 0, 4]
    assert not cache.valid[1].any() and cache.valid[0, :4].all()
    step, outs = write(cache, 2, slots=[1], fill=[9.0])
    assert step.positions.tolist() == [[0, 1]]                     # a fresh sequence starts at 0
    assert outs[0][0][0, 0, :, 0].tolist() == [9, 9]
    cache.reset()
    assert cache.lengths.tolist() == [0, 0, 0] and not cache.valid.any()


def test_reorder_copies_rows_for_beam_search():
    cache = KVCache(L, 2, HKV, 6, D)
    write(cache, 2, fill=[1.0, 2.0])
    cache.reorder([1, 1, 0])
    assert cache.n_slots == 3 and cache.lengths.tolist() == [2, 2, 2]
    _, outs = write(cache, 1, fill=[5.0, 6.0, 7.0])
    assert outs[0][0][:, 0, :, 0].tolist() == [[2, 2, 5], [2, 2, 6], [1, 1, 7]]


def test_cache_full_error_says_what_to_do():
    cache = KVCache(L, 2, HKV, 5, D)
    write(cache, 4, slots=[0])
    with pytest.raises(CacheFullError, match=r"holds 5 tokens.*2 more would need 6.*max_len"):
        cache.step(2)
    assert cache.lengths.tolist() == [4, 0]                        # a refused step changes nothing
    write(cache, 1)                                                # exactly full is fine
    assert cache.lengths.tolist() == [5, 1]


def test_one_sequence_without_padding_plans_with_slices_what_the_general_path_plans():
    """`step` on a one-slot cache takes a slice-based plan; it must write what the index plan writes,
    also after an earlier write with padding (positions count real tokens only)."""
    fast, general = KVCache(2, 1, 2, 16, 4), KVCache(2, 1, 2, 16, 4)
    for c in (fast, general):
        c.step(3, attention_mask=torch.tensor([[0, 1, 1]])).commit()      # left padding first
    for n in (2, 1, 4):
        a = fast.step(n)
        b = general.step(n, slots=torch.tensor([0]))                      # slots given: the index plan
        assert a.span is not None and b.span is None
        k, v = torch.randn(1, 2, n, 4), torch.randn(1, 2, n, 4)
        for step, cache in ((a, fast), (b, general)):
            got_k, got_v = step.update(1, k, v)
            assert got_k.shape == (1, 2, step.end, 4)
            step.commit()
        assert torch.equal(a.positions, b.positions) and torch.equal(a.key_valid(), b.key_valid())
        for name in ("k", "v", "valid", "pos", "lengths"):
            assert torch.equal(getattr(fast, name), getattr(general, name)), name
