"""Trained word vectors and what people ask of them: neighbours, analogies, similarity.

    wv = WordVectors.load("vectors.txt")       # word2vec text format
    wv.nearest("king", k=5)                    # [(word, cosine), ...]
    wv.nearest("king", metric="euclidean")     # [(word, distance), ...] nearest first
    wv.analogy("man", "king", "woman")         # man : king :: woman : ?   (3CosAdd)
    wv.similarity("king", "queen")             # cosine

3CosAdd (Mikolov et al., 2013; Levy & Goldberg, 2014) answers a : b :: c : ?
with the word d maximising cos(d, b - a + c) over unit vectors, never one of
a, b, c themselves (otherwise the answer is almost always b or c).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from llmos.config import atomic_write_text


class WordVectors:
    """Words and their vectors (one row each), with unit-length copies for cosine maths."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(words) != len(vectors):
            raise ValueError(f"WordVectors: {len(words)} words need a ({len(words)}, dim) array, "
                             f"got shape {vectors.shape}")
        self.words = list(words)
        self.vectors = vectors                                          # (V, D)
        self.index = {w: i for i, w in enumerate(self.words)}
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit = vectors / np.maximum(norms, 1e-12)                  # (V, D), rows of length 1

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self._id(word)]

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def _id(self, word: str) -> int:
        try:
            return self.index[word]
        except KeyError:
            raise KeyError(f"{word!r} is not in the vocabulary ({len(self)} words); "
                           f"it may be rarer than min_count") from None

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        return float(self.unit[self._id(a)] @ self.unit[self._id(b)])

    def _top(self, scores: np.ndarray, k: int, exclude: Sequence[int], largest: bool = True
             ) -> list[tuple[str, float]]:
        scores = scores.astype(np.float64).copy()
        scores[list(exclude)] = -np.inf if largest else np.inf
        order = np.argsort(-scores if largest else scores, kind="stable")[:k]
        return [(self.words[i], float(scores[i])) for i in order if np.isfinite(scores[i])]

    def nearest(self, word: str | np.ndarray, k: int = 10,
                metric: Literal["cosine", "euclidean"] = "cosine") -> list[tuple[str, float]]:
        """The k words closest to `word` (or to a vector), the word itself excluded.

        Cosine returns similarities (higher is nearer); Euclidean returns distances
        between the raw vectors (lower is nearer).
        """
        exclude = [self._id(word)] if isinstance(word, str) else []
        v = self[word] if isinstance(word, str) else np.asarray(word, dtype=np.float32)
        if metric == "cosine":
            return self._top(self.unit @ (v / max(np.linalg.norm(v), 1e-12)), k, exclude)
        if metric == "euclidean":
            return self._top(np.linalg.norm(self.vectors - v, axis=1), k, exclude, largest=False)
        raise ValueError(f"nearest: metric must be 'cosine' or 'euclidean', got {metric!r}")

    def analogy(self, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
        """a : b :: c : ?  by 3CosAdd: argmax_d cos(d, b - a + c), d not in {a, b, c}."""
        ia, ib, ic = self._id(a), self._id(b), self._id(c)
        target = self.unit[ib] - self.unit[ia] + self.unit[ic]           # (D,)
        return self._top(self.unit @ target, k, [ia, ib, ic])

    def analogy_batch(self, a: np.ndarray, b: np.ndarray, c: np.ndarray,
                      candidates: int | None = None) -> np.ndarray:
        """3CosAdd answers (word ids) for many questions at once; a, b, c are (Q,) id arrays.

        Only the first `candidates` words (the most frequent, in training order) may be
        answers when given, as gensim's `restrict_vocab` does.
        """
        pool = self.unit if candidates is None else self.unit[:candidates]
        answers = np.empty(len(a), dtype=np.int64)
        for lo in range(0, len(a), 1024):                               # bounded memory: (1024, V)
            sl = slice(lo, lo + 1024)
            target = self.unit[b[sl]] - self.unit[a[sl]] + self.unit[c[sl]]   # (q, D)
            scores = target @ pool.T                                         # (q, V)
            rows = np.arange(len(target))
            for ids in (a[sl], b[sl], c[sl]):                             # never a question word
                inside = ids < len(pool)
                scores[rows[inside], ids[inside]] = -np.inf
            answers[sl] = scores.argmax(axis=1)
        return answers

    # ------------------------------------------------------------ files

    def save(self, path: str | Path) -> None:
        """word2vec text format: a "V D" header, then "word x1 ... xD" per line."""
        lines = [f"{len(self)} {self.dim}"]
        lines += [w + " " + " ".join(f"{x:.6g}" for x in row) for w, row in zip(self.words, self.vectors)]
        atomic_write_text(Path(path), "\n".join(lines) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> WordVectors:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"word vectors {path} do not exist")
        with path.open(encoding="utf-8") as f:
            header = f.readline().split()
            if len(header) != 2 or not all(h.isdigit() for h in header):
                raise ValueError(f"{path}: line 1 should be '<words> <dim>' (word2vec text format), "
                                 f"got {' '.join(header)!r}")
            n, dim = map(int, header)
            words, rows = [], []
            for lineno, line in enumerate(f, start=2):
                parts = line.rstrip("\n").rstrip(" ").split(" ")
                if len(parts) != dim + 1:
                    raise ValueError(f"{path}:{lineno}: expected a word and {dim} numbers, "
                                     f"got {len(parts) - 1} numbers")
                words.append(parts[0])
                rows.append(np.asarray(parts[1:], dtype=np.float32))
        if len(words) != n:
            raise ValueError(f"{path}: header promises {n} words but the file has {len(words)}")
        return cls(words, np.stack(rows) if rows else np.zeros((0, dim), np.float32))
