"""Synthetic sequence-to-sequence tasks: small, exact, and made on the spot.

An encoder-decoder needs a task whose answer is a function of the whole input,
that anyone can regenerate bit-for-bit, and whose success is unambiguous.
Two such tasks live here, shared by the RNN seq2seq model (`llmos.classic`)
and the Transformer encoder-decoder (`llmos.train`), so both are measured on
exactly the same pairs:

- ``dates``: a calendar date written in one of several human formats
  ("march 5, 1997", "5 mar 1997", "03/05/1997", "wednesday, march 5th, 1997",
  ...) goes to ISO 8601 ("1997-03-05"). The model must read month names,
  ordinals and field order, and reorder digits.
- ``reverse``: a random string of letters goes to the same string backwards;
  the output's first character depends on the input's last, so attention (or
  memory) must span the whole input. Its length is a parameter, which makes it
  the task for measuring cost against sequence length.

Both use one tiny character vocabulary (`VOCAB`: PAD=0, BOS=1, EOS=2, then
characters). The held-out split never shares an answer with training (for dates,
a held-out date is never seen in any format), so held-out exact match measures
generalisation, not recall.

    task = make_task("dates", n_train=20_000, n_test=1_000, seed=0)
    for batch in batches(task.train, batch_size=64, seed=0):
        logits = model(batch.src, batch.src_mask, batch.tgt_in)         # (B, T, V)
        loss = F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(),
                               ignore_index=IGNORE_INDEX)
    exact_match(predictions, [tgt for _, tgt in task.test])
"""
from __future__ import annotations

import dataclasses
import datetime
import random
from collections.abc import Iterator, Sequence
from typing import Literal

import torch

IGNORE_INDEX = -100  # label value that cross-entropy skips (padding in `tgt_out`)

Pair = tuple[str, str]  # (source text, target text)


