from llmos.interp.facts_model import subject_span

import pytest


def test_the_small_gpt_learns_its_facts(facts_lab):
    assert facts_lab.accuracy() >= 0.95
    # a random model would answer 1 in 10 (sports) or 1 in 16 (cities)
    assert facts_lab.accuracy(held_out=True) > 0.3


def test_subject_spans_and_missing_subjects(facts_lab):
    f = facts_lab.world.facts[0]
    ids = facts_lab.ids(facts_lab.world.prompt(f, 0))
    start, end = facts_lab.subject_span(ids, f.subject)
    assert end - start == 2 and facts_lab.tokenizer.decode(ids[start:end]) == f.subject
    with pytest.raises(ValueError, match="does not occur in the prompt"):
        subject_span(ids, [10 ** 6], "Nobody")
