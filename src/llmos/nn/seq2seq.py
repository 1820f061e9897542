"""The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al. 2017).

    src, tgt_in (token ids)
    x = E_src[src] * sqrt(d_model) + PE          (sec. 3.4: embeddings scaled; 3.5: sinusoids)
    memory = Encoder(x)                           N layers: self-attention, feed-forward
    y = E_tgt[tgt_in] * sqrt(d_model) + PE
    h = Decoder(y, memory)                        N layers: causal self-attention,
                                                  cross-attention over memory, feed-forward
    logits = h W_out                              W_out = E_tgt^T when tied (sec. 3.4)

Training feeds the whole target at once (teacher forcing):
`model(src, tgt_in, src_padding_mask, tgt_padding_mask) -> logits (B, T, V)`.
Decoding encodes once, then runs the decoder one token at a time:

    memory = model.encode(src, src_padding_mask)
    state = model.new_state(memory, src_padding_mask, max_len)
    logits = model.decode_step(tokens, state)     # (B, T_new, V), appends to state

The state keeps the decoder's self-attention keys/values in a KV cache and the
cross-attention keys/values of the memory, projected once; `state.reorder(rows)`
lets beam search continue the chosen beams.

Padding masks are (B, T) booleans, True at padding, as in `torch.nn.Transformer`'s
`*_key_padding_mask` (`model.padding_mask(ids)` makes one from `pad_id`).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from llmos.nn.attention import causal_mask
from llmos.nn.kv_cache import KVCache
from llmos.nn.positions import SinusoidalPositions
from llmos.nn.seq2seq_layers import Decoder, Encoder


@dataclass
class Seq2SeqConfig:
    src_vocab_size: int = 32000
    tgt_vocab_size: int = 32000
    d_model: int = 512
    n_heads: int = 8
    d_ff: int = 2048
    n_encoder_layers: int = 6
    n_decoder_layers: int = 6
    dropout: float = 0.1                 # residual, attention-weight, feed-forward and embedding dropout
    activation: str = "relu"
    norm_first: bool = False             # False: post-norm (the paper); True: pre-norm
    norm_eps: float = 1e-5
    final_norm: bool = True              # LayerNorm after each stack, as torch.nn.Transformer
    max_len: int = 512                   # longest source or target sequence
    share_embeddings: bool = False       # one table for source and target (needs one vocabulary)
    tie_output: bool = True              # output projection = target embedding table
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2

    def __post_init__(self) -> None:
        for name in ("src_vocab_size", "tgt_vocab_size", "d_model", "n_heads", "d_ff",
                     "n_encoder_layers", "n_decoder_layers", "max_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}")
        if self.share_embeddings and self.src_vocab_size != self.tgt_vocab_size:
            raise ValueError(f"share_embeddings needs one vocabulary, but src_vocab_size={self.src_vocab_size} "
                             f"and tgt_vocab_size={self.tgt_vocab_size}; set both equal or share_embeddings=False")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @classmethod
    def base(cls, src_vocab_size: int = 32000, tgt_vocab_size: int | None = None,
             **overrides: Any) -> "Seq2SeqConfig":
        """The paper's base model (Table 3): N=6, d_model=512, 8 heads, d_ff=2048, dropout 0.1."""
        preset = dict(d_model=512, n_heads=8, d_ff=2048, n_encoder_layers=6, n_decoder_layers=6,
                      dropout=0.1, activation="relu", norm_first=False)
        return cls(src_vocab_size=src_vocab_size,
                   tgt_vocab_size=src_vocab_size if tgt_vocab_size is None else tgt_vocab_size,
                   **{**preset, **overrides})

    def replace(self, **changes: Any) -> "Seq2SeqConfig":
        return dataclasses.replace(self, **changes)


@dataclass
class Seq2SeqAttentions:
    """Attention weights per layer, each (B, H, T_query, T_key)."""
    encoder: list[Tensor]
    decoder_self: list[Tensor]
    cross: list[Tensor]


