"""Hybrid retrieval: reciprocal rank fusion, filters inside the searches, the token budget."""
from __future__ import annotations

import pytest

from llmos.agent.memory.retrieval import RRF_K, approx_tokens, fit_budget, rrf, search


def test_rrf_sums_reciprocal_ranks():
    fused = rrf([[1, 2, 3], [3, 1]])
    assert fused[1] == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 2))
    assert fused[3] == pytest.approx(1 / (RRF_K + 3) + 1 / (RRF_K + 1))
    assert fused[2] == pytest.approx(1 / (RRF_K + 2))
    assert sorted(fused, key=fused.get, reverse=True) == [1, 3, 2]


def test_hybrid_puts_what_both_searches_find_above_what_either_finds_alone(memory):
    s = memory.store
    # keyword-only match: shares the rare word but not the meaning; vector-only: near in hashed pieces
    target = s.add("fact", "Ada's passport number renewal is due in March")
    words = s.add("fact", "a passport photo booth stands at the station")
    near = s.add("fact", "renewals of documents are due in March each year")
    for i in range(30):
        s.add("message", f"unrelated chat about gardening and tomatoes number {i}")
    hybrid = [h.item.id for h in search(s, "passport renewal due March", k=3)]
    assert hybrid[0] == target.id
    assert set(hybrid) == {target.id, words.id, near.id}
    kw = search(s, "passport renewal due March", k=3, mode="keyword")
    assert all(h.vector_rank is None and h.keyword_rank for h in kw)
    top = search(s, "passport renewal due March", k=1)[0]
    assert top.keyword_rank == 1 and top.vector_rank == 1


def test_filters_apply_inside_both_searches(memory):
    s = memory.store
    old = s.add("message", "we booked a train to Porto", created_at=1000.0)
    new = s.add("message", "we booked a train to Faro", created_at=2000.0)
    fact = s.add("fact", "Ada likes trains", created_at=2000.0)
    for i in range(50):
        s.add("step", f"booked a train step {i}", created_at=3000.0)
    got = [h.item.id for h in search(s, "booked a train", k=5, kinds=["message"], until=1500)]
    assert got == [old.id]
    got = [h.item.id for h in search(s, "booked a train", k=5, kinds=["message", "fact"], since=1500,
                                     until=2500)]
    assert set(got) == {new.id, fact.id}
    with pytest.raises(ValueError, match="search mode"):
        search(s, "x", mode="magic")


def test_fit_budget_keeps_the_best_lines_that_fit():
    lines = ["a" * 40, "b" * 40, "c" * 40]          # 10 tokens + 1 each
    assert fit_budget(lines, 22) == lines[:2]
    assert fit_budget(lines, 5) == []
    assert approx_tokens("abcdefgh") == 2


def test_the_prompt_block_fits_its_budget_and_leads_with_core_and_preferences(memory):
    memory.set_core("person", "Ada Lovelace, ada@example.com")
    memory.capture("I'm vegetarian.")
    for i in range(40):
        memory.record("message", f"long message about the weather in Lisbon, number {i} " * 3)
    block = memory.prompt_block("weather in Lisbon", max_tokens=120)
    lines = block.splitlines()
    assert lines[0] == "[person] Ada Lovelace, ada@example.com"
    assert lines[1].endswith("diet: vegetarian")
    assert sum(approx_tokens(x) + 1 for x in lines) <= 120 and any("weather" in x for x in lines)


def test_a_query_naming_a_month_or_day_is_searched_in_that_time(memory):
    import calendar

    from llmos.agent.memory.retrieval import time_window

    since, until = time_window("which restaurant did we try in March 2026?")
    assert since == calendar.timegm((2026, 3, 1, 0, 0, 0)) and until < calendar.timegm((2026, 4, 1, 0, 0, 0))
    assert time_window("what happened on 2026-12-31")[0] == calendar.timegm((2026, 12, 31, 0, 0, 0))
    assert time_window("what do I like?") == (None, None)
    march = memory.store.add("message", "we tried the Lotus Garden restaurant",
                             created_at=calendar.timegm((2026, 3, 9, 20, 0, 0)))
    memory.store.add("message", "we tried the Blue Door restaurant", created_at=calendar.timegm((2026, 5, 2, 0, 0, 0)))
    assert [h.item.id for h in memory.search("which restaurant did we try in March 2026?")] == [march.id]
