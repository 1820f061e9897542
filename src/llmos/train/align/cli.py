"""`llmos sft`, `llmos reward`, `llmos ppo`, `llmos dpo`: align a model from the command line.

Each reads a base model (an HF-format folder or a run folder, e.g. one written
by `llmos train`) and a JSONL file, and writes a run folder whose `model/` is
an HF folder that `llmos generate` and `llmos serve` read. Settings are
`key=value` overrides of the method's config (`lr=1e-5 beta=0.2 steps=500`);
`--resume` continues an interrupted run from its last checkpoint with the
settings saved in its train_config.json (overrides given again still apply).
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import textwrap
import typing
from pathlib import Path
from typing import Any, Callable, Iterator

from llmos.config import ConfigError, load_config, override
from llmos.train.align.dpo import DPOConfig
from llmos.train.align.loop import AlignConfig
from llmos.train.align.ppo import PPOConfig
from llmos.train.align.reward import RewardConfig
from llmos.train.align.sft import SFTConfig
from llmos.train.run_folder import MODEL, RUN_CONFIG


def settings_help(cls: type[AlignConfig]) -> str:
    """The "Settings:" paragraph of a verb's --help, from its config's fields (the method's own first).

    Written from the dataclass, so a setting added to a config shows in --help without anyone
    remembering to list it.
    """
    shared = [f.name for f in dataclasses.fields(AlignConfig)]
    own = [f.name for f in dataclasses.fields(cls) if f.name not in shared]
    hints = typing.get_type_hints(cls)

    def show(name: str) -> str:
        choices = typing.get_args(hints[name]) if typing.get_origin(hints[name]) is typing.Literal else ()
        return f"{name} ({'|'.join(map(str, choices))})" if choices else name

    parts = ", ".join(map(show, own)) + ("; " if own else "") + ", ".join(map(show, shared))
    return textwrap.fill(f"Settings: {parts}.", width=96, subsequent_indent="    ")


def _with_settings(cls: type[AlignConfig]) -> Callable[[Callable], Callable]:
    """Fill the SETTINGS line of the decorated verb's docstring from `cls`."""
    def decorate(fn: Callable) -> Callable:
        fn.__doc__ = fn.__doc__.replace("SETTINGS", settings_help(cls).replace("\n", "\n    "))
        return fn
    return decorate


@contextlib.contextmanager
def _named_errors() -> Iterator[None]:
    """Bad data files and model folders end the command with their message, not a traceback."""
    from llmos.hub import CheckpointError
    from llmos.train.align.data import DataError
    try:
        yield
    except (DataError, CheckpointError, FileNotFoundError) as e:
        raise ConfigError(str(e)) from None


def _config(cls: type, out: Path, resume: bool, overrides: list[str] | None) -> Any:
    saved = out / RUN_CONFIG
    cfg = load_config(cls, saved) if resume and saved.exists() else cls()
    return override(cfg, overrides or [])


def _load_base(model: Path, device: str):
    from llmos.hub import load_pretrained
    policy, tokenizer = load_pretrained(model, device=device)
    if tokenizer is None:
        raise ConfigError(f"{model} has no tokenizer.json; alignment needs the model's tokenizer beside it")
    return policy, tokenizer


def _align(cls: type[AlignConfig], model: Path, out: Path, resume: bool, overrides: list[str] | None,
           train: Callable[..., Any], done: str, before: Callable[[Any], Any] | None = None) -> None:
    """The body every alignment verb shares: settings, base model, train, say where the result is.

    train(base, tokenizer, cfg, extra) runs the method; `before(cfg)`, if given, is done before
    the base model loads (PPO's reward) and its result is passed on as `extra`.
    """
    with _named_errors():
        cfg = _config(cls, out, resume, overrides)
        extra = before(cfg) if before is not None else None
        base, tokenizer = _load_base(model, cfg.device)
        train(base, tokenizer, cfg, extra)
        print(done)


def load_reward_fn(spec: str) -> Callable[[list[str], list[str]], list[float]]:
    """'package.module:function' or 'path/to/file.py:function' -> the function."""
    if ":" not in spec:
        raise ConfigError(f"reward function {spec!r} must look like module:function or file.py:function")
    where, name = spec.rsplit(":", 1)
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise ConfigError(f"reward function file {path} does not exist")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as e:
            raise ConfigError(f"cannot import {where!r} for the reward function ({e})") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise ConfigError(f"{where} has no function {name!r}")
    return fn


@_with_settings(SFTConfig)
def sft(model: Path, data: Path, out: Path, resume: bool = False, overrides: list[str] | None = None) -> None:
    """Supervised fine-tuning on prompt/response pairs (loss on the response only).

    SETTINGS

    Args:
        model: base model: an HF-format folder or a run folder.
        data: JSONL, one {"prompt": ..., "response": ...} per line.
        out: run folder to write (config, checkpoint, metrics, plot, model/).
        resume: continue the run in `out` from its last checkpoint.
        overrides: settings such as lr=3e-5 steps=500 batch_size=16.
    """
    from llmos.train.align.data import load_sft
    from llmos.train.align.sft import train_sft
    _align(SFTConfig, model, out, resume, overrides, done=f"model written to {out / MODEL}",
           train=lambda base, tok, cfg, _: train_sft(base, tok, load_sft(data), out, cfg, resume=resume))


@_with_settings(RewardConfig)
def reward(model: Path, data: Path, out: Path, resume: bool = False, overrides: list[str] | None = None) -> None:
    """Train a reward model (the LM with a scalar head) on preference pairs.

    SETTINGS

    Args:
        model: backbone: an HF-format folder or a run folder.
        data: JSONL, one {"prompt": ..., "chosen": ..., "rejected": ...} per line.
        out: run folder to write; the head is saved beside model/ as reward_head.safetensors.
        resume: continue the run in `out` from its last checkpoint.
        overrides: settings such as lr=5e-5 eval_fraction=0.1.
    """
    from llmos.train.align.data import load_pairs
    from llmos.train.align.reward import train_reward
    _align(RewardConfig, model, out, resume, overrides, done=f"reward model written to {out}",
           train=lambda base, tok, cfg, _: train_reward(base, tok, load_pairs(data), out, cfg, resume=resume))


@_with_settings(DPOConfig)
def dpo(model: Path, data: Path, out: Path, resume: bool = False, overrides: list[str] | None = None) -> None:
    """Direct Preference Optimization against a frozen copy of the base model.

    Variants by setting: loss_type=ipo (IPO), label_smoothing=0.1 (conservative
    DPO), reference_free=true.

    SETTINGS

    Args:
        model: base (reference) model: an HF-format folder or a run folder.
        data: JSONL, one {"prompt": ..., "chosen": ..., "rejected": ...} per line.
        out: run folder to write (config, checkpoint, metrics, plot, model/).
        resume: continue the run in `out` from its last checkpoint.
        overrides: settings such as beta=0.1 lr=1e-5 steps=300.
    """
    from llmos.train.align.data import load_pairs
    from llmos.train.align.dpo import train_dpo
    _align(DPOConfig, model, out, resume, overrides, done=f"model written to {out / MODEL}",
           train=lambda base, tok, cfg, _: train_dpo(base, tok, load_pairs(data), out, cfg, resume=resume))


@_with_settings(PPOConfig)
def ppo(model: Path, prompts: Path, out: Path, reward_model: Path | None = None, reward_fn: str | None = None,
        resume: bool = False, overrides: list[str] | None = None) -> None:
    """RLHF with PPO: a KL penalty to the base model, reward from a reward model or a Python function.

    SETTINGS

    Args:
        model: base policy (and frozen reference): an HF-format folder or a run folder.
        prompts: JSONL, one {"prompt": ...} per line.
        out: run folder to write (config, checkpoint, metrics, plot, model/).
        reward_model: a run folder written by `llmos reward`.
        reward_fn: instead, a function (prompts, completions) -> list[float], as module:function or file.py:function.
        resume: continue the run in `out` from its last checkpoint.
        overrides: settings such as kl_coef=0.05 max_new_tokens=32 steps=200.
    """
    from llmos.train.align.data import load_prompts
    from llmos.train.align.ppo import train_ppo
    from llmos.train.align.reward import reward_function
    if (reward_model is None) == (reward_fn is None):
        raise ConfigError("give exactly one of --reward-model (a `llmos reward` run) "
                          "or --reward-fn (module:function)")

    def scorer(cfg: PPOConfig):
        if reward_fn is not None:
            return load_reward_fn(reward_fn)
        from llmos.train.align.heads import RewardModel
        rm, rm_tokenizer = RewardModel.load(reward_model, device=cfg.device)
        return reward_function(rm, rm_tokenizer, cfg.max_len, cfg.max_prompt_len)

    _align(PPOConfig, model, out, resume, overrides, done=f"model written to {out / MODEL}", before=scorer,
           train=lambda base, tok, cfg, score: train_ppo(base, tok, load_prompts(prompts), out, cfg, score,
                                                         resume=resume))
