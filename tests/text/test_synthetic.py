import datetime

import pytest
import torch

from llmos.text.synthetic import (
    IGNORE_INDEX, VOCAB, CharVocab, batches, collate, date_task, exact_match, make_task, reverse_task,
)


def test_vocab_round_trip_and_specials():
    ids = VOCAB.encode("march 5, 1997", bos=True, eos=True)
    assert ids[0] == VOCAB.bos_id == 1 and ids[-1] == VOCAB.eos_id == 2
    assert VOCAB.decode(ids) == "march 5, 1997"
    assert VOCAB.decode(VOCAB.encode("ab") + [VOCAB.eos_id] + VOCAB.encode("cd")) == "ab"
    with pytest.raises(ValueError, match="'#'"):
        VOCAB.encode("a#b")
    with pytest.raises(ValueError, match="distinct"):
        CharVocab("aa")


def test_dates_are_correct_iso_and_held_out_dates_unseen():
    task = date_task(n_train=3000, n_test=300, seed=1)
    assert len(task.train) == 3000 and len(task.test) == 300
    train_dates = {t for _, t in task.train}
    assert not train_dates & {t for _, t in task.test}
    assert len({s for s, _ in task.train}) == 3000
    for src, tgt in task.train[:200] + task.test:
        d = datetime.date.fromisoformat(tgt)
        assert str(d.year) in src
        assert any(m in src for m in (d.strftime("%B").lower()[:3], f"{d.month:02d}"))
    formats = {len(s.split()) for s, _ in task.train}
    assert len(formats) >= 3  # several input formats, not one


def test_tasks_are_deterministic_per_seed():
    assert date_task(100, 10, seed=3) == date_task(100, 10, seed=3)
    assert date_task(100, 10, seed=3).train != date_task(100, 10, seed=4).train
    assert make_task("reverse", n_train=50, n_test=5, seed=2) == reverse_task(50, 5, seed=2)


def test_reverse_task():
    task = reverse_task(n_train=500, n_test=50, min_len=3, max_len=6, seed=0)
    assert all(t == s[::-1] and 3 <= len(s) <= 6 for s, t in task.train + task.test)
    assert not {s for s, _ in task.train} & {s for s, _ in task.test}
    with pytest.raises(ValueError, match="distinct strings"):
        reverse_task(n_train=100, n_test=10, min_len=1, max_len=1)
    with pytest.raises(ValueError, match="unknown synthetic task"):
        make_task("sorting")


def test_collate_pads_and_shifts_targets():
    b = collate([("abc", "xy"), ("a", "wxyz")])
    assert b.src.shape == (2, 3) and b.tgt_in.shape == b.tgt_out.shape == (2, 5)
    assert b.src_mask.tolist() == [[True] * 3, [True, False, False]]
    assert b.src[1, 1:].tolist() == [VOCAB.pad_id] * 2
    assert b.tgt_in[0].tolist() == [VOCAB.bos_id] + VOCAB.encode("xy") + [VOCAB.pad_id] * 2
    assert b.tgt_out[0].tolist() == VOCAB.encode("xy") + [VOCAB.eos_id] + [IGNORE_INDEX] * 2
    # teacher forcing: the label at step t is the input at step t+1
    assert torch.equal(b.tgt_out[1, :-1], b.tgt_in[1, 1:])


def test_batches_cover_every_pair_once():
    pairs = reverse_task(n_train=103, n_test=1, seed=0).train
    seen = [VOCAB.decode(row) for b in batches(pairs, 10, seed=5) for row in b.src.tolist()]
    assert sorted(seen) == sorted(s for s, _ in pairs)
    assert [len(b.src) for b in batches(pairs, 10, drop_last=True)] == [10] * 10
    first = next(iter(batches(pairs, 10, shuffle=False)))
    assert VOCAB.decode(first.src[0].tolist()) == pairs[0][0]


def test_exact_match():
    assert exact_match(["a", "b", "c", "d"], ["a", "x", "c", "y"]) == 0.5
    with pytest.raises(ValueError):
        exact_match(["a"], ["a", "b"])
