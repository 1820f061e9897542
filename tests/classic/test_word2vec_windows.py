import numpy as np

from llmos.classic.word2vec.vocab import noise_distribution
from llmos.classic.word2vec.windows import make_windows, noise_table, sentence_chunks


def _windows(ids, sent, keep, window=3, negative=4, seed=0, table=None):
    table = noise_table(np.full(len(keep), 1 / len(keep))) if table is None else table
    return make_windows(np.asarray(ids), np.asarray(sent), np.asarray(keep, dtype=np.float32), table,
                        window, negative, np.random.default_rng(seed))


def test_windows_respect_window_size_and_sentences():
    # Word id == position, so each context id tells exactly where it came from.
    sent = np.repeat(np.arange(6), 7)                              # 6 sentences of 7 words
    ids = np.arange(len(sent))
    win = _windows(ids, sent, np.ones(len(ids)), window=3)
    assert len(win) == len(ids)                                    # everything kept, all have context
    seen = set()
    for center, ctx, n in zip(win.center.tolist(), win.context.tolist(), win.count.tolist()):
        real = ctx[:n]
        assert all(c == 0 for c in ctx[n:])                        # packed to the front
        assert all(1 <= abs(c - center) <= 3 and sent[c] == sent[center] for c in real)
        # the dynamic window is at least 1: both direct neighbours inside the sentence are always there
        assert {c for c in (center - 1, center + 1) if 0 <= c < len(ids) and sent[c] == sent[center]} <= set(real)
        seen.update(c - center for c in real)
    assert seen == {-3, -2, -1, 1, 2, 3}                           # the full window is reached sometimes
    assert win.count.tolist() == sorted(win.count.tolist(), reverse=True)   # widest windows first
    batch = win.slice(len(win) - 5, len(win))
    assert batch.context.shape[1] == int(win.count[-5:].max())    # trimmed to its widest window


def test_dynamic_window_weights_near_words_more():
    sent = np.zeros(20_000, dtype=np.int64)
    ids = np.arange(len(sent))
    win = _windows(ids, sent, np.ones(len(ids)), window=4)
    offsets = np.concatenate([np.asarray(c[:n]) - m for m, c, n in
                              zip(win.center.numpy(), win.context.numpy(), win.count.numpy())])
    share = np.array([np.mean(np.abs(offsets) == d) for d in (1, 2, 3, 4)])
    # offset d is inside the window when b >= d: probability (W - d + 1) / W -> 4:3:2:1
    assert share == __import__("pytest").approx(np.array([4, 3, 2, 1]) / 10, abs=0.01)


def test_subsampling_keeps_words_at_their_probability():
    ids = np.tile([0, 1], 20_000)
    win = _windows(ids, np.zeros(len(ids), dtype=np.int64), [0.25, 1.0], window=2)
    centers = win.center.numpy()
    kept0, kept1 = np.sum(centers == 0), np.sum(centers == 1)
    assert kept1 == 20_000
    assert abs(kept0 / 20_000 - 0.25) < 0.015


def test_negatives_follow_the_noise_distribution():
    counts = np.array([100, 30, 10, 1])
    p = noise_distribution(counts)
    ids = np.arange(4).repeat(20_000)
    win = _windows(ids, np.zeros(len(ids), dtype=np.int64), np.ones(4), negative=5,
                   table=noise_table(p, size=1_000_000))
    freq = np.bincount(win.negatives.numpy().ravel(), minlength=4) / win.negatives.numel()
    assert np.allclose(freq, p, atol=0.005)


def test_noise_table_shares():
    table = noise_table(np.array([0.5, 0.25, 0.25]), size=1000)
    assert len(table) == 1000 and np.bincount(table).tolist() == [500, 250, 250]


def test_one_word_sentences_give_no_windows():
    win = _windows([0, 1, 2], [0, 1, 2], np.ones(3))
    assert len(win) == 0


def test_sentence_chunks_end_on_sentence_boundaries():
    sent = np.repeat(np.arange(10), 5)                             # 50 words
    spans = list(sentence_chunks(sent, 12))
    assert spans[0][0] == 0 and spans[-1][1] == 50
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert all(lo % 5 == 0 for lo, _ in spans)
    assert list(sentence_chunks(np.zeros(30, dtype=np.int64), 12)) == [(0, 12), (12, 24), (24, 30)]
