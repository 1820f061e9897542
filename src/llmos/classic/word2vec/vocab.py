"""The word2vec vocabulary: words, counts, subsampling and the noise distribution.

Three numbers per word drive training (Mikolov et al., 2013, "Distributed
Representations of Words and Phrases and their Compositionality"):

- its count, kept only if at least `min_count` (rare words get poor vectors
  and slow everything down);
- its keep probability under frequent-word subsampling. With f = count / total
  and threshold t, the paper discards a word with probability 1 - sqrt(t / f);
  the reference C code (and gensim) keeps it with probability
      p_keep = sqrt(t / f) + t / f            (capped at 1)
  which is the same idea made a little gentler. llmos uses the code's form, so
  a comparison with gensim trains on the same words;
- its probability as a negative sample, proportional to count ** 0.75, which
  flattens the unigram distribution so rare words are drawn more than their
  share.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-cased words (letters and digits, inner apostrophes kept: "know't")."""
    return _WORD.findall(text.lower())


def read_sentences(path: str | Path) -> list[list[str]]:
    """One sentence per non-empty line of a UTF-8 text file, tokenized.

    Context windows never cross a sentence, as in gensim's `LineSentence`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"corpus {path} does not exist; pass a UTF-8 text file")
    with path.open(encoding="utf-8", errors="replace") as f:
        return [words for line in f if (words := tokenize(line))]


def keep_probability(counts: np.ndarray, sample: float) -> np.ndarray:
    """p_keep = sqrt(t/f) + t/f, capped at 1, where f = count / total (word2vec.c).

    `sample` is t; 0 turns subsampling off (every word kept).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    ratio = sample / (counts / counts.sum())  # t / f
    return np.minimum(np.sqrt(ratio) + ratio, 1.0)


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """P_n(w) = count(w)^0.75 / sum_v count(v)^0.75, the negative-sampling distribution."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


class Vocab:
    """Words kept for training (count >= min_count), most frequent first."""

    def __init__(self, words: Sequence[str], counts: Sequence[int]):
        if len(words) != len(counts):
            raise ValueError(f"Vocab: {len(words)} words but {len(counts)} counts")
        self.words = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("Vocab: words must be distinct")

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_count: int = 5,
              max_size: int | None = None) -> Vocab:
        counter: Counter[str] = Counter()
        for sentence in sentences:
            counter.update(sentence)
        # Most frequent first; ties keep first-seen order (Counter preserves insertion order).
        kept = sorted(((w, c) for w, c in counter.items() if c >= min_count), key=lambda wc: -wc[1])
        if max_size is not None:
            kept = kept[:max_size]
        if not kept:
            raise ValueError(f"Vocab: no word occurs at least min_count={min_count} times "
                             f"({len(counter)} distinct words seen); lower min_count or use more text")
        words, counts = zip(*kept)
        return cls(words, counts)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def encode(self, sentences: Iterable[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """The corpus as two flat arrays: word ids and sentence ids (out-of-vocabulary words dropped).

        Returns (ids, sentence) of equal length; `sentence[i]` numbers the sentence
        that `ids[i]` came from, which is all the windowing needs to respect sentences.
        """
        ids: list[int] = []
        sent: list[int] = []
        get = self.index.get
        for s, sentence in enumerate(sentences):
            row = [i for w in sentence if (i := get(w)) is not None]
            ids.extend(row)
            sent.extend([s] * len(row))
        return np.asarray(ids, dtype=np.int64), np.asarray(sent, dtype=np.int64)
