"""The layout of a training run folder, shared by `llmos train`, the alignment verbs and the demo.

    RUN/train_config.json    the run's settings, what `--resume` reads back (RUN_CONFIG)
    RUN/checkpoints/         step_*.pt, written atomically (CHECKPOINTS)
    RUN/metrics.jsonl        one row per logged step (METRICS), drawn as a PNG beside it
    RUN/model/               the final model as an HF folder (MODEL): `llmos generate RUN` reads it

`config.json` is left to the HF folder at RUN/model/, so the run's own
settings have a name of their own.
"""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from llmos.config import ConfigError, load_config
from llmos.train.config import PretrainConfig

RUN_CONFIG = "train_config.json"
CHECKPOINTS = "checkpoints"
METRICS = "metrics.jsonl"
MODEL = "model"

T = TypeVar("T")


def is_run(run_dir: str | Path) -> bool:
    """Whether `run_dir` was started by a training run (it holds RUN_CONFIG)."""
    return (Path(run_dir) / RUN_CONFIG).is_file()


def has_final_model(run_dir: str | Path) -> bool:
    """Whether the run finished and wrote its model."""
    return (Path(run_dir) / MODEL / "config.json").is_file()


def load_run_config(run_dir: str | Path, cls: type[T] = PretrainConfig) -> T:
    """The configuration a run folder was started with (a PretrainConfig unless `cls` says otherwise)."""
    if not is_run(run_dir):
        raise ConfigError(f"{run_dir} has no {RUN_CONFIG}; is it a training run folder?")
    return load_config(cls, Path(run_dir) / RUN_CONFIG)
