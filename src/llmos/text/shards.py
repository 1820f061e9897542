"""Token shards: a tokenized corpus on disk, memory-mapped, with a train/val split.

Packing turns documents into one token stream and writes it in fixed-size
binary shards (`tokens_000.bin`, ...; uint16 when the vocabulary fits, else
uint32) plus `meta.json`:

    stream = doc_1 <|endoftext|> doc_2 <|endoftext|> ... doc_n
             |<------------- train ------------->|<-- val -->|
                                            split = (1 - val_fraction) * n_tokens

Documents are shuffled with a fixed seed first (a folder's last files, or one
kind of document, would otherwise make up the whole validation set); a
single document is kept in order, so one text file splits as nanoGPT splits
it: the first 90% trains, the last 10% validates. Packing is deterministic:
the same corpus, tokenizer and seed give the same bytes.

Reading never loads the corpus into memory: `TokenShards` memory-maps the
shards and copies out only the windows a batch needs.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from llmos.config import atomic_write_text
from llmos.text.tokenizer import Tokenizer

FORMAT = 1


class ShardError(ValueError):
    """Packed data is missing, stale or too small; the message says what to do."""


@dataclass
class ShardMeta:
    """What `meta.json` records about a packed corpus."""
    n_tokens: int
    split: int                        # tokens [0, split) train, [split, n_tokens) validate
    dtype: str
    vocab_size: int
    shards: list[int]                 # tokens per shard file, in order
    n_documents: int
    val_fraction: float
    seed: int
    unigram_entropy: float            # nats/token of the corpus's token frequencies
    corpus: str = ""
    format: int = FORMAT
    extra: dict = field(default_factory=dict)


def pack(docs: list[str], tokenizer: Tokenizer, folder: str | Path, *, val_fraction: float = 0.1,
         seed: int = 0, shard_tokens: int = 1 << 26, corpus: str = "", batch_docs: int = 256,
         extra: dict | None = None) -> ShardMeta:
    """Tokenize `docs` into shards under `folder`; return (and write) the metadata.

    `extra` is stored in `meta.json` as is (e.g. the settings the data was made with)."""
    if not 0.0 < val_fraction < 1.0:
        raise ShardError(f"val_fraction={val_fraction} must be between 0 and 1")
    if not docs:
        raise ShardError("no documents to pack")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("tokens_*.bin"):
        old.unlink()
    order = list(range(len(docs)))
    if len(docs) > 1:
        random.Random(seed).shuffle(order)
    eos = tokenizer.eos_id
    dtype = np.uint16 if tokenizer.vocab_size <= 1 << 16 else np.uint32
    counts = np.zeros(tokenizer.vocab_size, dtype=np.int64)
    shards: list[int] = []
    buffer: list[np.ndarray] = []
    buffered = 0

    def flush(final: bool) -> None:
        nonlocal buffer, buffered
        stream = np.concatenate(buffer) if buffer else np.zeros(0, dtype)
        while len(stream) >= shard_tokens or (final and len(stream)):
            chunk, stream = stream[:shard_tokens], stream[shard_tokens:]
            chunk.tofile(folder / f"tokens_{len(shards):03d}.bin")
            shards.append(len(chunk))
        buffer, buffered = [stream], len(stream)

    for start in range(0, len(order), batch_docs):
        batch = [docs[i] for i in order[start:start + batch_docs]]
        for j, ids in enumerate(tokenizer.encode_batch(batch, add_special_tokens=False)):
            if eos is not None and (start + j) < len(order) - 1:
                ids = ids + [eos]          # separator between documents, none after the last
            arr = np.asarray(ids, dtype=dtype)
            counts += np.bincount(arr, minlength=tokenizer.vocab_size)
            buffer.append(arr)
            buffered += len(arr)
        if buffered >= shard_tokens:
            flush(final=False)
    flush(final=True)
    n = sum(shards)
    p = counts[counts > 0] / max(n, 1)
    meta = ShardMeta(n_tokens=n, split=int(round(n * (1 - val_fraction))), dtype=np.dtype(dtype).name,
                     vocab_size=tokenizer.vocab_size, shards=shards, n_documents=len(docs),
                     val_fraction=val_fraction, seed=seed,
                     unigram_entropy=float(-(p * np.log(p)).sum()), corpus=corpus, extra=extra or {})
    atomic_write_text(folder / "meta.json", json.dumps(asdict(meta), indent=2) + "\n")
    return meta


def read_meta(folder: str | Path) -> ShardMeta:
    path = Path(folder) / "meta.json"
    if not path.exists():
        raise ShardError(f"no packed data at {folder} (meta.json missing); pack the corpus first")
    try:
        meta = ShardMeta(**json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError) as e:
        raise ShardError(f"{path} is corrupt ({e}); delete {folder} to re-pack the corpus") from None
    if meta.format != FORMAT:
        raise ShardError(f"{path} has format {meta.format}, this llmos reads {FORMAT}; re-pack the corpus")
    return meta


class TokenShards:
    """One split ("train" or "val") of a packed corpus, read through memory maps."""

    def __init__(self, folder: str | Path, split: str = "train") -> None:
        if split not in ("train", "val"):
            raise ShardError(f"split must be 'train' or 'val', not {split!r}")
        self.folder = Path(folder)
        self.meta = read_meta(folder)
        self.split = split
        self.lo, self.hi = (0, self.meta.split) if split == "train" else (self.meta.split, self.meta.n_tokens)
        self.maps = []
        for i, n in enumerate(self.meta.shards):
            path = self.folder / f"tokens_{i:03d}.bin"
            size = path.stat().st_size if path.exists() else -1
            if size != n * np.dtype(self.meta.dtype).itemsize:
                raise ShardError(f"shard {path} is missing or truncated ({size} bytes, expected "
                                 f"{n * np.dtype(self.meta.dtype).itemsize}); delete {folder} to re-pack")
            self.maps.append(np.memmap(path, dtype=self.meta.dtype, mode="r", shape=(n,)))
        self.offsets = np.concatenate([[0], np.cumsum(self.meta.shards)])

    def __len__(self) -> int:
        return self.hi - self.lo

    def window(self, start: int, length: int) -> np.ndarray:
        """Tokens [start, start + length) of this split as int64 (may span two shards)."""
        if start < 0 or start + length > len(self):
            raise IndexError(f"window [{start}, {start + length}) is outside the {self.split} split "
                             f"of {len(self)} tokens")
        a, b = self.lo + start, self.lo + start + length
        out, pos = [], a
        while pos < b:
            k = int(np.searchsorted(self.offsets, pos, side="right")) - 1
            end = min(b, int(self.offsets[k + 1]))
            out.append(self.maps[k][pos - self.offsets[k]:end - self.offsets[k]])
            pos = end
        return np.concatenate(out).astype(np.int64)

    def n_windows(self, length: int) -> int:
        """How many distinct start positions a window of `length` tokens has."""
        return max(0, len(self) - length + 1)

    def check_fits(self, seq_len: int) -> None:
        if self.n_windows(seq_len + 1) < 1:
            raise ShardError(f"the {self.split} split has {len(self)} tokens, fewer than one sequence of "
                             f"{seq_len + 1}; use a larger corpus, a larger val_fraction or a shorter context")
