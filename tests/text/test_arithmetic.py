import random

from llmos.text import arithmetic as ar


def test_scratchpads_are_right_and_end_in_the_answer():
    rng = random.Random(0)
    for op in "+*":
        for _ in range(200):
            p = ar.sample_problem(rng, op, (1, 2, 3, 4), digits_b=None if op == "+" else 2)
            for step in p.steps():
                lhs, rhs = step.split("=")
                assert eval(lhs) == int(rhs)          # the test's own check of the generator, not product code
            assert p.target("cot").endswith(f"so {p.answer}\n") and p.target("direct") == f"{p.answer}\n"
    assert ar.ArithmeticProblem(347, "+", 598).target("cot") == "7+8=15, 4+9+1=14, 3+5+1=9, so 945\n"
    assert ar.ArithmeticProblem(347, "*", 26).target("calc") == "<<347*6=2082>> <<347*20=6940>> <<2082+6940=9022>> so 9022\n"


def test_held_out_pairs_have_the_asked_digits_and_never_train():
    held = ar.held_out_problems(50, "+", 3)
    assert len(held) == 50 and all(100 <= p.a <= 999 and 100 <= p.b <= 999 for p in held)
    rng = random.Random(2)
    prompts = {p.prompt for p in held}
    assert all(ar.sample_problem(rng, "+", (3,)).prompt not in prompts for _ in range(3000))


def test_per_digit_accuracy_and_edit_distance():
    assert ar.digit_accuracy("945", 945) == 1.0 and ar.digit_accuracy("955", 945) == 2 / 3
    assert ar.digit_accuracy("45", 945) == 2 / 3
    assert ar.edit_distance("945", "9452") == 1 and ar.edit_distance("kitten", "sitting") == 3
