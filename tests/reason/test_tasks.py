import random

import pytest

from llmos.reason.tasks import get_task


def test_each_task_draws_training_pairs_and_grades_answers():
    rng = random.Random(0)
    word, add, g24 = get_task("word"), get_task("add"), get_task("game24")
    p = word.held_out(3, size=2)[0]
    assert word.grade(p, p.target("cot")) and not word.grade(p, "The answer is -1.")
    q = add.held_out(3, size=3)[0]
    assert add.grade(q, q.target("cot")) and add.grade(q, q.target("direct")) and not add.grade(q, "so x")
    assert g24.grade((4, 9, 10, 13), " 13-9=4 (left: 4 4 10) answer: (13-9)*(10-4)=24")
    assert not g24.grade((4, 9, 10, 13), " answer: 4*6=24")
    prompt, target = word.example(rng, "calc", (1,))
    assert prompt.startswith("Q: ") and target.startswith(" <<")
    assert len(g24.held_out(100)) == 100


def test_unknown_task_names_the_choices():
    with pytest.raises(ValueError, match="word, add, mul, game24"):
        get_task("chess")
