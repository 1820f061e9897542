"""Decoder-only language models: GPT-2, Llama, Mistral, Qwen2, Mixtral from one config.

    x_0 = E[tokens] (+ P[positions])
    x_l = x_{l-1} + Attn(Norm(x_{l-1}))          pre-norm residual blocks
    x_l = x_l     + FFN(Norm(x_l))               FFN = MLP, SwiGLU, or MoE
    logits = Norm(x_L) W_out                      W_out = E^T when tied

Training: `model(ids, targets=ids_shifted)` returns the mean next-token
cross-entropy (plus the weighted MoE router losses). Decoding:
`cache = model.new_cache(B, max_len)` then `model(ids, cache=cache)` appends to
the cache and reads it back, so each new token costs one position's work.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from llmos.nn import fused
from llmos.nn import hooks as hooks_
from llmos.nn.config import ModelConfig
from llmos.nn.hooks import HookPoint, fire, norm_hooked
from llmos.nn.kv_cache import CacheStep, KVCache
from llmos.nn.linear import Linear
from llmos.nn.mha import MultiHeadAttention
from llmos.nn.mlp import MLP, SwiGLU
from llmos.nn.moe import MoE, RouterStats, load_balancing_loss, router_z_loss
from llmos.nn.norms import make_norm
from llmos.nn.positions import LearnedPositions, RotaryEmbedding, SinusoidalPositions


@dataclass
class ModelOutput:
    logits: Tensor                                   # (B, T, V), or (B, 1, V) with last_only
    loss: Tensor | None = None                       # lm_loss + aux_loss
    lm_loss: Tensor | None = None                    # mean next-token cross-entropy
    aux_loss: Tensor | None = None                   # weighted router losses (MoE only)
    attentions: list[Tensor] | None = None           # per layer (B, H, T, S) when asked
    router_stats: list[RouterStats] | None = None    # per MoE layer
    hidden_states: list[Tensor] | None = None        # embeddings + each block's output


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, layer: int):
        super().__init__()
        self.layer = layer
        self.norm1 = make_norm(cfg.norm, cfg.d_model, cfg.norm_eps)
        self.attn = MultiHeadAttention(cfg.d_model, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim,
                                       qkv_bias=cfg.qkv_bias, out_bias=cfg.out_bias, dropout=cfg.dropout)
        self.norm2 = make_norm(cfg.norm, cfg.d_model, cfg.norm_eps)
        if cfg.n_experts:
            self.ffn: nn.Module = MoE(cfg.d_model, cfg.d_ff, cfg.n_experts, cfg.experts_per_token,
                                      cfg.capacity_factor, act=cfg.activation, bias=cfg.mlp_bias)
        elif cfg.mlp == "swiglu":
            self.ffn = SwiGLU(cfg.d_model, cfg.d_ff, bias=cfg.mlp_bias, act=cfg.activation)
        else:
            self.ffn = MLP(cfg.d_model, cfg.d_ff, act=cfg.activation, bias=cfg.mlp_bias)
        self.drop = nn.Dropout(cfg.dropout)
        self.fused_norm2 = fused.norm_supported(self.norm2)
        # the whole-block decoding step (fused.block_step) takes these blocks; "" = it does not
        self.fused_act = (cfg.activation if cfg.activation in fused.ACT_CODES and not cfg.n_experts
                          and self.fused_norm2 and fused.norm_supported(self.norm1) else "")
        self.fused_rms = cfg.norm == "rmsnorm"
        self.fused_eps = [float(self.norm1.eps), float(self.norm2.eps), self.attn.head_dim ** -0.5]
        self.hook_points: dict[str, HookPoint] = {}               # see nn/hooks.py; empty = no cost

    def forward(self, x: Tensor, mask: Tensor | None, is_causal: bool, rope, cache: CacheStep | None,
                need_weights: bool) -> tuple[Tensor, Tensor | None, RouterStats | None]:
        if self.hook_points:
            return self._forward_hooked(x, mask, is_causal, rope, cache, need_weights)
        if (self.fused_act and cache is not None and mask is None and not need_weights and not self.training
                and x.shape[0] == 1 and (is_causal or x.shape[1] == 1) and fused.decoding(x)):
            out = fused.block_step(self, x, cache, rope, self.fused_act)   # one call for the block
            if out is not None:
                return out, None, None
        h, weights = self.attn(self.norm1(x), mask=mask, is_causal=is_causal, rope=rope,
                               cache=cache, layer=self.layer, need_weights=need_weights)
        if cache is not None and not self.training and self.fused_norm2 and fused.decoding(x):
            x, normed = fused.add_norm(x, h, self.norm2)           # x + h and its norm, one pass
        else:
            x = x + self.drop(h)
            normed = self.norm2(x)
        f = self.ffn(normed)
        stats = None
        if isinstance(f, tuple):
            f, stats = f
        return x + self.drop(f), weights, stats

    def _forward_hooked(self, x: Tensor, mask: Tensor | None, is_causal: bool, rope,
                        cache: CacheStep | None, need_weights: bool):
        """`forward` with the block's hook points fired (names as in nn/hooks.py)."""
        hooked = self.hook_points
        x = fire(hooked, "hook_resid_pre", x)
        h, weights = self.attn(norm_hooked(self.norm1, x, hooked, "ln1."), mask=mask,
                               is_causal=is_causal, rope=rope, cache=cache, layer=self.layer,
                               need_weights=need_weights)
        x = fire(hooked, "hook_resid_mid", x + self.drop(fire(hooked, "hook_attn_out", h)))
        f = self.ffn(norm_hooked(self.norm2, x, hooked, "ln2."))
        stats = None
        if isinstance(f, tuple):
            f, stats = f
        x = x + self.drop(fire(hooked, "hook_mlp_out", f))
        return fire(hooked, "hook_resid_post", x), weights, stats


