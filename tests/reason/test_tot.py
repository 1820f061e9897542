import pytest

from llmos.reason import ScriptedBackend, ToT
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


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="breadth"):
        ToT(breadth=0)
