"""Hybrid retrieval: keyword (FTS5 bm25) and meaning (vector) rankings fused by reciprocal rank.

    score(d) = sum over rankings r that hold d of  1 / (RRF_K + rank_r(d))      (Cormack et al., 2009)

RRF needs no score calibration between bm25 and cosine distance, only ranks,
and a memory found by both searches rises above one found by either alone.
Filters (kinds, a time window, current facts only) apply inside both searches,
so a selective filter still fills the result list. `fit_budget` then keeps the
best hits whose text fits the step prompt's token budget.
"""
from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from typing import Iterable, Literal

from llmos.agent.memory.store import Item, MemoryStore

RRF_K = 60
Mode = Literal["hybrid", "keyword", "vector"]


@dataclass
class Hit:
    item: Item
    score: float
    keyword_rank: int | None = None   # 1-based rank in the keyword search, None if not found there
    vector_rank: int | None = None

    def to_dict(self) -> dict:
        return {**self.item.to_dict(), "score": round(self.score, 6), "keyword_rank": self.keyword_rank,
                "vector_rank": self.vector_rank}


def rrf(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion of ranked id lists (best first) -> id: fused score."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item_id in enumerate(ranking, start=1):
            fused[item_id] = fused.get(item_id, 0.0) + 1.0 / (k + rank)
    return fused


def search(store: MemoryStore, query: str, k: int = 10, mode: Mode = "hybrid",
           kinds: Iterable[str] | None = None, since: float | None = None, until: float | None = None,
           live: bool | None = True, pool: int = 40, query_vector=None, collapse: bool = True) -> list[Hit]:
    """The `k` best memories for `query`; each search contributes its top `pool` to the fusion.

    With `collapse`, memories of identical text (a question asked in many sessions) show once, the
    best-ranked of them, so repeats do not crowd out the rest.
    """
    if mode not in ("hybrid", "keyword", "vector"):
        raise ValueError(f"search mode {mode!r}: use hybrid, keyword or vector")
    kinds = list(kinds) if kinds else None
    words: list[int] = []
    near: list[int] = []
    if mode in ("hybrid", "keyword"):
        words = [i for i, _ in store.keyword(query, pool, kinds, since, until, live)]
    if mode in ("hybrid", "vector"):
        vec = query_vector if query_vector is not None else store.embedder.embed([query])[0]
        near = [i for i, _ in store.vector(vec, pool, kinds, since, until, live)]
    fused = rrf([r for r in (words, near) if r])
    ranked = sorted(fused, key=lambda i: -fused[i])
    items = store.get_many(ranked)
    kw = {i: r for r, i in enumerate(words, 1)}
    vr = {i: r for r, i in enumerate(near, 1)}
    hits, seen = [], set()
    for i in ranked:
        if i not in items:
            continue
        text = " ".join(items[i].text.casefold().split())
        if collapse and text in seen:   # the same words said again take one place, not several
            continue
        seen.add(text)
        hits.append(Hit(items[i], fused[i], kw.get(i), vr.get(i)))
        if len(hits) == k:
            break
    return hits


MONTHS = ("january february march april may june july august september october november december").split()
_MONTH_YEAR = re.compile(r"\b(?:in|during)\s+(" + "|".join(MONTHS) + r")\s+(\d{4})\b", re.I)
_DAY = re.compile(r"\b(?:on|since|until|before|after)?\s*(\d{4})-(\d{2})-(\d{2})\b")


def time_window(query: str) -> tuple[float | None, float | None]:
    """(since, until) in UTC seconds for "in March 2026" or "on 2026-03-14" in a query, else (None, None)."""
    if m := _MONTH_YEAR.search(query):
        month, year = MONTHS.index(m.group(1).lower()) + 1, int(m.group(2))
        start = calendar.timegm((year, month, 1, 0, 0, 0))
        end = calendar.timegm((year + month // 12, month % 12 + 1, 1, 0, 0, 0))
        return float(start), float(end) - 1e-3
    if m := _DAY.search(query):
        start = calendar.timegm((int(m.group(1)), int(m.group(2)), int(m.group(3)), 0, 0, 0))
        return float(start), start + 86400 - 1e-3
    return None, None


def approx_tokens(text: str) -> int:
    """About four characters a token for English (the usual BPE rule of thumb)."""
    return max(1, math.ceil(len(text) / 4))


def fit_budget(lines: list[str], max_tokens: int) -> list[str]:
    """The leading lines (best first) whose tokens, one more each for the newline, fit `max_tokens`."""
    kept, used = [], 0
    for line in lines:
        cost = approx_tokens(line) + 1
        if used + cost > max_tokens:
            break
        kept.append(line)
        used += cost
    return kept
