"""The run-folder layout: names, and reading back the settings a run started with."""
import pytest

from llmos.config import ConfigError, override, save_config
from llmos.train.align.dpo import DPOConfig
from llmos.train.config import PretrainConfig
from llmos.train.run_folder import MODEL, RUN_CONFIG, has_final_model, is_run, load_run_config


def test_settings_round_trip_through_the_run_folder(tmp_path):
    cfg = override(PretrainConfig(), ["train.max_steps=7", "model.n_layers=2"])
    assert not is_run(tmp_path)
    save_config(cfg, tmp_path / RUN_CONFIG)
    assert is_run(tmp_path) and load_run_config(tmp_path) == cfg
    save_config(DPOConfig(beta=0.3), tmp_path / "dpo" / RUN_CONFIG)
    assert load_run_config(tmp_path / "dpo", DPOConfig).beta == 0.3


def test_a_folder_that_is_not_a_run_or_holds_bad_settings_is_named(tmp_path):
    with pytest.raises(ConfigError, match=f"has no {RUN_CONFIG}; is it a training run folder"):
        load_run_config(tmp_path)
    (tmp_path / RUN_CONFIG).write_text('{"train": {"eval_every": 0}}')
    with pytest.raises(ConfigError, match="eval_every must be >= 1"):
        load_run_config(tmp_path)
    (tmp_path / RUN_CONFIG).write_text('{"train": ')
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_run_config(tmp_path)


def test_a_finished_run_is_one_whose_model_folder_has_a_config(tmp_path):
    assert not has_final_model(tmp_path)
    (tmp_path / MODEL).mkdir()
    (tmp_path / MODEL / "config.json").write_text("{}")
    assert has_final_model(tmp_path)
