"""Implicit preferences: the Bradley-Terry choice model recovers what a simulated person prefers."""
from __future__ import annotations

import random

import numpy as np

from llmos.agent.memory.choices import ChoiceModel


def _flights(rng: random.Random, n: int = 4) -> list[dict]:
    return [{"departure": rng.choice(["morning", "afternoon", "evening"]),
             "stops": rng.choice(["nonstop", "one stop"]),
             "price": float(rng.randint(60, 200))} for _ in range(n)]


def _person(option: dict) -> float:
    """The planted preference: strongly likes morning departures, mildly dislikes high prices."""
    return 3.0 * (option["departure"] == "morning") - 0.01 * option["price"]


def test_the_model_recovers_a_planted_preference_from_20_choices():
    rng = random.Random(7)
    model = ChoiceModel()
    for _ in range(20):
        options = _flights(rng)
        # the person picks by their utility plus Gumbel noise (a logit choice)
        noisy = [_person(o) - np.log(-np.log(rng.random())) for o in options]
        model.observe(options, int(np.argmax(noisy)))
    learned = model.explain()
    assert learned[0]["feature"] == "departure=morning" and learned[0]["weight"] > 1.0
    assert learned[0]["text"].startswith("prefers morning departure: chose ")
    chose, offered = learned[0]["chose"], learned[0]["offered"]
    assert learned[0]["text"].endswith(f"chose {chose} of {offered}") and chose / offered > 0.7
    # on fresh option sets it picks a morning flight whenever one is offered, as the person would
    agree = offered_morning = 0
    for _ in range(50):
        options = _flights(rng)
        if any(o["departure"] == "morning" for o in options):
            offered_morning += 1
            agree += options[model.rank(options)[0][0]]["departure"] == "morning"
    assert agree / offered_morning >= 0.8


def test_with_few_or_mixed_choices_the_model_is_unsure():
    model = ChoiceModel()
    a = [{"brand": "Colombian"}, {"brand": "Ethiopian"}]
    assert not model.confident(a)
    model.observe(a, 0)
    model.observe(a, 1)
    assert not model.confident(a)                         # one each: no preference
    for _ in range(5):
        model.observe(a, 0)
    assert model.confident(a) and model.rank(a)[0][0] == 0
    assert model.explain()[0]["text"] == "prefers Colombian brand: chose 6 of 7"
