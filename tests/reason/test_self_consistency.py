import pytest

from llmos.reason import CoT, ScriptedBackend, SelfConsistency, Socratic, vote


def test_votes_over_k_chains_from_one_call_with_n_equal_k():
    chains = ["The answer is 8.", "The answer is 7.", "The answer is 8.", "no idea", "The answer is 8."]
    backend = ScriptedBackend([chains])
    r = SelfConsistency(CoT(), k=5, temperature=0.7).solve("q", backend)
    (call,) = backend.calls
    assert call.params.n == 5 and call.params.temperature == 0.7
    assert r.answer == "8" and r.confidence == pytest.approx(3 / 5)     # the no-answer sample counts in k
    assert r.samples == ["8", "7", "8", None, "8"]


def test_over_a_strategy_without_batched_samples_it_runs_it_k_times_with_distinct_seeds():
    # Socratic at depth 0 makes one answer call per run
    backend = ScriptedBackend(["The answer is 4.", "The answer is 5.", "The answer is 4."])
    r = SelfConsistency(Socratic(max_depth=0), k=3, temperature=0.9).solve("q", backend, seed=1)
    assert len(backend.calls) == 3
    assert len({c.params.seed for c in backend.calls}) == 3
    assert all(c.params.temperature == 0.9 for c in backend.calls)
    assert r.answer == "4" and r.confidence == pytest.approx(2 / 3)


def test_abstains_below_the_threshold():
    backend = ScriptedBackend([["The answer is 1.", "The answer is 2.", "The answer is 3.", "The answer is 1."]])
    r = SelfConsistency(CoT(), k=4).solve("q", backend, abstain_below=0.6)
    assert r.abstained and r.answer == "I don't know"
    assert r.trace.notes["abstained_from"] == "1" and r.confidence == 0.5


def test_vote_ties_go_to_the_first_answer_to_reach_the_count():
    assert vote(["3", "4", "4", "3"]) == ("3", 0.5)
    assert vote([None, None]) == (None, 0.0)
