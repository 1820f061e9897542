"""Alignment data: JSONL files of prompts, responses and preference pairs, as token batches.

Three record shapes, one JSON object per line:

    SFT:         {"prompt": "...", "response": "..."}          ("completion" also accepted)
    preferences: {"prompt": "...", "chosen": "...", "rejected": "..."}
    prompts:     {"prompt": "..."}                              (PPO rollouts)

A bad line is reported by file and line number with what is wrong, so a
100,000-line file with one broken record is fixed in one edit.

Tokens: the prompt is encoded with the tokenizer's own special tokens and, when
it does not already begin with one, a start token (bos, else eos: llmos
pretraining separates documents with eos, so text after it is "a new
document"). The response is encoded without special tokens and ends with eos,
so an aligned model learns where to stop. Prompt and response are encoded
separately and concatenated, so the boundary between them is exact.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor


class DataError(ValueError):
    """An alignment data file is missing or holds a malformed record."""


@dataclass(frozen=True)
class SFTExample:
    prompt: str
    response: str


@dataclass(frozen=True)
class PreferencePair:
    prompt: str
    chosen: str
    rejected: str


def read_jsonl(path: str | Path, required: tuple[str, ...],
               aliases: dict[str, str] | None = None) -> list[dict[str, str]]:
    """Records of a JSONL file, each with string fields `required` (blank lines skipped)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist; give a JSONL file with one "
                        f"{{{', '.join(repr(k) for k in required)}}} object per line")
    aliases = aliases or {}
    records = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(obj, dict):
                raise DataError(f"{where}: expected a JSON object with keys {list(required)}, "
                                f"got {type(obj).__name__}")
            for alias, key in aliases.items():
                if key not in obj and alias in obj:
                    obj[key] = obj[alias]
            for key in required:
                if key not in obj:
                    raise DataError(f"{where}: missing key {key!r} (the record has {sorted(obj)}; "
                                    f"each line needs {list(required)})")
                if not isinstance(obj[key], str):
                    raise DataError(f"{where}: {key!r} must be a string, got {type(obj[key]).__name__}")
            records.append({k: obj[k] for k in required})
    if not records:
        raise DataError(f"{path} holds no records; expected one JSON object per line")
    return records


def load_sft(path: str | Path) -> list[SFTExample]:
    rows = read_jsonl(path, ("prompt", "response"), aliases={"completion": "response"})
    for i, r in enumerate(rows):
        if not r["response"]:
            raise DataError(f"{path}: record {i + 1} has an empty response; there is nothing to learn from it")
    return [SFTExample(**r) for r in rows]


def load_pairs(path: str | Path) -> list[PreferencePair]:
    rows = read_jsonl(path, ("prompt", "chosen", "rejected"))
    return [PreferencePair(**r) for r in rows]


def load_prompts(path: str | Path) -> list[str]:
    return [r["prompt"] for r in read_jsonl(path, ("prompt",))]


def save_jsonl(records: list, path: str | Path) -> None:
    """Write dataclass records (or dicts) as JSONL."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r if isinstance(r, dict) else r.__dict__, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------- tokens
def start_id(tokenizer) -> int | None:
    return tokenizer.bos_id if tokenizer.bos_id is not None else tokenizer.eos_id


def encode_prompt(tokenizer, prompt: str, max_prompt_len: int | None = None) -> list[int]:
    """Prompt ids, led by a start token; long prompts keep their end (nearest the response)."""
    ids = tokenizer.encode(prompt)
    start = start_id(tokenizer)
    if start is not None and (not ids or ids[0] != start):
        ids = [start] + ids
    if max_prompt_len is not None and len(ids) > max_prompt_len:
        ids = ids[:1] + ids[len(ids) - max_prompt_len + 1:] if start is not None else ids[-max_prompt_len:]
    return ids


def encode_response(tokenizer, response: str) -> list[int]:
    """Response ids ending in eos (so the model learns to stop)."""
    ids = tokenizer.encode(response, add_special_tokens=False)
    return ids + [tokenizer.eos_id] if tokenizer.eos_id is not None else ids


@dataclass
class Batch:
    """Right-padded prompt+response sequences.

    response_mask marks the response tokens: the log-probabilities and losses of
    alignment are over those only, never over the prompt.
    """
    input_ids: Tensor       # (B, T) long
    attention_mask: Tensor  # (B, T) 1 = real token
    response_mask: Tensor   # (B, T) 1 = response token

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    def to(self, device) -> "Batch":
        return Batch(self.input_ids.to(device), self.attention_mask.to(device), self.response_mask.to(device))


def make_batch(pairs: list[tuple[list[int], list[int]]], pad_id: int, max_len: int) -> Batch:
    """(prompt ids, response ids) pairs -> a right-padded Batch, each cut to `max_len` tokens."""
    rows = []
    for prompt, response in pairs:
        if len(prompt) >= max_len:
            raise DataError(f"a prompt of {len(prompt)} tokens leaves no room for a response within "
                            f"max_len={max_len}; raise max_len or lower max_prompt_len")
        rows.append((prompt, response[: max_len - len(prompt)]))
    t = max(len(p) + len(r) for p, r in rows)
    ids = torch.full((len(rows), t), pad_id, dtype=torch.long)
    attn = torch.zeros(len(rows), t, dtype=torch.long)
    resp = torch.zeros(len(rows), t, dtype=torch.long)
    for i, (p, r) in enumerate(rows):
        n = len(p) + len(r)
        ids[i, :n] = torch.tensor(p + r)
        attn[i, :n] = 1
        resp[i, len(p):n] = 1
    return Batch(ids, attn, resp)


def concat_batches(a: Batch, b: Batch, pad_id: int) -> Batch:
    """Stack two batches along the batch axis (chosen rows first), padding to the longer."""
    t = max(a.input_ids.shape[1], b.input_ids.shape[1])

    def pad(x: Tensor, value: int) -> Tensor:
        return torch.nn.functional.pad(x, (0, t - x.shape[1]), value=value)
    return Batch(torch.cat([pad(a.input_ids, pad_id), pad(b.input_ids, pad_id)]),
                 torch.cat([pad(a.attention_mask, 0), pad(b.attention_mask, 0)]),
                 torch.cat([pad(a.response_mask, 0), pad(b.response_mask, 0)]))


def sft_batch(tokenizer, examples: list[SFTExample], max_len: int, max_prompt_len: int | None = None) -> Batch:
    pad = tokenizer.pad_id if tokenizer.pad_id is not None else 0
    return make_batch([(encode_prompt(tokenizer, e.prompt, max_prompt_len), encode_response(tokenizer, e.response))
                       for e in examples], pad, max_len)


def pair_batch(tokenizer, pairs: list[PreferencePair], max_len: int,
               max_prompt_len: int | None = None) -> Batch:
    """Chosen and rejected sequences in one batch: rows 0..n-1 chosen, n..2n-1 rejected.

    One forward pass over both halves (as TRL's concatenated_forward does) costs
    one model call instead of two and keeps batch statistics shared.
    """
    pad = tokenizer.pad_id if tokenizer.pad_id is not None else 0
    prompts = [encode_prompt(tokenizer, p.prompt, max_prompt_len) for p in pairs]
    chosen = make_batch([(q, encode_response(tokenizer, p.chosen)) for q, p in zip(prompts, pairs)], pad, max_len)
    rejected = make_batch([(q, encode_response(tokenizer, p.rejected)) for q, p in zip(prompts, pairs)], pad, max_len)
    return concat_batches(chosen, rejected, pad)