@dataclass
class DecoderState:
    """What incremental decoding carries from one step to the next."""
    cache: KVCache                          # decoder self-attention keys/values, one slot per row
    cross_kv: list[tuple[Tensor, Tensor]]   # per layer: memory's keys, values (B, H, S, D)
    cross_mask: Tensor | None               # (B, 1, 1, S) True at real source tokens

    @property
    def length(self) -> int:
        """Target tokens decoded so far (every row has the same count)."""
        return int(self.cache.lengths.max()) if self.cache.n_slots else 0

    def reorder(self, rows: Tensor | list[int]) -> None:
        """Keep rows in this order (new row i = old row rows[i]); rows may repeat."""
        idx = torch.as_tensor(rows, device=self.cache.lengths.device).long()
        self.cache.reorder(idx)
        self.cross_kv = [(k.index_select(0, idx), v.index_select(0, idx)) for k, v in self.cross_kv]
        if self.cross_mask is not None:
            self.cross_mask = self.cross_mask.index_select(0, idx)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        cfg = self.config = config
        stack = dict(d_model=cfg.d_model, n_heads=cfg.n_heads, d_ff=cfg.d_ff, dropout=cfg.dropout,
                     activation=cfg.activation, norm_first=cfg.norm_first, eps=cfg.norm_eps,
                     final_norm=cfg.final_norm)
        self.src_emb = nn.Embedding(cfg.src_vocab_size, cfg.d_model)
        self.tgt_emb = self.src_emb if cfg.share_embeddings else nn.Embedding(cfg.tgt_vocab_size, cfg.d_model)
        self.positions = SinusoidalPositions(cfg.max_len, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.encoder = Encoder(cfg.n_encoder_layers, **stack)
        self.decoder = Decoder(cfg.n_decoder_layers, **stack)
        self.out_proj = nn.Linear(cfg.d_model, cfg.tgt_vocab_size, bias=False)
        self._init()
        if cfg.tie_output:
            self.out_proj.weight = self.tgt_emb.weight

    def _init(self) -> None:
        # Xavier for every matrix (as torch.nn.Transformer); embeddings N(0, 1/d) so that
        # after the sqrt(d_model) scale they have unit variance, like the position codes.
        for name, p in self.named_parameters():
            if "emb" in name:
                nn.init.normal_(p, std=self.config.d_model ** -0.5)
            elif p.dim() > 1:
                nn.init.xavier_uniform_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    # ------------------------------------------------------------------ pieces
    def padding_mask(self, ids: Tensor) -> Tensor:
        """(B, T) True where ids == pad_id."""
        return ids == self.config.pad_id

    def embed(self, ids: Tensor, table: nn.Embedding, positions: Tensor | None = None) -> Tensor:
        """ids (B, T) -> E[ids] * sqrt(d_model) + PE[positions]  (B, T, C)."""
        b, t = ids.shape
        if positions is None:
            positions = torch.arange(t, device=ids.device).expand(b, t)
        last = int(positions.max()) if positions.numel() else 0
        if last >= self.config.max_len:
            raise ValueError(f"position {last} is past max_len={self.config.max_len}; "
                             "shorten the sequence or build the model with a larger max_len")
        return self.drop(table(ids) * math.sqrt(self.config.d_model) + self.positions(positions))

    @staticmethod
    def _keep(padding_mask: Tensor | None, ids: Tensor, name: str) -> Tensor | None:
        """(B, S) True-at-padding -> (B, 1, 1, S) True-where-attention-may-look."""
        if padding_mask is None:
            return None
        if padding_mask.shape != ids.shape:
            raise ValueError(f"{name} has shape {tuple(padding_mask.shape)} but the ids have "
                             f"{tuple(ids.shape)}; give one flag per token (True at padding)")
        return ~padding_mask.bool()[:, None, None, :]

    # ------------------------------------------------------------------ full passes
    def encode(self, src: Tensor, src_padding_mask: Tensor | None = None, need_weights: bool = False):
        """src (B, S) -> memory (B, S, C); with need_weights, (memory, per-layer weights)."""
        memory, weights = self.encoder(self.embed(src, self.src_emb),
                                       self._keep(src_padding_mask, src, "src_padding_mask"), need_weights)
        return (memory, weights) if need_weights else memory

    def decode(self, tgt_in: Tensor, memory: Tensor, src_padding_mask: Tensor | None = None,
               tgt_padding_mask: Tensor | None = None, need_weights: bool = False):
        """Teacher-forced decoder pass. tgt_in (B, T) -> logits (B, T, V)
        (with need_weights: (logits, self-attention weights, cross-attention weights))."""
        t = tgt_in.shape[1]
        self_mask = None                                                     # None = plain causal
        if tgt_padding_mask is not None:
            keep = self._keep(tgt_padding_mask, tgt_in, "tgt_padding_mask")  # (B, 1, 1, T)
            self_mask = keep & causal_mask(t, t, tgt_in.device)              # (B, 1, T, T)
        cross_mask = None if src_padding_mask is None else ~src_padding_mask.bool()[:, None, None, :]
        h, w_self, w_cross = self.decoder(self.embed(tgt_in, self.tgt_emb), memory, self_mask, cross_mask,
                                          need_weights=need_weights)
        logits = self.out_proj(h)                                            # (B, T, V)
        return (logits, w_self, w_cross) if need_weights else logits

    def forward(self, src: Tensor, tgt_in: Tensor, src_padding_mask: Tensor | None = None,
                tgt_padding_mask: Tensor | None = None, need_weights: bool = False):
        """src (B, S), tgt_in (B, T) -> logits (B, T, V) for the next target tokens.

        With need_weights, returns (logits, Seq2SeqAttentions).
        """
        if need_weights:
            memory, w_enc = self.encode(src, src_padding_mask, need_weights=True)
            logits, w_self, w_cross = self.decode(tgt_in, memory, src_padding_mask, tgt_padding_mask, True)
            return logits, Seq2SeqAttentions(w_enc, w_self, w_cross)
        memory = self.encode(src, src_padding_mask)
        return self.decode(tgt_in, memory, src_padding_mask, tgt_padding_mask)

    # ------------------------------------------------------------------ incremental decoding
    def new_state(self, memory: Tensor, src_padding_mask: Tensor | None = None,
                  max_len: int | None = None) -> DecoderState:
        """Start decoding against `memory` (B, S, C); room for max_len target tokens."""
        cfg = self.config
        b = memory.shape[0]
        cache = KVCache(cfg.n_decoder_layers, b, cfg.n_heads, max_len or cfg.max_len,
                        cfg.d_model // cfg.n_heads, memory.dtype, memory.device)
        cross_kv = [layer.cross_attn.project_kv(memory) for layer in self.decoder.layers]
        cross_mask = None if src_padding_mask is None else ~src_padding_mask.bool()[:, None, None, :]
        return DecoderState(cache, cross_kv, cross_mask)

    def decode_step(self, tokens: Tensor, state: DecoderState, need_weights: bool = False):
        """tokens (B, T_new) continuing every row -> logits (B, T_new, V); the state advances.

        With need_weights: (logits, self-attention weights, cross-attention weights).
        """
        if tokens.shape[0] != state.cache.n_slots:
            raise ValueError(f"tokens have {tokens.shape[0]} rows but the decoder state has "
                             f"{state.cache.n_slots}; reorder the state to match the batch")
        step = state.cache.step(tokens.shape[1])
        x = self.embed(tokens, self.tgt_emb, step.positions)                   # (B, T_new, C)
        h, w_self, w_cross = self.decoder(x, state.cross_kv, None, state.cross_mask, cache=step,
                                          need_weights=need_weights)
        step.commit()
        logits = self.out_proj(h)
        return (logits, w_self, w_cross) if need_weights else logits

    @torch.no_grad()
    def greedy(self, src: Tensor, src_padding_mask: Tensor | None = None,
               max_new_tokens: int | None = None) -> Tensor:
        """Greedy decoding with the KV cache. Returns (B, 1 + n) ids starting with bos_id;
        rows that have produced eos_id are filled with pad_id afterwards."""
        cfg = self.config
        n = cfg.max_len - 1 if max_new_tokens is None else max_new_tokens
        state = self.new_state(self.encode(src, src_padding_mask), src_padding_mask, n + 1)
        tokens = torch.full((src.shape[0], 1), cfg.bos_id, dtype=torch.long, device=src.device)
        out, done = [tokens], torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(n):
            nxt = self.decode_step(tokens, state)[:, -1].argmax(-1)           # (B,)
            nxt = nxt.masked_fill(done, cfg.pad_id)
            out.append(nxt[:, None])
            done |= nxt == cfg.eos_id
            if bool(done.all()):
                break
            tokens = nxt[:, None]
        return torch.cat(out, dim=1)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