class CharVocab:
    """Characters to ids, with three special tokens first: PAD=0, BOS=1, EOS=2."""

    specials = ("<pad>", "<bos>", "<eos>")
    pad_id, bos_id, eos_id = 0, 1, 2

    def __init__(self, chars: str):
        if len(set(chars)) != len(chars):
            raise ValueError(f"CharVocab: characters must be distinct, got {chars!r}")
        self.chars = chars
        self._index = {c: i + len(self.specials) for i, c in enumerate(chars)}

    @property
    def size(self) -> int:
        return len(self.specials) + len(self.chars)

    def encode(self, text: str, bos: bool = False, eos: bool = False) -> list[int]:
        try:
            ids = [self._index[c] for c in text]
        except KeyError as e:
            raise ValueError(f"CharVocab: character {e.args[0]!r} in {text!r} is not in the "
                             f"vocabulary {self.chars!r}") from None
        return [self.bos_id] * bos + ids + [self.eos_id] * eos

    def decode(self, ids: Sequence[int]) -> str:
        """Text up to the first EOS; PAD and BOS are dropped."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos_id:
                break
            if i >= len(self.specials):
                out.append(self.chars[i - len(self.specials)])
        return "".join(out)


ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 ,-/."
VOCAB = CharVocab(ALPHABET)  # the vocabulary of every task here (size 44)


@dataclasses.dataclass(frozen=True)
class Seq2SeqTask:
    """A named task: disjoint train and held-out pairs over one vocabulary."""

    name: str
    train: list[Pair]
    test: list[Pair]
    vocab: CharVocab = VOCAB

    @property
    def max_src_len(self) -> int:
        return max(len(s) for s, _ in self.train + self.test)

    @property
    def max_tgt_len(self) -> int:
        """Longest target in characters, not counting BOS/EOS."""
        return max(len(t) for _, t in self.train + self.test)


# ---------------------------------------------------------------- dates

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _formats(d: datetime.date) -> list[str]:
    """Every way the dates task writes `d` (month/day/year orders, names, ordinals)."""
    month, mon = MONTHS[d.month - 1], MONTHS[d.month - 1][:3]
    return [
        f"{month} {d.day}, {d.year}",                          # march 5, 1997
        f"{mon} {d.day} {d.year}",                             # mar 5 1997
        f"{d.day} {month} {d.year}",                           # 5 march 1997
        f"{d.day:02d} {mon} {d.year}",                         # 05 mar 1997
        f"{d.month:02d}/{d.day:02d}/{d.year}",                 # 03/05/1997
        f"{d.year}.{d.month:02d}.{d.day:02d}",                 # 1997.03.05
        f"{month} {_ordinal(d.day)}, {d.year}",                # march 5th, 1997
        f"{WEEKDAYS[d.weekday()]}, {month} {d.day}, {d.year}",  # wednesday, march 5, 1997
        f"the {_ordinal(d.day)} of {month}, {d.year}",         # the 5th of march, 1997
    ]


DATE_FORMATS = len(_formats(datetime.date(2000, 1, 1)))


def date_task(n_train: int = 20_000, n_test: int = 1_000, seed: int = 0,
              first_year: int = 1950, last_year: int = 2049) -> Seq2SeqTask:
    """Human-written dates to ISO 8601; held-out dates never appear in training.

    Dates are split first (a seeded shuffle of every day in the year range), then
    each example writes its date in a format drawn uniformly; training pairs are
    distinct strings.
    """
    first, last = datetime.date(first_year, 1, 1), datetime.date(last_year, 12, 31)
    days = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    if n_test >= len(days) or n_train < 1:
        raise ValueError(f"date_task: n_test={n_test} must leave days for training "
                         f"({len(days)} days in {first_year}..{last_year}) and n_train must be >= 1")
    capacity = (len(days) - n_test) * DATE_FORMATS
    if n_train > capacity:
        raise ValueError(f"date_task: n_train={n_train} exceeds the {capacity} distinct pairs "
                         f"available; widen the year range or lower n_train")
    rng = random.Random(seed)
    rng.shuffle(days)
    test_days, train_days = days[:n_test], days[n_test:]
    test = [(rng.choice(_formats(d)), d.isoformat()) for d in test_days]
    seen: set[str] = set()
    train: list[Pair] = []
    while len(train) < n_train:
        d = rng.choice(train_days)
        src = rng.choice(_formats(d))
        if src not in seen:
            seen.add(src)
            train.append((src, d.isoformat()))
    return Seq2SeqTask("dates", train, test)


# ---------------------------------------------------------------- reversal

def reverse_task(n_train: int = 20_000, n_test: int = 1_000, seed: int = 0,
                 min_len: int = 4, max_len: int = 12,
                 letters: str = "abcdefghijklmnopqrstuvwxyz") -> Seq2SeqTask:
    """Random letter strings to themselves reversed; train and held-out strings are distinct."""
    if not 1 <= min_len <= max_len:
        raise ValueError(f"reverse_task: need 1 <= min_len <= max_len, got {min_len}, {max_len}")
    capacity = sum(len(letters) ** n for n in range(min_len, max_len + 1))
    if n_train + n_test > capacity // 2:  # keep rejection sampling of distinct strings quick
        raise ValueError(f"reverse_task: {n_train + n_test} distinct strings asked of only {capacity} "
                         f"of length {min_len}..{max_len}; lower n_train/n_test or raise max_len")
    VOCAB.encode(letters)  # every letter must be in the shared vocabulary
    rng = random.Random(seed)
    seen: set[str] = set()
    pairs: list[Pair] = []
    while len(pairs) < n_train + n_test:
        s = "".join(rng.choices(letters, k=rng.randint(min_len, max_len)))
        if s not in seen:
            seen.add(s)
            pairs.append((s, s[::-1]))
    return Seq2SeqTask("reverse", pairs[n_test:], pairs[:n_test])


TASKS = {"dates": date_task, "reverse": reverse_task}


def make_task(name: Literal["dates", "reverse"], **kwargs) -> Seq2SeqTask:
    """Build a task by name; keyword arguments go to `date_task` / `reverse_task`."""
    if name not in TASKS:
        raise ValueError(f"unknown synthetic task {name!r}; choose one of {sorted(TASKS)}")
    return TASKS[name](**kwargs)


# ---------------------------------------------------------------- batching

@dataclasses.dataclass
class Seq2SeqBatch:
    """Padded tensors for one step of teacher-forced training.

    src      (B, S)  source ids, PAD on the right
    src_mask (B, S)  True where `src` is a real token (False on padding)
    tgt_in   (B, T)  BOS + target ids, PAD on the right (the decoder's input)
    tgt_out  (B, T)  target ids + EOS, IGNORE_INDEX on the right (the labels)
    """

    src: torch.Tensor
    src_mask: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor

    def to(self, device: torch.device | str) -> Seq2SeqBatch:
        return Seq2SeqBatch(*(t.to(device) for t in dataclasses.astuple(self)))


def _pad(rows: list[list[int]], value: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def collate(pairs: Sequence[Pair], vocab: CharVocab = VOCAB) -> Seq2SeqBatch:
    """Encode and right-pad a list of (source, target) pairs into one batch."""
    if not pairs:
        raise ValueError("collate: no pairs to batch")
    src = _pad([vocab.encode(s) for s, _ in pairs], vocab.pad_id)
    tgt = [vocab.encode(t) for _, t in pairs]
    tgt_in = _pad([[vocab.bos_id] + t for t in tgt], vocab.pad_id)
    tgt_out = _pad([t + [vocab.eos_id] for t in tgt], IGNORE_INDEX)
    return Seq2SeqBatch(src, src != vocab.pad_id, tgt_in, tgt_out)


def batches(pairs: Sequence[Pair], batch_size: int, vocab: CharVocab = VOCAB,
            shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> Iterator[Seq2SeqBatch]:
    """One pass over `pairs` in batches; the order is a seeded shuffle (or as given)."""
    if batch_size < 1:
        raise ValueError(f"batches: batch_size must be >= 1, got {batch_size}")
    order = list(range(len(pairs)))
    if shuffle:
        random.Random(seed).shuffle(order)
    for i in range(0, len(order), batch_size):
        chunk = order[i:i + batch_size]
        if drop_last and len(chunk) < batch_size:
            return
        yield collate([pairs[j] for j in chunk], vocab)


def exact_match(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Fraction of predictions equal to their reference, character for character."""
    if len(predictions) != len(references):
        raise ValueError(f"exact_match: {len(predictions)} predictions for {len(references)} references")
    if not references:
        raise ValueError("exact_match: nothing to score")
    return sum(p == r for p, r in zip(predictions, references)) / len(references)
