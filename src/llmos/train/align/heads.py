"""A scalar head on a causal LM: the reward model and PPO's value function.

Both read the LM's final hidden state (after the last norm, what the LM head
reads) and map it to one number per position:

    h_t = Norm(x_L)_t                       (B, T, C)
    s_t = w . h_t + b                       (B, T)

A reward model scores a whole sequence with s at its last real token (as
`transformers`' *ForSequenceClassification models do); a value function
V(s_t) uses every position of the response.
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from llmos.nn import CausalLM

HEAD_FILE = "reward_head.safetensors"


class ScalarHead(nn.Module):
    def __init__(self, d_model: int, init_std: float = 0.0, seed: int = 0):
        super().__init__()
        self.proj = nn.Linear(d_model, 1)
        if init_std:   # seeded: the same run settings give the same reward model
            nn.init.normal_(self.proj.weight, std=init_std, generator=torch.Generator().manual_seed(seed))
        else:   # a value head starting at V = 0 everywhere
            nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, hidden: Tensor) -> Tensor:
        return self.proj(hidden).squeeze(-1)                                 # (B, T, C) -> (B, T)


def forward_with_head(model: CausalLM, head: ScalarHead, input_ids: Tensor,
                      attention_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One forward pass giving (logits (B, T, V), head values (B, T))."""
    out = model(input_ids, attention_mask=attention_mask, output_hidden_states=True)
    hidden = model.norm_f(out.hidden_states[-1])                             # (B, T, C)
    return out.logits, head(hidden)


class RewardModel(nn.Module):
    """An LM backbone with a scalar head: r(x, y) = head(h at the last real token)."""

    def __init__(self, backbone: CausalLM, head: ScalarHead | None = None, seed: int = 0):
        super().__init__()
        self.backbone = backbone
        self.head = head if head is not None else ScalarHead(backbone.config.d_model,
                                                            init_std=backbone.config.init_std, seed=seed)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """Right-padded input_ids (B, T) -> rewards (B,)."""
        _, values = forward_with_head(self.backbone, self.head, input_ids)   # (B, T); right padding needs no mask
        last = attention_mask.sum(-1) - 1                                    # (B,) index of the last real token
        return values.gather(1, last[:, None]).squeeze(1)

    def save(self, folder: str | Path, tokenizer=None) -> None:
        """RUN/model/ as an HF folder (the backbone) + RUN/reward_head.safetensors."""
        from llmos.hub import save_pretrained
        folder = Path(folder)
        save_pretrained(self.backbone, folder / "model", tokenizer=tokenizer)
        save_file({k: v.detach().contiguous() for k, v in self.head.state_dict().items()}, folder / HEAD_FILE)

    @classmethod
    def load(cls, folder: str | Path, device: str = "cpu") -> tuple["RewardModel", object]:
        """(reward model, tokenizer) from a run folder written by `llmos reward`."""
        from llmos.hub import load_pretrained
        folder = Path(folder)
        if not (folder / HEAD_FILE).is_file():
            raise FileNotFoundError(f"{folder} has no {HEAD_FILE}; give a run folder written by `llmos reward`")
        backbone, tokenizer = load_pretrained(folder / "model", device=device)
        head = ScalarHead(backbone.config.d_model)
        head.load_state_dict(load_file(folder / HEAD_FILE, device=device))
        return cls(backbone, head).eval(), tokenizer
