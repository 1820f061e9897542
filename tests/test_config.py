from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from llmos.config import ConfigError, from_dict, load_config, override, read_json, save_config, to_dict


@dataclass
class Inner:
    n_layers: int = 4
    lr: float = 1e-3
    norm: Literal["layernorm", "rmsnorm"] = "layernorm"


@dataclass
class Outer:
    model: Inner = field(default_factory=Inner)
    name: str = "run"
    compile: bool = False
    window: int | None = None
    data: Path = Path("data.txt")
    tags: list[str] = field(default_factory=list)


def test_overrides_parse_by_declared_type():
    cfg = override(Outer(), ["model.n_layers=6", "model.lr=3e-4", "compile=true", "window=none",
                             "data=/tmp/x.txt", "tags=a,b", "model.norm=rmsnorm"])
    assert cfg.model.n_layers == 6 and cfg.model.lr == 3e-4 and cfg.compile is True
    assert cfg.window is None and cfg.data == Path("/tmp/x.txt") and cfg.tags == ["a", "b"]
    assert cfg.model.norm == "rmsnorm"
    assert Outer().model.n_layers == 4          # the original is untouched


@pytest.mark.parametrize("item,msg", [
    ("model.n_layers=six", "model.n_layers"), ("model.width=3", "unknown setting 'model.width'"),
    ("model.norm=batchnorm", "not one of"), ("compile", "key=value"), ("compile=maybe", "compile")])
def test_bad_overrides_name_the_setting(item, msg):
    with pytest.raises(ConfigError, match=msg):
        override(Outer(), [item])


def test_round_trip_through_json(tmp_path):
    cfg = override(Outer(), ["model.n_layers=2", "tags=x"])
    save_config(cfg, tmp_path / "config.json")
    assert load_config(Outer, tmp_path / "config.json") == cfg
    assert from_dict(Outer, to_dict(cfg)) == cfg


def test_corrupt_config_file_is_named(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="corrupt"):
        load_config(Outer, tmp_path / "config.json")


@dataclass
class Window:
    max_len: int = 256
    max_prompt_len: int = 128

    def __post_init__(self):
        if self.max_prompt_len >= self.max_len:
            raise ValueError(f"max_prompt_len={self.max_prompt_len} must be below max_len={self.max_len}")


@dataclass
class Run:
    window: Window = field(default_factory=Window)


def test_overrides_are_applied_together_so_cross_field_checks_see_the_final_values():
    # one at a time, max_len=64 would meet the old max_prompt_len=128 and be refused
    cfg = override(Window(), ["max_len=64", "max_prompt_len=32"])
    assert (cfg.max_len, cfg.max_prompt_len) == (64, 32)
    with pytest.raises(ConfigError, match="max_prompt_len=64 must be below max_len=64"):
        override(Window(), ["max_len=64", "max_prompt_len=64"])


def test_a_nested_config_error_names_the_dotted_key():
    with pytest.raises(ConfigError, match=r"^window\.max_prompt_len=300 must be below"):
        override(Run(), ["window.max_prompt_len=300"])


def test_load_config_runs_the_config_checks(tmp_path):
    (tmp_path / "c.json").write_text('{"max_len": 8, "max_prompt_len": 9}')
    with pytest.raises(ConfigError, match="max_prompt_len=9 must be below max_len=8"):
        load_config(Window, tmp_path / "c.json")
    with pytest.raises(ConfigError, match="no config file"):
        load_config(Window, tmp_path / "missing.json")


def test_read_json_names_the_file_and_raises_the_callers_error(tmp_path):
    class MyError(ValueError):
        pass
    (tmp_path / "a.json").write_text('{"x": [1, 2]}')
    (tmp_path / "b.json").write_text('{"x": ')
    assert read_json(tmp_path / "a.json") == {"x": [1, 2]}
    with pytest.raises(MyError, match=r"b\.json is not valid JSON .*corrupt"):
        read_json(tmp_path / "b.json", MyError)
    with pytest.raises(ConfigError, match=r"no file at .*c\.json"):
        read_json(tmp_path / "c.json")