class CausalLM(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        cfg = self.config = config
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb: nn.Module | None = None
        if cfg.position == "learned":
            self.pos_emb = LearnedPositions(cfg.max_seq_len, cfg.d_model)
        elif cfg.position == "sinusoidal":
            self.pos_emb = SinusoidalPositions(cfg.max_seq_len, cfg.d_model)
        self.rotary = (RotaryEmbedding(cfg.dim_per_head, cfg.rope_theta, cfg.rope_scaling, cfg.rope_interleaved)
                       if cfg.position == "rope" else None)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg, i) for i in range(cfg.n_layers))
        self.norm_f = make_norm(cfg.norm, cfg.d_model, cfg.norm_eps)
        self.lm_head = Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.tok_emb.weight
        self.hook_points: dict[str, HookPoint] = {}               # see nn/hooks.py; empty = no cost
        self.apply(self._init)

    def _init(self, module: nn.Module) -> None:
        std = self.config.init_std
        if isinstance(module, nn.Linear):
            # residual projections scaled by 1/sqrt(2L) (GPT-2 paper, sec. 2.3)
            residual = module in {m for b in self.blocks for m in (b.attn.o_proj, *_out_projs(b.ffn))}
            nn.init.normal_(module.weight, std=std / math.sqrt(2 * self.config.n_layers) if residual else std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=std)

    # ------------------------------------------------------------------ forward
    def forward(self, input_ids: Tensor, targets: Tensor | None = None,
                attention_mask: Tensor | None = None, cache: KVCache | None = None,
                cache_slots: Tensor | None = None, need_weights: bool = False,
                output_hidden_states: bool = False, last_only: bool = False) -> ModelOutput:
        """input_ids (B, T). targets (B, T) with -100 = ignore. attention_mask (B, T): 1 real, 0 pad.

        With `cache`, the new tokens are appended to the cache rows `cache_slots`
        (default 0..B-1), and attention covers everything stored in those rows.
        """
        cfg = self.config
        b, t = input_ids.shape
        step = cache.step(t, cache_slots, attention_mask) if cache is not None else None
        positions, mask, is_causal = self._positions_and_mask(b, t, attention_mask, step, input_ids.device)
        if self.pos_emb is not None and int(positions.max()) >= cfg.max_seq_len:
            raise ValueError(f"position {int(positions.max())} is past the model's context of "
                             f"{cfg.max_seq_len} tokens; shorten the input")
        hooked = self.hook_points
        x = self.tok_emb(input_ids)                                             # (B, T, C)
        if hooked:
            x = fire(hooked, "hook_embed", x)
        if self.pos_emb is not None:
            x = x + (fire(hooked, "hook_pos_embed", self.pos_emb(positions)) if hooked else self.pos_emb(positions))
        x = self.drop(x)
        rope = (self.rotary, *self.rotary.cos_sin(positions)) if self.rotary is not None else None
        attentions, stats, hidden = [], [], [x] if output_hidden_states else None
        for block in self.blocks:
            x, w, s = block(x, mask, is_causal, rope, step, need_weights)
            if need_weights:
                attentions.append(w)
            if s is not None:
                stats.append(s)
            if hidden is not None:
                hidden.append(x)
        if step is not None:
            step.commit()
        x = norm_hooked(self.norm_f, x, hooked, "ln_final.") if hooked else self.norm_f(x)
        logits = self.lm_head(x[:, -1:] if last_only else x)                   # (B, T, V)
        out = ModelOutput(logits=logits, attentions=attentions or None, router_stats=stats or None,
                          hidden_states=hidden)
        if stats:
            logits_per_layer = [s.logits for s in stats]
            aux = cfg.router_aux_loss_coef * load_balancing_loss(
                logits_per_layer, cfg.n_experts, cfg.experts_per_token, attention_mask)
            if cfg.router_z_loss_coef:
                aux = aux + cfg.router_z_loss_coef * router_z_loss(logits_per_layer)
            out.aux_loss = aux
        if targets is not None:
            out.lm_loss = nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
                                                      targets.reshape(-1), ignore_index=-100)
            out.loss = out.lm_loss + (out.aux_loss if out.aux_loss is not None else 0.0)
        return out

    def _positions_and_mask(self, b: int, t: int, attention_mask: Tensor | None, step: CacheStep | None,
                            device: torch.device) -> tuple[Tensor, Tensor | None, bool]:
        """Position ids (B, T) and the attention mask: bool (B, 1, T, S), or None with is_causal."""
        window = self.config.sliding_window
        if step is None:
            if attention_mask is None:
                positions = torch.arange(t, device=device).expand(b, t)
                if window is None or t <= window:
                    return positions, None, True
                key_valid, key_pos = torch.ones(b, t, dtype=torch.bool, device=device), positions
            else:
                key_valid = attention_mask.bool()
                positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
                key_pos = positions
            q_slot = torch.arange(t, device=device).expand(b, t)
        else:
            positions, key_valid, key_pos, q_slot = (step.positions, step.key_valid(),
                                                     step.key_positions(), step.write)
        if step is not None and window is None and bool(key_valid.all()):
            # every stored key real (no padding): one new token sees them all; several see the
            # cache and the new ones up to themselves, the causal mask aligned to the last key
            return positions, None, t > 1
        s = key_valid.shape[1]
        k_slot = torch.arange(s, device=device)
        allowed = key_valid[:, None, :] & (k_slot[None, None, :] <= q_slot[:, :, None])   # (B, T, S)
        if window is not None:
            allowed &= (positions[:, :, None] - key_pos[:, None, :]) < window
        return positions, allowed[:, None], False

    # ------------------------------------------------------------------ hook points (nn/hooks.py)
    def hook_names(self) -> list[str]:
        """Every hook point's name, in forward order (TransformerLens names)."""
        return hooks_.hook_names(self)

    def hooks(self, fwd_hooks):
        """`with model.hooks([(name, fn), ...]):` attaches the hooks for the body only."""
        return hooks_.hooks(self, fwd_hooks)

    def run_with_hooks(self, tokens: Tensor, fwd_hooks=(), **forward_kwargs) -> Tensor:
        """Logits (B, T, V) of one forward with `fwd_hooks` = [(name, fn)] attached."""
        return hooks_.run_with_hooks(self, tokens, fwd_hooks, **forward_kwargs)

    def run_with_cache(self, tokens: Tensor, names_filter=None, **forward_kwargs):
        """(logits, ActivationCache) with the activations `names_filter` selects (default all)."""
        return hooks_.run_with_cache(self, tokens, names_filter, **forward_kwargs)

    def reset_hooks(self) -> None:
        hooks_.reset_hooks(self)

    # ------------------------------------------------------------------ helpers
    @classmethod
    def from_state_dict(cls, config: ModelConfig, state_dict: dict[str, Tensor],
                        device: torch.device | str = "cpu", dtype: torch.dtype | None = None) -> "CausalLM":
        """Build the model straight from weights, without initializing it first."""
        with torch.device("meta"):
            model = cls(config)
        # contiguous: checkpoints in the (K, N) layout (GPT-2's Conv1D) arrive as transposed views
        sd = {k: v.to(device=device, dtype=dtype if dtype and v.is_floating_point() else v.dtype).contiguous()
              for k, v in state_dict.items()}
        if config.tie_embeddings:
            sd.pop("lm_head.weight", None)
        model.load_state_dict(sd, strict=not config.tie_embeddings, assign=True)
        if config.tie_embeddings:
            model.lm_head.weight = model.tok_emb.weight
        # non-persistent buffers (rotary frequencies, sinusoid tables) are rebuilt, not loaded
        if model.rotary is not None:
            model.rotary = RotaryEmbedding(config.dim_per_head, config.rope_theta, config.rope_scaling,
                                           config.rope_interleaved).to(device)
        if isinstance(model.pos_emb, SinusoidalPositions):
            model.pos_emb = SinusoidalPositions(config.max_seq_len, config.d_model).to(device)
        missing = [n for n, p in model.named_parameters() if p.is_meta]
        if missing:
            raise ValueError(f"weights missing for: {', '.join(missing[:5])}")
        return model

    def new_cache(self, batch_size: int, max_len: int | None = None, dtype: torch.dtype | None = None) -> KVCache:
        """A KV cache with `batch_size` slots of `max_len` tokens (default: the model's context)."""
        cfg, p = self.config, next(self.parameters())
        return KVCache(cfg.n_layers, batch_size, cfg.kv_heads, max_len or cfg.max_seq_len,
                       cfg.dim_per_head, dtype or p.dtype, p.device)

    def num_parameters(self, exclude_embeddings: bool = False) -> int:
        n = sum(p.numel() for p in self.parameters())
        if exclude_embeddings:
            n -= self.tok_emb.weight.numel()
            if isinstance(self.pos_emb, LearnedPositions):
                n -= self.pos_emb.weight.numel()
        return n


def _out_projs(ffn: nn.Module) -> list[nn.Module]:
    if isinstance(ffn, MLP):
        return [ffn.fc_out]
    if isinstance(ffn, SwiGLU):
        return [ffn.down_proj]
    if isinstance(ffn, MoE):
        return [e.down_proj for e in ffn.experts]
    return []
