import random
from fractions import Fraction

import pytest

from llmos.text import game24 as g


def test_the_stored_puzzle_list_is_what_the_search_finds_on_a_sample():
    puzzles = set(g.all_puzzles())
    assert len(puzzles) == 1362
    rng = random.Random(0)
    import itertools
    every = list(itertools.combinations_with_replacement(range(1, 14), 4))
    for p in rng.sample(every, 40):
        assert (p in puzzles) == g.solvable(tuple(Fraction(x) for x in p))


@pytest.mark.slow
def test_the_stored_puzzle_list_is_exactly_the_search():
    assert g.search_puzzles() == g.all_puzzles()


def test_split_holds_out_100_fixed_by_seed():
    train, test = g.split()
    assert len(test) == 100 and not set(train) & set(test) and g.split()[1] == test
    assert g.split(seed=1)[1] != test


def test_solutions_formats_and_the_judge():
    nums = tuple(Fraction(x) for x in (4, 9, 10, 13))
    path = g.random_solution(nums, random.Random(0))
    assert path[-1][1] == (24,)
    expr = g.expression(nums, path)
    assert g.check((4, 9, 10, 13), expr) and g.check((4, 9, 10, 13), "(13-9)*(10-4)=24")
    assert not g.check((4, 9, 10, 13), "(13-9)*(10-4)+0=24")      # uses a number not in the puzzle
    assert not g.check((4, 9, 10, 13), "4*9-10-13") and not g.check((1, 1, 1, 8), "__import__('os')")
    assert g.parse_step("8/3*9=24") == (Fraction(8, 3), "*", Fraction(9), Fraction(24))
    with pytest.raises(ValueError):
        g.parse_step("2+2=5")
    ex = g.training_examples(random.Random(0), [(4, 9, 10, 13), (1, 1, 1, 8)], 40)
    kinds = {p.split(":")[0] for p, _ in ex}
    assert kinds == {"propose", "value", "solve", "io"}
    for p, t in ex:
        if p.startswith("value"):
            assert t.strip() == ("sure" if g.solvable(g.parse_numbers(p[7:-3])) else "impossible")


def test_a_step_that_reads_two_ways_composes_with_the_numbers_left():
    # "1/2/1=1/2" is (1/2)/1 here, not 1/(2/1): only the first uses what is left (1/2, 1, 12)
    assert len(g.step_readings("1/2/1=1/2")) == 2
    nums = tuple(Fraction(x) for x in (1, 1, 2, 12))
    path = [("1/2=1/2", g.parse_numbers("1/2 1 12")), ("1/2/1=1/2", g.parse_numbers("1/2 12")),
            ("12/1/2=24", (Fraction(24),))]
    expr = g.expression(nums, path)
    assert g.check((1, 1, 2, 12), expr + "=24")
    with pytest.raises(ValueError):
        g.expression(nums, [("3*8=24", (Fraction(24),))])          # 3 and 8 are not among the numbers
