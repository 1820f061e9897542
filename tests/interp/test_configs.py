"""The interp configs check themselves when built, each error naming its field."""
import pytest

from llmos.config import ConfigError
from llmos.interp.facts_model import FactsModelConfig
from llmos.interp.induction import InductionConfig
from llmos.interp.rome import RomeConfig


@pytest.mark.parametrize("build,field", [
    (lambda: FactsModelConfig(d_model=130, n_heads=4), "d_model must be a multiple of n_heads"),
    (lambda: FactsModelConfig(eval_every=0), "eval_every must be >= 1"),
    (lambda: FactsModelConfig(target_accuracy=1.5), "target_accuracy must be in"),
    (lambda: InductionConfig(half_len=1), "half_len must be >= 2"),
    (lambda: InductionConfig(lr=0), "lr must be > 0"),
    (lambda: RomeConfig(v_steps=0), "v_steps must be >= 1"),
    (lambda: RomeConfig(layer=-1), "layer must be >= 0"),
    (lambda: RomeConfig(clamp_norm=0), "clamp_norm must be > 0"),
])
def test_a_bad_setting_is_refused_by_name(build, field):
    with pytest.raises(ConfigError, match=field):
        build()


def test_the_defaults_are_valid():
    FactsModelConfig(), InductionConfig(), RomeConfig()
