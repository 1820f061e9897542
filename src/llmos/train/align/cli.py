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
import importlib
import importlib.util
from pathlib import Path
from typing import Any, Callable, Iterator

from llmos.config import ConfigError, load_config, override
from llmos.train.pretrain import RUN_CONFIG


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
    cfg = override(cfg, overrides or [])
    return cfg


def _load_base(model: Path, device: str):
    from llmos.hub import load_pretrained
    policy, tokenizer = load_pretrained(model, device=device)
    if tokenizer is None:
        raise ConfigError(f"{model} has no tokenizer.json; alignment needs the model's tokenizer beside it")
    return policy, tokenizer


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


def sft(model: Path, data: Path, out: Path, resume: bool = False, overrides: list[str] | None = None) -> None:
    """Supervised fine-tuning on prompt/response pairs (loss on the response only).

    Settings: steps, batch_size, lr, warmup_steps, schedule (constant|cosine), weight_decay,
    grad_clip, max_len, max_prompt_len, eval_fraction, eval_every, log_every, save_every,
    keep_checkpoints, seed, device.

    Args:
        model: base model: an HF-format folder or a run folder.
        data: JSONL, one {"prompt": ..., "response": ...} per line.
        out: run folder to write (config, checkpoint, metrics, plot, model/).
        resume: continue the run in `out` from its last checkpoint.
        overrides: settings such as lr=3e-5 steps=500 batch_size=16.
    """
    with _named_errors():
        from llmos.train.align.data import load_sft
        from llmos.train.align.sft import SFTConfig, train_sft
        cfg = _config(SFTConfig, out, resume, overrides)
        policy, tokenizer = _load_base(model, cfg.device)
        train_sft(policy, tokenizer, load_sft(data), out, cfg, resume=resume)
        print(f"model written to {out / 'model'}")


def reward(model: Path, data: Path, out: Path, resume: bool = False, overrides: list[str] | None = None) -> None:
    """Train a reward model (the LM with a scalar head) on preference pairs.

    Settings: steps, batch_size, lr, warmup_steps, schedule (constant|cosine), weight_decay,
    grad_clip, max_len, max_prompt_len, eval_fraction, eval_every, log_every, save_every,
    keep_checkpoints, seed, device.

    Args:
        model: backbone: an HF-format folder or a run folder.
        data: JSONL, one {"prompt": ..., "chosen": ..., "rejected": ...} per line.
        out: run folder to write; the head is saved beside model/ as reward_head.safetensors.
        resume: continue the run in `out` from its last checkpoint.
        overrides: settings such as lr=5e-5 eval_fraction=0.1.
    """
    with _named_errors():
        from llmos.train.align.data import load_pairs
        from llmos.train.align.reward import RewardConfig, train_reward
        cfg = _config(RewardConfig, out, resume, overrides)
        backbone, tokenizer = _load_base(model, cfg.device)
        train_reward(backbone, tokenizer, load_pairs(data), out, cfg, resume=resume)
        print(f"reward model written to {out}")


def dpo(model: Path, data: Path, out: Path, resume: bool = False, overrides: list[str] | None = None) -> None:
    """Direct Preference Optimization against a frozen copy of the base model.

    Variants by setting: loss_type=ipo (IPO), label_smoothing=0.1 (conservative
    DPO), reference_free=true.

    Settings: beta, loss_type (sigmoid|ipo), label_smoothing, reference_free; steps, batch_size,
    lr, warmup_steps, schedule (constant|cosine), weight_decay, grad_clip, max_len,
    max_prompt_len, eval_fraction, eval_every, log_every, save_every, keep_checkpoints, seed,
    device.

    Args:
        model: base (reference) model: an HF-format folder or a run folder.
        data: JSONL, one {"prompt": ..., "chosen": ..., "rejected": ...} per line.
        out: run folder to write (config, checkpoint, metrics, plot, model/).
        resume: continue the run in `out` from its last checkpoint.
        overrides: settings such as beta=0.1 lr=1e-5 steps=300.
    """
    with _named_errors():
        from llmos.train.align.data import load_pairs
        from llmos.train.align.dpo import DPOConfig, train_dpo
        cfg = _config(DPOConfig, out, resume, overrides)
        policy, tokenizer = _load_base(model, cfg.device)
        train_dpo(policy, tokenizer, load_pairs(data), out, cfg, resume=resume)
        print(f"model written to {out / 'model'}")


def ppo(model: Path, prompts: Path, out: Path, reward_model: Path | None = None, reward_fn: str | None = None,
        resume: bool = False, overrides: list[str] | None = None) -> None:
    """RLHF with PPO: a KL penalty to the base model, reward from a reward model or a Python function.

    Settings: kl_coef, gamma, lam, cliprange, cliprange_value, vf_coef, ppo_epochs,
    num_minibatches, max_new_tokens, temperature, missing_eos_penalty; steps, batch_size, lr,
    warmup_steps, schedule (constant|cosine), weight_decay, grad_clip, max_len, max_prompt_len,
    eval_fraction, eval_every, log_every, save_every, keep_checkpoints, seed, device.

    Args:
        model: base policy (and frozen reference): an HF-format folder or a run folder.
        prompts: JSONL, one {"prompt": ...} per line.
        out: run folder to write (config, checkpoint, metrics, plot, model/).
        reward_model: a run folder written by `llmos reward`.
        reward_fn: instead, a function (prompts, completions) -> list[float], as module:function or file.py:function.
        resume: continue the run in `out` from its last checkpoint.
        overrides: settings such as kl_coef=0.05 max_new_tokens=32 steps=200.
    """
    with _named_errors():
        from llmos.train.align.data import load_prompts
        from llmos.train.align.ppo import PPOConfig, train_ppo
        from llmos.train.align.reward import reward_function
        if (reward_model is None) == (reward_fn is None):
            raise ConfigError("give exactly one of --reward-model (a `llmos reward` run) "
                              "or --reward-fn (module:function)")
        cfg = _config(PPOConfig, out, resume, overrides)
        if reward_model is not None:
            from llmos.train.align.heads import RewardModel
            rm, rm_tokenizer = RewardModel.load(reward_model, device=cfg.device)
            score = reward_function(rm, rm_tokenizer, cfg.max_len, cfg.max_prompt_len)
        else:
            score = load_reward_fn(reward_fn)
        policy, tokenizer = _load_base(model, cfg.device)
        train_ppo(policy, tokenizer, load_prompts(prompts), out, cfg, score, resume=resume)
        print(f"model written to {out / 'model'}")
