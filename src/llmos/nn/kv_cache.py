"""A static, preallocated key/value cache for incremental decoding.

Decoding one token at a time re-uses every earlier key and value, so they are
kept rather than recomputed (the cache turns an O(T^2) re-run per token into
O(T) work). The buffers are allocated once at full size, as in gpt-fast, so
memory use is known up front and no step reallocates.

Each row (a "slot") holds one sequence and has its own length, so a batch can
mix sequences of different lengths: this is what continuous batching needs.
A forward pass writes its new keys at each row's current length:

    cache = KVCache(n_layers, slots, n_kv_heads, max_len, head_dim)
    step = cache.step(T, slots=rows, attention_mask=mask)   # plan the write
    k_all, v_all = step.update(layer, k, v)                 # in every layer
    step.commit()                                           # advance lengths

Layout: k, v (L, S, Hkv, max_len, D); lengths (S,); valid (S, max_len) marks
real tokens (False at left padding); pos (S, max_len) is each stored token's
position id (padding does not count), used by rotary embeddings and
sliding-window attention.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from llmos.nn import fused


class CacheFullError(RuntimeError):
    pass


class KVCache:
    def __init__(self, n_layers: int, n_slots: int, n_kv_heads: int, max_len: int, head_dim: int,
                 dtype: torch.dtype = torch.float32, device: torch.device | str | None = None):
        shape = (n_layers, n_slots, n_kv_heads, max_len, head_dim)
        self.k = torch.zeros(shape, dtype=dtype, device=device)
        self.v = torch.zeros(shape, dtype=dtype, device=device)
        self.lengths = torch.zeros(n_slots, dtype=torch.long, device=device)
        self.valid = torch.zeros(n_slots, max_len, dtype=torch.bool, device=device)
        self.pos = torch.zeros(n_slots, max_len, dtype=torch.long, device=device)
        self.max_len = max_len

    @property
    def n_slots(self) -> int:
        return self.k.shape[1]

    def reset(self, slots: Tensor | list[int] | None = None) -> None:
        """Empty the given slots (all by default) so new sequences can use them."""
        idx = slice(None) if slots is None else torch.as_tensor(slots, device=self.lengths.device)
        self.lengths[idx] = 0
        self.valid[idx] = False

    def truncate(self, slot: int, length: int) -> None:
        """Forget everything past the first `length` tokens of `slot`.

        Speculative decoding writes a draft's guesses into the cache and then
        keeps only the accepted ones."""
        if not 0 <= length <= int(self.lengths[slot]):
            raise ValueError(f"cannot truncate slot {slot} of length {int(self.lengths[slot])} to {length}")
        self.lengths[slot] = length
        self.valid[slot, length:] = False

    def reorder(self, slots: Tensor | list[int]) -> None:
        """Keep the given slots, in this order (new slot i = old slot slots[i]).

        Beam search uses this after each step: every surviving beam continues
        one parent's prefix, so it takes that parent's keys and values. Slots
        may repeat (two beams sharing a parent), and their count may differ
        from before (expanding B sequences into B * beam slots).
        """
        idx = torch.as_tensor(slots, device=self.lengths.device).long()
        self.k, self.v = self.k.index_select(1, idx), self.v.index_select(1, idx)
        self.lengths, self.valid, self.pos = self.lengths[idx], self.valid[idx], self.pos[idx]

    def step(self, n_new: int, slots: Tensor | None = None,
             attention_mask: Tensor | None = None) -> "CacheStep":
        """Plan writing n_new tokens into `slots` (default rows 0..B-1)."""
        device = self.lengths.device
        if slots is None and attention_mask is None and self.n_slots == 1:
            return self._step_one(n_new)
        if slots is None:
            b = attention_mask.shape[0] if attention_mask is not None else None
            rows = torch.arange(b if b is not None else self.n_slots, device=device)
        else:
            rows = torch.as_tensor(slots, device=device).long()
        start = self.lengths[rows]                                          # (B,)
        end = int((start + n_new).max())
        self._check_room(n_new, end)
        write = start[:, None] + torch.arange(n_new, device=device)        # (B, T)
        new_valid = (torch.ones(len(rows), n_new, dtype=torch.bool, device=device)
                     if attention_mask is None else attention_mask.bool())
        # position ids continue from the number of real tokens already stored
        before = torch.arange(self.max_len, device=device)[None, :] < start[:, None]
        seen = (self.valid[rows] & before).sum(-1)                          # (B,)
        positions = seen[:, None] + new_valid.long().cumsum(-1) - 1
        positions = positions.clamp(min=0)                                  # (B, T)
        contiguous = slots is None
        return CacheStep(self, rows, write, new_valid, positions, end, contiguous)

    def _check_room(self, n_new: int, end: int) -> None:
        if end > self.max_len:
            raise CacheFullError(f"KV cache holds {self.max_len} tokens per sequence; writing "
                                 f"{n_new} more would need {end}. Allocate a longer cache "
                                 "(model.new_cache(..., max_len=...)) or shorten the input.")

    def _step_one(self, n_new: int) -> "CacheStep":
        """`step` for a cache of one sequence and no padding in the new tokens (decoding one
        prompt): the same plan, written with slices instead of index tensors (a decoding step
        of a small model is mostly such bookkeeping)."""
        device = self.lengths.device
        start = int(self.lengths[0])
        end = start + n_new
        self._check_room(n_new, end)
        seen = int(self.valid[0, :start].sum()) if start else 0         # real tokens before this write
        return CacheStep(self, torch.zeros(1, dtype=torch.long, device=device),
                         torch.arange(start, end, device=device)[None],
                         torch.ones(1, n_new, dtype=torch.bool, device=device),
                         torch.arange(seen, seen + n_new, device=device)[None], end, True, span=start)


@dataclass
class CacheStep:
    """One forward pass's write into the cache."""
    cache: KVCache
    rows: Tensor        # (B,) cache slots of the batch rows
    write: Tensor       # (B, T) where each new token goes
    new_valid: Tensor   # (B, T) real (True) or padding (False)
    positions: Tensor   # (B, T) position ids of the new tokens
    end: int            # keys to read: 0 .. end-1
    contiguous: bool    # rows are 0..B-1, so reads can be views
    span: int | None = None   # one slot written at span .. end-1, all real: slices, not index tensors

    def __post_init__(self) -> None:
        c, rows, write = self.cache, self.rows, self.write
        if self.span is not None:
            c.valid[0, self.span: self.end] = True
            c.pos[0, self.span: self.end] = self.positions[0]
            return
        c.valid[rows[:, None], write] = self.new_valid
        c.pos[rows[:, None], write] = self.positions

    def update(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store k, v (B, Hkv, T, D); return every stored key/value (B, Hkv, end, D)."""
        c, rows = self.cache, self.rows
        if self.span is not None:
            c.k[layer, 0, :, self.span: self.end] = k[0]
            c.v[layer, 0, :, self.span: self.end] = v[0]
            return c.k[layer, :1, :, : self.end], c.v[layer, :1, :, : self.end]
        c.k[layer, rows[:, None], :, self.write] = k.transpose(1, 2).to(c.k.dtype)   # (B, T, Hkv, D)
        c.v[layer, rows[:, None], :, self.write] = v.transpose(1, 2).to(c.v.dtype)
        if self.contiguous:
            b = rows.shape[0]
            return c.k[layer, :b, :, : self.end], c.v[layer, :b, :, : self.end]
        return c.k[layer, rows, :, : self.end], c.v[layer, rows, :, : self.end]

    def attend_one(self, layer: int, q: Tensor, k: Tensor, v: Tensor, scale: float) -> Tensor | None:
        """Store and attend in one fused pass, for one new token per row (nn/fused.py).

        q (B, H, 1, D), k, v (B, Hkv, 1, D) -> (B, H, 1, D), the same as `update` followed by
        attention over every stored key, or None where the fused operator does not apply
        (rows not 0..B-1, several new tokens, a non-fp32 cache); the caller then takes that path.
        Every row must see all `end` keys (no mask), as when the rows are equally long.
        """
        c = self.cache
        if not (self.contiguous and self.write.shape[1] == 1 and c.k.dtype == torch.float32
                and q.shape[-1] % 8 == 0):
            return None
        b = self.rows.shape[0]
        out = fused.attend_step(q.reshape(b, q.shape[1], -1), k.reshape(b, k.shape[1], -1).contiguous(),
                                v.reshape(b, v.shape[1], -1).contiguous(), c.k[layer, :b], c.v[layer, :b],
                                self.end - 1, scale)
        return out[:, :, None]

    def key_valid(self) -> Tensor:
        """(B, end) which stored keys are real tokens."""
        if self.span is not None:
            return self.cache.valid[:1, : self.end]
        return self.cache.valid[self.rows, : self.end]

    def key_positions(self) -> Tensor:
        """(B, end) position ids of the stored keys."""
        if self.span is not None:
            return self.cache.pos[:1, : self.end]
        return self.cache.pos[self.rows, : self.end]

    def query_slots(self) -> Tensor:
        """(B, T) physical index of each new token (for the causal mask)."""
        return self.write

    def commit(self) -> None:
        if self.span is not None:
            self.cache.lengths[0] = self.end
            return
        self.cache.lengths[self.rows] = self.write[:, -1] + 1
