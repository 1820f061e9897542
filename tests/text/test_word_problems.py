import random

from llmos.text import word_problems as wp


def test_problems_carry_known_right_chains_in_three_formats():
    rng = random.Random(0)
    for _ in range(200):
        p = wp.sample_problem(rng, (1, 2, 3, 4))
        value = p.start
        for s in p.steps:
            assert s.a == value and s.c == {"+": s.a + s.b, "-": s.a - s.b, "*": s.a * s.b}[s.op] and s.c >= 0
            value = s.c
        assert wp.parse_answer(p.target("direct")) == p.answer
        assert wp.parse_steps(p.target("cot")) == list(p.steps) == wp.parse_steps(p.target("calc"))
        assert wp.classify_error(p, p.target("cot")) == "correct"
    assert p.target("calc").startswith(" <<") and p.prompt.startswith("Q: ") and p.prompt.endswith("\nA:")


def test_the_training_stream_never_draws_a_held_out_problem():
    held = {p.text for n in (1, 2, 3) for p in wp.held_out_problems(50, n)}
    rng = random.Random(1)
    assert all(wp.sample_problem(rng).text not in held for _ in range(2000))
    assert all(wp.is_held_out(t) for t in held)
    assert [p.text for p in wp.held_out_problems(5, 2)] == [p.text for p in wp.held_out_problems(5, 2)]


def test_failed_chains_are_classified_by_their_first_mistake():
    p = wp.WordProblem("Ann has 23 pens. She loses 20. She buys 5 more. She doubles them. How many pens does Ann have?",
                       23, (wp.Step(23, "-", 20, 3), wp.Step(3, "+", 5, 8), wp.Step(8, "*", 2, 16)))
    assert wp.classify_error(p, "23-20=3. 3+5=9. 9*2=18. The answer is 18.") == "calculator"
    assert wp.classify_error(p, "23+20=43. 43+5=48. 48*2=96. The answer is 96.") == "symbol mapping"
    assert wp.classify_error(p, "23-20=3. 8+5=13. 13*2=26. The answer is 26.") == "symbol mapping"
    assert wp.classify_error(p, "23-20=3. 3*2=6. The answer is 6.") == "missing step"
    assert wp.classify_error(p, "The answer is 15.") == "other"
    assert wp.classify_error(p, "<<23-20=3>> <<3+5=8>> <<8*2=16>> The answer is 16.") == "correct"
