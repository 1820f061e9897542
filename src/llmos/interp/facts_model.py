"""A small GPT that llmos trains on a synthetic world of facts (text/facts.py), and how to query it.

Training text is the world's sentences in a shuffled stream, each after an
end-of-text token; a training window starts at one of those tokens, so every
prompt seen at test time, `<|endoftext|> {subject} {relation words}`, is a
sentence start the model knows. A fact is *known* when the greedy next token
after its prompt is its object.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from llmos.config import require, require_at_least
from llmos.nn import CausalLM, ModelConfig
from llmos.text.facts import Fact, FactWorld
from llmos.train.optim import make_adamw
from llmos.train.schedule import warmup_cosine


@dataclass
class FactsModelConfig:
    d_model: int = 128
    n_layers: int = 6
    n_heads: int = 4
    window: int = 24               # tokens per training row
    batch_size: int = 32
    steps: int = 1500
    lr: float = 3e-3
    weight_decay: float = 0.05
    target_accuracy: float = 0.97  # stop early once the training prompts reach this
    eval_every: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        require_at_least(self, 1, "d_model", "n_layers", "n_heads", "window", "batch_size", "steps", "eval_every")
        require(self.d_model % self.n_heads == 0, "d_model", f"a multiple of n_heads ({self.n_heads})", self.d_model)
        require(self.lr > 0, "lr", "> 0", self.lr)
        require(0 < self.target_accuracy <= 1, "target_accuracy", "in (0, 1]", self.target_accuracy)


@dataclass
class FactsModel:
    model: CausalLM
    tokenizer: object
    world: FactWorld

    def ids(self, text: str) -> list[int]:
        """Prompt ids: the end-of-text token that starts every sentence, then the words."""
        return [self.tokenizer.eos_id] + self.tokenizer.encode(text, add_special_tokens=False)

    def token(self, word: str) -> int:
        ids = self.tokenizer.encode(word, add_special_tokens=False)
        if len(ids) != 1 or ids[0] == self.tokenizer.unk_id:
            raise ValueError(f"{word!r} is not one word of this world's vocabulary")
        return ids[0]

    def subject_span(self, ids: Sequence[int], subject: str) -> tuple[int, int]:
        return subject_span(ids, self.tokenizer.encode(subject, add_special_tokens=False), subject)

    @torch.no_grad()
    def next_probs(self, prompts: list[str]) -> Tensor:
        """(N, V) next-token probabilities after each prompt (prompts may differ in length)."""
        rows = [self.ids(p) for p in prompts]
        width = max(map(len, rows))
        ids = torch.tensor([[0] * (width - len(r)) + r for r in rows])
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
        logits = self.model(ids, attention_mask=mask, last_only=True).logits[:, -1]
        return torch.softmax(logits.float(), -1)

    def accuracy(self, facts: list[Fact] | None = None, held_out: bool = False) -> float:
        """Share of facts answered right: over their training templates, or their held-out one."""
        facts = facts if facts is not None else self.world.facts
        prompts, answers = [], []
        for f in facts:
            for t in ([f.held_out] if held_out else self.world.train_templates(f)):
                prompts.append(self.world.prompt(f, t))
                answers.append(self.token(f.object))
        hits = 0
        for i in range(0, len(prompts), 256):
            probs = self.next_probs(prompts[i:i + 256])
            hits += int((probs.argmax(-1) == torch.tensor(answers[i:i + 256])).sum())
        return hits / len(prompts)

    def known(self, fact: Fact, template: int = 0) -> bool:
        return int(self.next_probs([self.world.prompt(fact, template)]).argmax()) == self.token(fact.object)


def subject_span(ids: Sequence[int], subject_ids: Sequence[int], subject: str = "") -> tuple[int, int]:
    """[start, end) of the last occurrence of the subject's tokens in `ids`."""
    ids, sub = list(ids), list(subject_ids)
    for start in range(len(ids) - len(sub), -1, -1):
        if sub and ids[start:start + len(sub)] == sub:
            return start, start + len(sub)
    raise ValueError(f"the subject {subject!r} does not occur in the prompt; give a subject that is "
                     "written in the prompt exactly as it is tokenized there")


def train_facts_model(world: FactWorld, cfg: FactsModelConfig = FactsModelConfig(),
                      progress=None) -> FactsModel:
    """Train a GPT-2 style model on the world's sentences until it knows them (or steps run out)."""
    tok = world.tokenizer()
    stream = tok.encode(world.training_text(repeats=4, seed=cfg.seed), add_special_tokens=False)
    data = torch.tensor(stream)
    starts = torch.nonzero(data[: len(stream) - cfg.window - 1] == tok.eos_id)[:, 0]
    torch.manual_seed(cfg.seed)
    mc = ModelConfig.for_family("gpt2", vocab_size=tok.vocab_size, d_model=cfg.d_model, n_layers=cfg.n_layers,
                                n_heads=cfg.n_heads, d_ff=4 * cfg.d_model, max_seq_len=64,
                                bos_token_id=tok.eos_id, eos_token_id=tok.eos_id)
    model = CausalLM(mc)
    opt = make_adamw(model, cfg.lr, cfg.weight_decay, (0.9, 0.98))
    lab = FactsModel(model, tok, world)
    rng = random.Random(cfg.seed)
    check = rng.sample(world.facts, min(60, len(world.facts)))
    for step in range(cfg.steps):
        lr = warmup_cosine(step, cfg.lr, cfg.lr / 10, 50, cfg.steps)
        for group in opt.param_groups:
            group["lr"] = lr
        pick = starts[torch.randint(0, len(starts), (cfg.batch_size,))]
        rows = torch.stack([data[s: s + cfg.window + 1] for s in pick.tolist()])      # (B, W + 1)
        model.train()
        loss = model(rows[:, :-1], targets=rows[:, 1:]).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if (step + 1) % cfg.eval_every == 0:
            model.eval()
            acc = lab.accuracy(check)
            if progress is not None:
                progress(step + 1, float(loss.detach()), acc)
            if acc >= cfg.target_accuracy and lab.accuracy() >= cfg.target_accuracy:
                break
    model.eval()
    return lab


def load_or_train(folder, world: FactWorld, cfg: FactsModelConfig = FactsModelConfig(), progress=None) -> FactsModel:
    """The facts model saved in `folder` if it was trained on this world and config, else train and save it."""
    import json
    from dataclasses import asdict
    from pathlib import Path

    from llmos.config import atomic_write_text
    from llmos.hub import load_pretrained, save_pretrained

    folder = Path(folder)
    stamp = dict(world_seed=world.seed, facts=len(world.facts), first=str(world.facts[0]), config=asdict(cfg))
    meta = folder / "facts_model.json"
    if meta.is_file() and json.loads(meta.read_text()) == stamp:
        model, tok = load_pretrained(folder)
        return FactsModel(model.eval(), tok, world)
    lab = train_facts_model(world, cfg, progress)
    save_pretrained(lab.model, folder, lab.tokenizer)
    atomic_write_text(meta, json.dumps(stamp, indent=2) + "\n")
    return lab
