import math

import pytest

from llmos.reason import BackendError, ScriptedBackend, ToT
from llmos.reason.tot import read_value
from llmos.reason.tree_plot import draw_tree


class Letters:
    """States are strings of letters; a thought appends one; 'abc' is the solution."""

    def root(self, q):
        return ""

    def propose(self, q, state):
        return f"propose {state}"

    def thoughts(self, text):
        return text.split()

    def next_state(self, state, thought):
        return state + thought

    def value(self, q, state):
        return f"value {state}"

    def is_solution(self, q, state):
        return state == "abc"

    def answer(self, q, thoughts):
        return "".join(thoughts)


def test_bfs_keeps_the_b_best_states_by_value_at_each_depth():
    values = {"a": "sure", "b": "impossible", "c": "likely", "aa": "impossible", "ab": "sure",
              "ca": "likely", "cb": "impossible"}

    def reply(prompt, params):
        kind, _, state = prompt.partition(" ")
        if kind == "propose":
            return "a b c" if state == "" else "a b"
        return values.get(state, "impossible")

    backend = ScriptedBackend(reply)
    r = ToT(task=Letters(), search="bfs", breadth=2, depth=2, n_value=1).solve("q", backend)
    prompts = backend.prompts
    # depth 1: one proposal from the root, three valuations; keep a (20) and c (1), prune b
    assert prompts[:4] == ["propose ", "value a", "value b", "value c"]
    # depth 2: proposals from the two kept states only, in value order, then their children valued
    assert prompts[4:] == ["propose a", "propose c", "value aa", "value ab", "value ca", "value cb"]
    status = {n.state: n.status for n in r.trace.nodes}
    assert status["a"] == status["c"] == "kept" and status["b"] == "pruned"
    assert status["ab"] == status["ca"] == "kept" and status["aa"] == status["cb"] == "pruned"
    assert r.answer == "ab"


def test_dfs_backtracks_out_of_a_dead_end_and_finds_the_answer_on_a_later_branch(tmp_path):
    # the best-valued first step 'x' leads nowhere; 'a' -> 'ab' -> 'abc' is the solution
    tree = {"": "x a", "x": "y", "xy": "z", "a": "b", "ab": "c"}
    values = {"x": "sure", "a": "likely", "xy": "sure", "xyz": "sure", "ab": "sure", "abc": "sure"}

    def reply(prompt, params):
        kind, _, state = prompt.partition(" ")
        return tree.get(state, "") if kind == "propose" else values.get(state, "impossible")

    backend = ScriptedBackend(reply)
    r = ToT(task=Letters(), search="dfs", depth=3, n_value=1, threshold=1.0).solve("q", backend)
    assert backend.prompts == ["propose ", "value x", "value a",
                               "propose x", "value xy", "propose xy", "value xyz",      # dead end at depth 3
                               "propose a", "value ab", "propose ab", "value abc"]      # backtracked
    assert r.answer == "abc" and r.confidence == 1.0
    status = {n.state: n.status for n in r.trace.nodes}
    assert status["xyz"] == "dead end" and status["x"] == "dead end" and status["abc"] == "solution"
    assert "abc" in r.trace.render() and "dead end" in r.trace.tree_text()
    png = draw_tree(r.trace, tmp_path / "tree.png")
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


def test_dfs_prunes_children_valued_below_the_threshold():
    def reply(prompt, params):
        kind, _, state = prompt.partition(" ")
        return ("a" if state == "" else "") if kind == "propose" else "impossible"

    backend = ScriptedBackend(reply)
    r = ToT(task=Letters(), search="dfs", depth=3, n_value=1).solve("q", backend)
    assert backend.prompts == ["propose ", "value a"] and r.answer is None
    assert r.trace.nodes[1].status == "pruned"


def test_value_samples_are_summed_as_in_the_paper():
    backend = ScriptedBackend(lambda p, params: "a" if p.startswith("propose") else ["sure", "likely", "x"])
    r = ToT(task=Letters(), depth=1, n_value=3).solve("q", backend)
    assert r.trace.nodes[1].value == pytest.approx(21.0)
    assert backend.calls[1].params.n == 3
    assert read_value("I think this is likely, maybe impossible") == 0.001


def test_logprob_values_are_the_expected_value_of_one_valuation_and_rank_the_frontier():
    # log p of each value word per state: 'a' is probably sure, 'b' probably impossible, 'c' in between
    probs = {"a": (0.8, 0.1, 0.1), "b": (0.1, 0.1, 0.8), "c": (0.5, 0.0, 0.5)}

    def scores(prompt, continuation):
        state = prompt.partition(" ")[2]
        p = dict(zip([" sure", " likely", " impossible"], probs[state]))[continuation]
        return math.log(p) if p else -1e9

    backend = ScriptedBackend(lambda p, params: "a b c", scores=scores)
    r = ToT(task=Letters(), depth=1, breadth=2, value_by="logprobs").solve("q", backend)
    assert [(c.kind, c.prompt) for c in backend.calls] == [("completion", "propose "), ("score", "value a"),
                                                            ("score", "value b"), ("score", "value c")]
    values = {n.state: n.value for n in r.trace.nodes[1:]}
    assert values["a"] == pytest.approx(0.8 * 20 + 0.1 * 1 + 0.1 * 0.001)
    assert values["c"] == pytest.approx(0.5 * 20 + 0.5 * 0.001)
    status = {n.state: n.status for n in r.trace.nodes[1:]}
    assert status == {"a": "kept", "c": "kept", "b": "pruned"}
    assert [c.purpose for c in r.trace.calls] == ["propose", "value", "value", "value"]
    assert r.trace.calls[1].score == pytest.approx(values["a"])


def test_logprob_values_on_a_backend_that_cannot_score_name_it():
    backend = ScriptedBackend(lambda p, params: "a", name="plain")
    with pytest.raises(BackendError, match="backend plain cannot score"):
        ToT(task=Letters(), depth=1, value_by="logprobs").solve("q", backend)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="breadth"):
        ToT(breadth=0)
    with pytest.raises(ValueError, match="value_by"):
        ToT(value_by="votes")
