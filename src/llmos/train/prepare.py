"""A run's data: its tokenizer and its packed token shards, made once and kept in the run folder.

    RUN/tokenizer/   tokenizer.json + tokenizer_config.json
    RUN/data/        tokens_000.bin ... + meta.json (train/val split, unigram entropy)

Both live inside the run so a run is self-contained: resuming, evaluating or
sampling it later never depends on the corpus still being where it was.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llmos.config import ConfigError
from llmos.text.corpus import describe_corpus, read_corpus
from llmos.text.shards import ShardMeta, pack, read_meta
from llmos.text.tokenizer import Tokenizer
from llmos.train.config import DataConfig


@dataclass
class PreparedData:
    tokenizer: Tokenizer
    meta: ShardMeta
    folder: Path              # the shards
    description: str          # one line about the corpus


def _wanted(cfg: DataConfig) -> dict:
    return {"corpus": cfg.corpus, "tokenizer": cfg.tokenizer, "val_fraction": cfg.val_fraction,
            "seed": cfg.seed, "vocab_size": cfg.vocab_size if cfg.tokenizer == "bpe" else None}


def prepare_data(cfg: DataConfig, run_dir: str | Path, log=print) -> PreparedData:
    """Build (or reuse) the tokenizer and shards for `cfg` under `run_dir`."""
    run_dir = Path(run_dir)
    tok_dir, data_dir = run_dir / "tokenizer", run_dir / "data"
    if (tok_dir / "tokenizer.json").exists() and (data_dir / "meta.json").exists():
        meta = read_meta(data_dir)
        if meta.extra.get("data_config") == _wanted(cfg):
            return PreparedData(Tokenizer.load(tok_dir), meta, data_dir, meta.extra.get("description", ""))
        raise ConfigError(f"{run_dir} already holds data prepared with {meta.extra.get('data_config')}, "
                          f"not {_wanted(cfg)}; use a new run folder (--run-dir) for different data settings")
    docs = read_corpus(cfg.corpus)
    description = describe_corpus(cfg.corpus, docs)
    log(f"corpus: {description}")
    tokenizer = make_tokenizer(cfg, docs, log)
    tokenizer.save(tok_dir)
    # meta.json keeps the settings the data was made with, so a later start can tell.
    meta = pack(docs, tokenizer, data_dir, val_fraction=cfg.val_fraction, seed=cfg.seed,
                corpus=str(cfg.corpus), extra={"data_config": _wanted(cfg), "description": description})
    log(f"packed {meta.n_tokens:,} tokens ({meta.split:,} train, {meta.n_tokens - meta.split:,} val) "
        f"with a {tokenizer.kind} tokenizer of {tokenizer.vocab_size:,} tokens")
    return PreparedData(tokenizer, meta, data_dir, description)


def make_tokenizer(cfg: DataConfig, docs: list[str], log=print) -> Tokenizer:
    """char / bpe (trained on `docs`) / a tokenizer.json or HF folder."""
    if cfg.tokenizer == "char":
        return Tokenizer.char(docs)
    if cfg.tokenizer == "bpe":
        log(f"training a byte-level BPE tokenizer with {cfg.vocab_size:,} tokens")
        return Tokenizer.train_bpe(docs, cfg.vocab_size)
    path = Path(cfg.tokenizer)
    if not path.exists():
        raise ConfigError(f"data.tokenizer={cfg.tokenizer!r} is neither 'char', 'bpe' nor an existing "
                          "tokenizer.json file or Hugging Face folder")
    return Tokenizer.load(path)


def load_prepared(run_dir: str | Path) -> PreparedData:
    """What `prepare_data` made, for processes that did not make it."""
    run_dir = Path(run_dir)
    meta = read_meta(run_dir / "data")
    return PreparedData(Tokenizer.load(run_dir / "tokenizer"), meta, run_dir / "data",
                        meta.extra.get("description", ""))
