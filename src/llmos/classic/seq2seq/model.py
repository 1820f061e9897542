"""A recurrent encoder-decoder with attention (Bahdanau et al., 2015; Luong et al., 2015).

    src ids (B, S) --embed--> bidirectional LSTM/GRU --> memory h_1..h_S (B, S, 2H)
    decoder state s_0 = tanh(W_bridge [h_fwd_S ; h_bwd_1])

    for t = 1..T (one step at a time: step t needs s_{t-1}):
        c_t, a_t = attention(s_{t-1}, memory)             context and weights over the source
        s_t      = cell([E y_{t-1} ; c_t], s_{t-1})       LSTMCell / GRUCell
        o_t      = tanh(W_o [s_t ; c_t])
        logits_t = W_v o_t

The loop over t is the point of this model beside the Transformer: training
with teacher forcing still runs T dependent steps, where the Transformer's
decoder handles all T positions in one parallel pass.

The interface matches `llmos.nn.seq2seq.Seq2SeqTransformer`, so one training
loop and one benchmark drive both:
`forward(src, tgt_in, src_padding_mask) -> logits (B, T, V)` and
`greedy(src, src_padding_mask, max_new_tokens) -> ids (B, 1 + n)` starting with
BOS, PAD after EOS. Padding masks are True at padding.
"""
from __future__ import annotations

import dataclasses
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from llmos.classic.seq2seq.attention import RNNAttention


@dataclasses.dataclass
class RNNSeq2SeqConfig:
    vocab_size: int                     # one vocabulary for source and target
    emb_dim: int = 64
    hidden: int = 128                   # per encoder direction, and the decoder's state size
    encoder_layers: int = 1
    cell: Literal["lstm", "gru"] = "lstm"
    attention: Literal["bahdanau", "luong"] = "bahdanau"
    dropout: float = 0.0
    max_len: int = 64                   # default cap on generated tokens
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2

    def __post_init__(self):
        if self.cell not in ("lstm", "gru"):
            raise ValueError(f"RNNSeq2SeqConfig.cell must be 'lstm' or 'gru', got {self.cell!r}")
        if min(self.vocab_size, self.emb_dim, self.hidden, self.encoder_layers) < 1:
            raise ValueError("RNNSeq2SeqConfig: vocab_size, emb_dim, hidden, encoder_layers must be >= 1")


class RNNSeq2Seq(nn.Module):
    def __init__(self, config: RNNSeq2SeqConfig):
        super().__init__()
        self.config = cfg = config
        H = cfg.hidden
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.emb_dim, padding_idx=cfg.pad_id)
        rnn = nn.LSTM if cfg.cell == "lstm" else nn.GRU
        self.encoder = rnn(cfg.emb_dim, H, num_layers=cfg.encoder_layers, batch_first=True,
                           bidirectional=True, dropout=cfg.dropout if cfg.encoder_layers > 1 else 0.0)
        self.bridge = nn.Linear(2 * H, H)                    # encoder's last states -> decoder's first
        cell = nn.LSTMCell if cfg.cell == "lstm" else nn.GRUCell
        self.cell = cell(cfg.emb_dim + 2 * H, H)
        self.attention = RNNAttention(H, 2 * H, cfg.attention)
        self.combine = nn.Linear(3 * H, H)                    # [s_t ; c_t] -> o_t
        self.out = nn.Linear(H, cfg.vocab_size)
        self.drop = nn.Dropout(cfg.dropout)

    # ------------------------------------------------------------ encoder
    def encode(self, src: Tensor, src_padding_mask: Tensor | None = None):
        """src (B, S) -> memory (B, S, 2H), initial decoder state, attention keys (B, S, A)."""
        x = self.drop(self.embedding(src))                                      # (B, S, E)
        lengths = (src.shape[1] - src_padding_mask.sum(1) if src_padding_mask is not None
                   else torch.full((src.shape[0],), src.shape[1]))
        # Packing makes the backward direction start at each row's last real token, not at padding.
        packed = pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        out, final = self.encoder(packed)
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])  # (B, S, 2H)
        h_n = final[0] if isinstance(final, tuple) else final                   # (layers*2, B, H)
        last = torch.cat([h_n[-2], h_n[-1]], dim=-1)                            # (B, 2H) fwd and bwd
        s0 = torch.tanh(self.bridge(last))                                      # (B, H)
        state = (s0, torch.zeros_like(s0)) if self.config.cell == "lstm" else s0
        return memory, state, self.attention.prepare(memory)

    # ------------------------------------------------------------ decoder
    def step(self, y_prev: Tensor, state, memory: Tensor, keys: Tensor, src_padding_mask: Tensor | None):
        """One decoder step: y_prev (B,) -> o_t (B, H), new state, attention weights (B, S)."""
        s_prev = state[0] if isinstance(state, tuple) else state                # (B, H)
        context, weights = self.attention(s_prev, keys, memory, src_padding_mask)  # (B, 2H), (B, S)
        x = torch.cat([self.drop(self.embedding(y_prev)), context], dim=-1)      # (B, E + 2H)
        state = self.cell(x, state)
        s = state[0] if isinstance(state, tuple) else state                     # (B, H)
        o = torch.tanh(self.combine(torch.cat([s, context], dim=-1)))           # (B, H)
        return self.drop(o), state, weights

    def forward(self, src: Tensor, tgt_in: Tensor, src_padding_mask: Tensor | None = None,
                tgt_padding_mask: Tensor | None = None, need_weights: bool = False):
        """Teacher forcing: src (B, S), tgt_in (B, T) -> logits (B, T, V) (and weights (B, T, S)).

        tgt_padding_mask is accepted for the shared trainer and not needed: the decoder runs left
        to right, so padding after a target's end never reaches the positions before it.
        """
        memory, state, keys = self.encode(src, src_padding_mask)
        outputs, all_weights = [], []
        for t in range(tgt_in.shape[1]):                                        # sequential by nature
            o, state, w = self.step(tgt_in[:, t], state, memory, keys, src_padding_mask)
            outputs.append(o)
            all_weights.append(w)
        logits = self.out(torch.stack(outputs, dim=1))                          # (B, T, V)
        return (logits, torch.stack(all_weights, dim=1)) if need_weights else logits

    @torch.no_grad()
    def greedy(self, src: Tensor, src_padding_mask: Tensor | None = None,
               max_new_tokens: int | None = None) -> Tensor:
        """Greedy decoding. Returns (B, 1 + n) ids starting with BOS; PAD after a row's EOS."""
        cfg = self.config
        n = cfg.max_len if max_new_tokens is None else max_new_tokens
        memory, state, keys = self.encode(src, src_padding_mask)
        y = torch.full((src.shape[0],), cfg.bos_id, dtype=torch.long, device=src.device)
        out, done = [y], torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(n):
            o, state, _ = self.step(y, state, memory, keys, src_padding_mask)
            y = self.out(o).argmax(-1).masked_fill(done, cfg.pad_id)            # (B,)
            out.append(y)
            done |= y == cfg.eos_id
            if bool(done.all()):
                break
        return torch.stack(out, dim=1)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
