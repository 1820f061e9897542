import pytest

from llmos.reason import ScriptedBackend, ToT
from llmos.reason.game24 import Game24
from llmos.text import game24 as g


def oracle(prompt, params):
    """Proposes every legal move (promising ones first) and values states exactly."""
    kind, _, state = prompt.partition(": ")
    nums = g.parse_numbers(state.removesuffix(" ->"))
    if kind == "propose":
        ms = sorted(g.moves(nums), key=lambda m: not g.solvable(m[1]))[:params.n]
        return [" " + g.step_text(s, left) for s, left in ms] + [" nothing"] * (params.n - len(ms))
    return " sure" if g.solvable(nums) else " impossible"


def test_tot_bfs_with_b5_solves_a_puzzle_and_the_judge_accepts_the_answer():
    backend = ScriptedBackend(oracle)
    r = ToT(task=Game24(), breadth=5, depth=3, n_propose=8, n_value=1, stop=["\n"]).solve("4 9 10 13", backend)
    assert g.check((4, 9, 10, 13), r.answer) and r.confidence == 1.0
    assert backend.calls[0].prompt == "propose: 4 9 10 13 ->" and backend.calls[0].params.n == 8
    assert backend.calls[1].prompt.startswith("value: ")


def test_a_thought_with_wrong_arithmetic_gives_no_answer():
    task = Game24()
    assert task.answer("4 9 10 13", ["13-9=5 (left: 4 5 10)", "4*5=20 (left: 10 20)", "10+20=24 (left: 24)"]) is None
    assert task.thoughts(" 13-9=4 (left: 4 4 10)\nmore") == ["13-9=4 (left: 4 4 10)"]
    assert task.thoughts("garbage") == []


def test_a_thought_that_is_not_a_legal_move_from_its_state_cannot_be_applied():
    task = Game24()
    assert task.next_state("4 9 10 13", "13-9=4 (left: 4 4 10)") == "4 4 10"
    for bad in ["13-9=4 (left: 4 10)",             # a number lost from what is left
                "4-4=1 (left: 1 10 13)",           # wrong arithmetic
                "12-9=3 (left: 3 4 10)",           # 12 is not there
                "13/0=1 (left: 2/0 4)"]:           # not a number at all
        with pytest.raises(ValueError):
            task.next_state("4 9 10 13", bad)
    # ToT drops such thoughts: a proposer whose only thought is illegal leaves the search with no answer
    backend = ScriptedBackend(lambda prompt, params: " 4-4=1 (left: 1 10 13)" if prompt.startswith("propose")
                              else " sure")
    r = ToT(task=Game24(), breadth=5, depth=3, n_propose=1, n_value=1, stop=["\n"]).solve("4 9 10 13", backend)
    assert r.answer is None and [c.prompt for c in backend.calls] == ["propose: 4 9 10 13 ->"]
