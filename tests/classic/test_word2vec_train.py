import random

import numpy as np
import pytest

from llmos.classic.word2vec import Word2VecConfig, train_word2vec
from llmos.classic.word2vec.train import learning_rate


def _topic_corpus(n_topics=5, per_topic=8, sentences=1500, length=6, seed=0):
    """Sentences drawn from one topic each: words of a topic share their contexts."""
    rng = random.Random(seed)
    topics = [[f"t{t}w{i}" for i in range(per_topic)] for t in range(n_topics)]
    corpus = [rng.choices(topics[rng.randrange(n_topics)], k=length) for _ in range(sentences)]
    return corpus, topics


@pytest.mark.parametrize("mode", ["skipgram", "cbow"])
def test_planted_topics_are_recovered(mode):
    corpus, topics = _topic_corpus()
    cfg = Word2VecConfig(mode=mode, dim=16, window=3, negative=5, min_count=1, sample=0, epochs=5,
                         threads=1, batch_size=64, lr=0.05)
    vectors, stats = train_word2vec(corpus, cfg, progress=False)
    topic_of = {w: t for t, words in enumerate(topics) for w in words}
    within, across = [], []
    for a in topic_of:
        for b in topic_of:
            if a < b:
                (within if topic_of[a] == topic_of[b] else across).append(vectors.similarity(a, b))
    assert np.mean(within) > np.mean(across) + 0.5
    hits = [topic_of[vectors.nearest(w, 1)[0][0]] == topic_of[w] for w in topic_of]
    assert np.mean(hits) == 1.0
    assert stats.corpus_words == 1500 * 6 and stats.vocab_size == 40 and stats.words_per_second > 0


def test_single_thread_training_is_repeatable_and_seeded():
    corpus, _ = _topic_corpus(sentences=300)
    cfg = Word2VecConfig(dim=8, min_count=1, epochs=1, threads=1)
    a, _ = train_word2vec(corpus, cfg, progress=False)
    b, _ = train_word2vec(corpus, cfg, progress=False)
    c, _ = train_word2vec(corpus, Word2VecConfig(dim=8, min_count=1, epochs=1, threads=1, seed=2), progress=False)
    assert np.array_equal(a.vectors, b.vectors)
    assert not np.array_equal(a.vectors, c.vectors)


def test_two_threads_train_too():
    corpus, topics = _topic_corpus()
    cfg = Word2VecConfig(dim=16, window=3, min_count=1, sample=0, epochs=5, threads=2, batch_size=64, lr=0.05)
    vectors, _ = train_word2vec(corpus, cfg, progress=False)
    assert vectors.similarity(topics[0][0], topics[0][1]) > vectors.similarity(topics[0][0], topics[1][0])


def test_learning_rate_decays_linearly():
    assert learning_rate(0.025, 0.0001, 0.0) == 0.025
    assert learning_rate(0.025, 0.0001, 0.5) == pytest.approx((0.025 + 0.0001) / 2)
    assert learning_rate(0.025, 0.0001, 1.0) == pytest.approx(0.0001)
    assert learning_rate(0.025, 0.0001, 1.5) == pytest.approx(0.0001)


def test_too_little_text_is_a_clear_error():
    with pytest.raises(ValueError, match="min_count"):
        train_word2vec([["a", "b"]], Word2VecConfig(min_count=5), progress=False)
