import math

import pytest

from llmos.train.schedule import inverse_sqrt, warmup_cosine


def test_warmup_cosine_rises_linearly_then_follows_half_a_cosine_to_the_floor():
    lr = lambda s: warmup_cosine(s, lr=1e-3, min_lr=1e-4, warmup=10, decay_steps=110)  # noqa: E731
    assert lr(0) == pytest.approx(1e-4) and lr(4) == pytest.approx(5e-4) and lr(9) == pytest.approx(1e-3)
    assert lr(10) == pytest.approx(1e-3)
    assert lr(60) == pytest.approx(1e-4 + 0.9e-3 * 0.5)            # halfway: cos(pi/2) = 0
    assert lr(110) == lr(500) == pytest.approx(1e-4)
    assert all(lr(s) >= lr(s + 1) for s in range(10, 120))


def test_inverse_sqrt_is_the_2017_papers_schedule():
    d, w = 512, 4000
    peak = inverse_sqrt(w - 1, d, w)                                   # step w counted from 1
    assert peak == pytest.approx(d ** -0.5 * w ** -0.5)
    assert max(inverse_sqrt(s, d, w) for s in range(0, 3 * w, 97)) <= peak + 1e-12
    assert inverse_sqrt(4 * w - 1, d, w) == pytest.approx(peak / 2)      # decays as step^-0.5
    assert inverse_sqrt(0, d, w) == pytest.approx(d ** -0.5 * w ** -1.5)
    assert inverse_sqrt(0, d, w, factor=2.0) == pytest.approx(2 * inverse_sqrt(0, d, w))
    assert not math.isnan(inverse_sqrt(10 ** 6, d, w))
