"""A BERT-style encoder (Devlin et al. 2019) and sentence embeddings from it.

BERT is the Transformer's encoder stack on its own, post-norm, with GELU:

    x_0 = LayerNorm(E_word[ids] + E_pos[0..T-1] + E_type[token_types])     eps 1e-12
    x_l = EncoderLayer(x_{l-1})        self-attention over real tokens, then a GELU MLP,
                                       each as LayerNorm(x + Sublayer(x))
    pooled = tanh(W x_L[CLS])          (optional; the next-sentence head's input)

Sentence embeddings (Sentence-BERT, Reimers & Gurevych 2019) average the last
hidden states over the real tokens and, for cosine search, scale to length 1:

    e = sum_t m_t x_L[t] / sum_t m_t        m = attention mask (1 real, 0 padding)
    e = e / ||e||_2

One difference from the original in training only: dropout sits where
`torch.nn.TransformerEncoderLayer` puts it (one rate for attention weights,
feed-forward and residuals). Inference is unaffected.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from llmos.nn.norms import LayerNorm
from llmos.nn.seq2seq_layers import Encoder


@dataclass
class BertConfig:
    vocab_size: int = 30522
    d_model: int = 768
    n_layers: int = 12
    n_heads: int = 12
    d_ff: int = 3072
    max_position: int = 512
    type_vocab_size: int = 2
    activation: str = "gelu"             # the exact (erf) GELU
    norm_eps: float = 1e-12
    dropout: float = 0.1
    pad_id: int = 0
    pooler: bool = True                  # the tanh layer over [CLS]

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "d_ff", "max_position"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}")


@dataclass
class BertOutput:
    last_hidden_state: Tensor                 # (B, T, C)
    pooled: Tensor | None = None              # (B, C) tanh(W x[CLS]), when the config has a pooler
    attentions: list[Tensor] | None = None    # per layer (B, H, T, T), when asked


class BertEmbeddings(nn.Module):
    def __init__(self, cfg: BertConfig):
        super().__init__()
        self.word_emb = nn.Embedding(cfg.vocab_size, cfg.d_model, padding_idx=cfg.pad_id)
        self.pos_emb = nn.Embedding(cfg.max_position, cfg.d_model)
        self.type_emb = nn.Embedding(cfg.type_vocab_size, cfg.d_model)
        self.norm = LayerNorm(cfg.d_model, cfg.norm_eps)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, ids: Tensor, token_type_ids: Tensor) -> Tensor:   # (B, T) -> (B, T, C)
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_emb(ids) + self.pos_emb(positions)[None] + self.type_emb(token_type_ids)
        return self.drop(self.norm(x))


def mean_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """(B, T, C), (B, T) 1 = real -> (B, C): the average over real tokens."""
    m = attention_mask.to(hidden.dtype)[..., None]                      # (B, T, 1)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        cfg = self.config = config
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = Encoder(cfg.n_layers, cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout,
                               cfg.activation, norm_first=False, eps=cfg.norm_eps, final_norm=False)
        self.pooler = nn.Linear(cfg.d_model, cfg.d_model) if cfg.pooler else None
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)                   # BERT's initializer_range
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            with torch.no_grad():
                module.weight[module.padding_idx].zero_()

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, need_weights: bool = False) -> BertOutput:
        """input_ids (B, T); attention_mask (B, T) 1 = real token, 0 = padding; token_type_ids (B, T)."""
        b, t = input_ids.shape
        if t > self.config.max_position:
            raise ValueError(f"{t} tokens is more than this model's {self.config.max_position} positions; "
                             "truncate the input")
        if attention_mask is not None and attention_mask.shape != input_ids.shape:
            raise ValueError(f"attention_mask has shape {tuple(attention_mask.shape)} but input_ids has "
                             f"{tuple(input_ids.shape)}")
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        mask = None if attention_mask is None else attention_mask.bool()[:, None, None, :]   # (B, 1, 1, T)
        x = self.embeddings(input_ids, token_type_ids)
        x, weights = self.encoder(x, mask, need_weights)
        pooled = torch.tanh(self.pooler(x[:, 0])) if self.pooler is not None else None
        return BertOutput(x, pooled, weights if need_weights else None)

    def sentence_embeddings(self, input_ids: Tensor, attention_mask: Tensor | None = None,
                            normalize: bool = True) -> Tensor:
        """(B, T) -> (B, C): mean of the last hidden states over real tokens, optionally unit length."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        e = mean_pool(self(input_ids, attention_mask).last_hidden_state, attention_mask)
        return nn.functional.normalize(e, p=2, dim=-1) if normalize else e
