"""Prefix caching: reuse the keys and values of prompt prefixes the engine already computed.

An agent resends its long system prompt, and a chat resends its whole history
plus one new turn, at every request. The keys and values of a token depend
only on the tokens before it, so those of a shared prefix are the same for
every request that starts with it: they can be copied instead of recomputed.

The token sequence is cut into blocks of `block_size` tokens. Block i is
named by a hash of every token up to its end (a chain: h_i = H(h_{i-1}, block_i)),
so equal names mean equal prefixes, as in vLLM's automatic prefix caching:

    tokens   [ b0 ][ b1 ][ b2 ][ b3 ][..]      h0 = H(b0), h1 = H(h0, b1), ...
    stored   h0 -> K, V of b0  (L, Hkv, block, D) each
             h1 -> K, V of b1 ...

A new prompt walks its own chain and takes the longest run of stored blocks
(keeping at least its last token to compute, whose logits start generation),
copies their K, V into its cache slot and prefills only the rest. Blocks are
kept within a memory budget, evicting the least recently used.

Keys are stored after rotary embedding, which is right because a prefix's
tokens sit at the same positions (0, 1, ...) in every prompt that shares it.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import Tensor

from llmos.nn.kv_cache import KVCache


@dataclass
class PrefixHit:
    """The cached blocks a prompt starts with."""
    n_tokens: int                  # prompt tokens covered (a multiple of the block size)
    keys: list[bytes]              # the blocks' names, in order


class PrefixCache:
    def __init__(self, block_size: int = 16, budget_bytes: int = 256 * 2**20):
        if block_size < 1:
            raise ValueError(f"block_size must be >= 1, got {block_size}")
        self.block_size = block_size
        self.budget_bytes = budget_bytes
        self._blocks: OrderedDict[bytes, tuple[Tensor, Tensor]] = OrderedDict()   # oldest first
        self.bytes = 0
        self.hits = self.misses = 0          # lookups that found / did not find a block
        self.tokens_reused = 0

    def __len__(self) -> int:
        return len(self._blocks)

    def _names(self, tokens: list[int], n_blocks: int) -> list[bytes]:
        names, h = [], b""
        B = self.block_size
        for i in range(n_blocks):
            block = tokens[i * B:(i + 1) * B]
            h = hashlib.blake2b(h + b"".join(t.to_bytes(4, "little") for t in block), digest_size=16).digest()
            names.append(h)
        return names

    def lookup(self, prompt: list[int]) -> PrefixHit:
        """The longest cached run of whole blocks at the start of `prompt`, leaving >= 1 token."""
        n_blocks = (len(prompt) - 1) // self.block_size
        found = []
        for name in self._names(prompt, n_blocks):
            if name not in self._blocks:
                break
            found.append(name)
        for name in found:                   # recently used: evicted last
            self._blocks.move_to_end(name)
        if found:
            self.hits += 1
            self.tokens_reused += len(found) * self.block_size
        else:
            self.misses += 1
        return PrefixHit(len(found) * self.block_size, found)

    def load(self, hit: PrefixHit, cache: KVCache, slot: int) -> None:
        """Write the hit's keys and values into an empty cache slot, as if its prefix were prefilled."""
        n = hit.n_tokens
        k = torch.cat([self._blocks[name][0] for name in hit.keys], dim=2)       # (L, Hkv, n, D)
        v = torch.cat([self._blocks[name][1] for name in hit.keys], dim=2)
        cache.k[:, slot, :, :n] = k
        cache.v[:, slot, :, :n] = v
        cache.valid[slot] = False
        cache.valid[slot, :n] = True
        cache.pos[slot, :n] = torch.arange(n, device=cache.pos.device)
        cache.lengths[slot] = n

    def store(self, tokens: list[int], cache: KVCache, slot: int, offset: int) -> None:
        """Keep the whole blocks of `tokens`, whose keys and values sit in `slot` from `offset` on
        (offset: the slot's left padding). Blocks already kept are only marked used."""
        B = self.block_size
        n_blocks = len(tokens) // B
        if n_blocks == 0 or self.budget_bytes <= 0:
            return
        for i, name in enumerate(self._names(tokens, n_blocks)):
            if name in self._blocks:
                self._blocks.move_to_end(name)
                continue
            span = slice(offset + i * B, offset + (i + 1) * B)
            k = cache.k[:, slot, :, span].clone()                                  # (L, Hkv, B, D)
            v = cache.v[:, slot, :, span].clone()
            size = 2 * k.numel() * k.element_size()
            if size > self.budget_bytes:
                return
            while self.bytes + size > self.budget_bytes:
                _, (old_k, old_v) = self._blocks.popitem(last=False)
                self.bytes -= 2 * old_k.numel() * old_k.element_size()
            self._blocks[name] = (k, v)
            self.bytes += size

    def clear(self) -> None:
        self._blocks.clear()
        self.bytes = 0
