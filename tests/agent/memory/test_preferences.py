"""Explicit preferences: typed statements from the person's words, hedges, and matching a choice."""
from __future__ import annotations

import json

from llmos.agent.memory.preferences import SURE, describe, extract, matches


def _kv(text):
    return {s.key: s.value for s in extract(text)}


def test_typed_preferences_are_taken_from_what_the_person_says():
    assert _kv("I'm vegetarian and I always take an aisle seat.") == {"diet": "vegetarian", "seat": "aisle"}
    assert _kv("I am allergic to peanuts and shellfish. Never buy Nestle.") == {
        "allergy:peanuts": "peanuts", "allergy:shellfish": "shellfish", "avoid_brand:nestle": "Nestle"}
    got = _kv("My address is 12 Analytical Street, 1000-001 Lisbon, Portugal.")
    assert json.loads(got["address"]) == {"street": "12 Analytical Street", "postcode": "1000-001",
                                          "city": "Lisbon", "country": "Portugal"}
    assert got["home_city"] == "Lisbon"
    assert _kv("I moved to Boston.") == {"home_city": "Boston"}
    assert _kv("Please use express shipping; my budget is 40 euros") == {"shipping": "express", "budget": "40"}
    assert _kv("Book the flight to Rome.") == {}


def test_a_hedged_statement_is_not_sure_so_the_agent_asks():
    (st,) = extract("Maybe a window seat, sometimes.")
    assert st.key == "seat" and st.confidence < SURE and not st.sure
    (st,) = extract("I always take a window seat.")
    assert st.sure


def test_a_choice_applies_a_preference_only_when_it_matches():
    assert matches("diet", "vegetarian", "Vegetarian")
    assert not matches("diet", "vegan", "Vegetarian")
    assert matches("seat", "aisle", "Seat 12C, aisle")
    assert not matches("seat", "aisle", "Seat 12A, window")
    assert describe("seat", "aisle") == "prefers aisle seats"


def test_stated_preferences_are_captured_and_applied_with_their_names(memory):
    saved = memory.capture("I'm vegetarian and always take an aisle seat", session="s1")
    assert [s.item.text for _, s in saved] == ["diet: vegetarian", "prefers aisle seats"]
    unsure = memory.capture("I might like window seats")
    assert unsure[0][1] is None and memory.preference("seat").value == "aisle"
    assert [p.text for p in memory.applied("Seat 11D, aisle")] == ["prefers aisle seats"]
    assert [p.text for p in memory.applied("Vegetarian")] == ["diet: vegetarian"]
    assert memory.applied("Seat 11A, window") == []
