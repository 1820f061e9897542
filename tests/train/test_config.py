"""The pretraining settings check themselves when built; errors name the field (dotted from the command line)."""
import pytest

from llmos.config import ConfigError, override
from llmos.train.config import DataConfig, PretrainConfig, TrainConfig


@pytest.mark.parametrize("setting,message", [
    ("train.eval_every=0", r"train\.eval_every must be >= 1, got 0"),
    ("train.checkpoint_every=0", r"train\.checkpoint_every must be >= 1"),
    ("train.log_every=-1", r"train\.log_every must be >= 1"),
    ("train.max_steps=0", r"train\.max_steps must be >= 1"),
    ("train.lr=0", r"train\.lr must be > 0"),
    ("train.min_lr=0.5", r"train\.min_lr must be <= lr=0\.001"),
    ("train.beta2=1", r"train\.beta2 must be in \[0, 1\)"),
    ("train.seq_len=0", r"train\.seq_len must be >= 1"),
    ("data.val_fraction=0", r"data\.val_fraction must be in \(0, 1\)"),
    ("data.vocab_size=1", r"data\.vocab_size must be >= 2"),
])
def test_bad_settings_are_refused_by_name(setting, message):
    with pytest.raises(ConfigError, match=message):
        override(PretrainConfig(), [setting])


def test_built_directly_the_config_checks_too():
    with pytest.raises(ConfigError, match="eval_every must be >= 1, got 0"):
        TrainConfig(eval_every=0)
    with pytest.raises(ConfigError, match=r"precision must be one of \['auto', 'fp32', 'bf16', 'fp16'\]"):
        TrainConfig(precision="fp8")
    with pytest.raises(ConfigError, match="val_fraction"):
        DataConfig(val_fraction=1.0)


def test_good_settings_pass_and_optional_ones_may_be_none():
    cfg = override(PretrainConfig(), ["train.eval_every=1", "train.seq_len=none", "train.decay_steps=10",
                                      "train.lr=1e-4", "train.min_lr=1e-5"])
    assert cfg.train.eval_every == 1 and cfg.train.seq_len is None and cfg.train.decay_steps == 10


def test_the_sequence_length_must_fit_the_model_context_whatever_the_order_of_overrides():
    with pytest.raises(ConfigError, match=r"train\.seq_len=128 is longer than model\.max_seq_len=64"):
        override(PretrainConfig(), ["model.max_seq_len=64", "train.seq_len=128"])
    cfg = override(PretrainConfig(), ["train.seq_len=128", "model.max_seq_len=128"])
    assert cfg.seq_len == 128
