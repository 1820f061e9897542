import pytest

from llmos.reason.calibration import ece, plot_reliability, reliability, selective


def test_ece_is_zero_when_calibrated_and_the_gap_otherwise(tmp_path):
    assert ece([0.5, 0.5], [True, False]) == 0.0
    assert ece([0.9] * 10, [True] * 5 + [False] * 5) == pytest.approx(0.4)
    bins = reliability([0.15, 0.95, 1.0], [False, True, True])
    assert [(b.count, b.accuracy) for b in bins] == [(1, 0.0), (2, 1.0)]
    assert selective([0.2, 0.9], [False, True], [0.5])[0] == {"threshold": 0.5, "coverage": 0.5, "accuracy": 1.0}
    assert plot_reliability([0.2, 0.9], [False, True], tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
