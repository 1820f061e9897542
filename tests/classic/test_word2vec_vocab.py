import math

import numpy as np
import pytest

from llmos.classic.word2vec.vocab import Vocab, keep_probability, noise_distribution, read_sentences, tokenize


def test_tokenize_lowercases_and_keeps_inner_apostrophes():
    assert tokenize("We know't, WE know't! Hello_world 1997.") == ["we", "know't", "we", "know't", "hello",
                                                                   "world", "1997"]


def test_keep_probability_matches_the_formula_by_hand():
    counts = np.array([1000, 10, 1])
    t = 1e-3
    f0 = 1000 / 1011
    expected0 = math.sqrt(t / f0) + t / f0          # = 0.0328073...
    p = keep_probability(counts, t)
    assert p[0] == pytest.approx(expected0, rel=1e-12)
    assert p[0] == pytest.approx(0.03280719, abs=1e-7)
    assert p[1] == pytest.approx(math.sqrt(0.1011) + 0.1011)   # f = 10/1011: t/f = 0.1011
    assert p[2] == 1.0                               # rare words are capped at 1
    # at f = 4t: sqrt(1/4) + 1/4
    assert keep_probability(np.array([4, 996]), 0.001)[0] == pytest.approx(0.75)
    assert np.all(keep_probability(counts, 0) == 1.0)


def test_noise_distribution_is_unigram_to_the_three_quarters():
    p = noise_distribution(np.array([16, 1]))
    assert p == pytest.approx([8 / 9, 1 / 9])        # 16^0.75 = 8


def test_vocab_min_count_order_and_encoding(tmp_path):
    sentences = [["b", "a", "b", "c"], ["a", "b", "rare"], ["c", "a", "b"]]
    vocab = Vocab.build(sentences, min_count=2)
    assert vocab.words == ["b", "a", "c"] and vocab.counts.tolist() == [4, 3, 2]
    assert "rare" not in vocab and len(vocab) == 3
    ids, sent = vocab.encode(sentences)
    assert ids.tolist() == [0, 1, 0, 2, 1, 0, 2, 1, 0]
    assert sent.tolist() == [0, 0, 0, 0, 1, 1, 2, 2, 2]
    assert Vocab.build(sentences, min_count=1, max_size=2).words == ["b", "a"]
    with pytest.raises(ValueError, match="min_count=10"):
        Vocab.build(sentences, min_count=10)


def test_read_sentences(tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("First line, here.\n\n  \nSecond!\n", encoding="utf-8")
    assert read_sentences(f) == [["first", "line", "here"], ["second"]]
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_sentences(tmp_path / "nope.txt")
