from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from llmos.config import ConfigError, from_dict, load_config, override, save_config, to_dict


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
