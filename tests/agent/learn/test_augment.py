"""Renamed copies: one permutation per pool over prompt and action alike, digits untouched."""
from __future__ import annotations

import json
import random

from llmos.agent.learn.augment import permutation, rename, renamed_copies
from llmos.agent.suite import flights as fl
from llmos.train.align.data import SFTExample

PROMPT = ('3 combobox From <Choose a city|Amsterdam|Berlin|Lisbon|Madrid|Paris|Rome>\n'
          '7 radio Seat 10A, window [ ]\n'
          'task: Book Grace Hopper (grace.hopper@example.com) from Madrid to Rome on 2025-06-11, window seat.\n'
          'action:')
RESPONSE = '{"type": "select", "element": 3, "option": "Madrid"}'


def test_a_permutation_renames_within_each_pool_and_names_in_both_cases():
    mapping = permutation(random.Random(3))
    assert sorted(mapping[c] for c in fl.CITIES) == sorted(fl.CITIES)
    assert sorted(mapping[d] for d in fl.DATES) == sorted(fl.DATES)
    assert mapping["grace"] == mapping["Grace"].lower()


def test_renaming_keeps_the_example_consistent_and_leaves_digits_alone():
    for seed in range(20):
        mapping = permutation(random.Random(seed))
        prompt, response = rename(PROMPT, mapping), rename(RESPONSE, mapping)
        city = json.loads(response)["option"]
        assert city == mapping["Madrid"] and f"from {city} to {mapping['Rome']}" in prompt
        first, last = mapping["Grace"], mapping["Hopper"]
        assert f"{first} {last} ({first.lower()}.{last.lower()}@example.com)" in prompt
        assert sorted(prompt.split("<")[1].split(">")[0].split("|")[1:]) == sorted(fl.CITIES)  # options still all there
        assert f"Seat 10A, {mapping['window']}" in prompt and f"{mapping['window']} seat" in prompt
        assert '"element": 3' in response and "10A" in prompt            # numbers keep their meaning


def test_renamed_copies_skip_examples_with_nothing_to_rename():
    plain = SFTExample("task: Empty my cart.\naction:", '{"type": "click", "element": 4}')
    copies = renamed_copies([SFTExample(PROMPT, RESPONSE), plain], copies=3, seed=1)
    assert len(copies) == 3 and all(c.prompt != plain.prompt for c in copies)
    assert len({c.prompt for c in copies}) > 1                             # each copy its own permutation
