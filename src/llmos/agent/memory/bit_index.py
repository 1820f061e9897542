"""An in-memory first pass for vector search: every memory's sign bits, and the fields searches filter on.

    index = BitIndex(dim=384)
    index.put([7, 8], vectors, kinds=["fact", "step"], created=[t7, t8], live=[True, True])
    index.nearest(query, pool=160, kinds={"fact"}, since=t0)   # ids of the pool closest by Hamming

A vector v becomes D bits b_i = [v_i > 0], packed into D/8 bytes (48 bytes
for D=384, as sqlite-vec's `vec_quantize_binary`). The Hamming distance

    h(q, x) = popcount(bits(q) XOR bits(x))

approximates the angle between q and x (for random hyperplanes, E[h] / D =
angle / pi), so its nearest `pool` hold the exact cosine top k with high
probability, and the store re-ranks just those on float vectors. A scan is
N x D/64 XORs and popcounts on 64-bit words: 100k memories in a few
milliseconds, where sqlite-vec's scan of the same bits inside SQLite takes tens.

The index is a cache of the file, not a second copy of the truth: the store
fills it from the file, keeps it in step with its own writes, and refills it
when another connection has committed (SQLite's `data_version`).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np


def sign_bits(vectors: np.ndarray) -> np.ndarray:
    """(N, D) floats -> (N, D/8) uint8, bit i of a row set where v_i > 0."""
    return np.packbits(np.asarray(vectors) > 0, axis=-1, bitorder="little")


class BitIndex:
    def __init__(self, dim: int, capacity: int = 1024):
        self.dim, self.n = dim, 0
        self.words = -(-dim // 64)                # 64-bit words a vector's bits take (zero-padded)
        self.kinds: dict[str, int] = {}           # kind name -> small code
        self.row: dict[int, int] = {}             # memory id -> row in the arrays
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        def grow(old, shape, dtype):
            new = np.zeros(shape, dtype)
            if old is not None:
                new[:self.n] = old[:self.n]
            return new
        self.ids = grow(getattr(self, "ids", None), capacity, np.int64)
        self.bits = grow(getattr(self, "bits", None), (capacity, self.words), np.uint64)   # (C, W)
        self.kind = grow(getattr(self, "kind", None), capacity, np.int16)
        self.created = grow(getattr(self, "created", None), capacity, np.float64)
        self.live = grow(getattr(self, "live", None), capacity, bool)
        self.present = grow(getattr(self, "present", None), capacity, bool)   # False once deleted

    def _words(self, packed: np.ndarray) -> np.ndarray:
        """(N, D/8) packed bytes -> (N, W) uint64 words, zero-padded past D."""
        out = np.zeros((len(packed), self.words * 8), np.uint8)
        out[:, :packed.shape[1]] = packed
        return out.view(np.uint64)

    def __len__(self) -> int:
        return int(self.present[:self.n].sum())

    def _code(self, kind: str) -> int:
        return self.kinds.setdefault(kind, len(self.kinds))

    def put(self, ids: Iterable[int], vectors: np.ndarray, *, kinds: Iterable[str],
            created: Iterable[float], live: Iterable[bool]) -> None:
        """Add or replace memories from their float `vectors` (N, D)."""
        ids = np.asarray(list(ids), np.int64)
        words = self._words(sign_bits(vectors))
        if self.n + len(ids) > len(self.ids):
            self._alloc(max(2 * len(self.ids), self.n + len(ids)))
        for i, rid, w, k, c, lv in zip(range(len(ids)), ids, words, kinds, created, live):
            r = self.row.get(int(rid))
            if r is None:
                r = self.row[int(rid)] = self.n
                self.n += 1
            self.ids[r], self.bits[r], self.kind[r] = rid, w, self._code(k)
            self.created[r], self.live[r], self.present[r] = c, bool(lv), True

    def set_live(self, item_id: int, live: bool) -> None:
        if (r := self.row.get(item_id)) is not None:
            self.live[r] = live

    def remove(self, item_id: int) -> None:
        if (r := self.row.pop(item_id, None)) is not None:
            self.present[r] = False

    def nearest(self, vector: np.ndarray, pool: int, kinds: Iterable[str] | None = None,
                since: float | None = None, until: float | None = None,
                live: bool | None = True) -> np.ndarray:
        """Ids of the `pool` memories nearest `vector` in Hamming distance among those the filters keep."""
        n = self.n
        keep = self.present[:n].copy()
        if kinds:
            codes = [self.kinds[k] for k in kinds if k in self.kinds]
            keep &= np.isin(self.kind[:n], codes)
        if since is not None:
            keep &= self.created[:n] >= since
        if until is not None:
            keep &= self.created[:n] <= until
        if live is not None:
            keep &= self.live[:n] == live
        rows = np.flatnonzero(keep)
        if not len(rows):
            return np.empty(0, np.int64)
        q = self._words(sign_bits(np.asarray(vector, np.float32)[None]))                # (1, W)
        ham = np.bitwise_count(self.bits[rows] ^ q).sum(axis=1, dtype=np.int32)        # (R,)
        if len(rows) > pool:
            top = np.argpartition(ham, pool - 1)[:pool]
            rows, ham = rows[top], ham[top]
        return self.ids[rows[np.argsort(ham, kind="stable")]]
