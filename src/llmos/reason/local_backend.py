"""An llmos model in this process as a reasoning backend.

    backend = LocalBackend.load("runs/reason-word-calc")      # a run folder or an HF folder
    backend = LocalBackend(model, tokenizer, calculator=True)

A model trained by `llmos reason train` (it has a reason.json) saw every
problem after a start token, so its prompts get one too. The n samples of
one call decode together as one batch (`infer.calculator.sample_n`); with
`calculator=True`, `<<expr=` calls in the text are computed while decoding
and their results forced into the sequence. Logprobs are always
available here (the raw model's log p of each sampled token), and `score`
reads log p(continuation | prompt) off one batched forward pass.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from llmos.infer.calculator import sample_n
from llmos.infer.sampling import GenerationConfig
from llmos.reason.backend import Backend, BackendError, Message, Params, Sample

REASON_CONFIG = "reason.json"      # written beside a model by `llmos reason train`


def read_reason_config(model_dir: str | Path) -> dict | None:
    """The reason.json beside a model (in the folder or its model/ subfolder), or None."""
    for p in (Path(model_dir) / REASON_CONFIG, Path(model_dir) / "model" / REASON_CONFIG):
        if p.is_file():
            return json.loads(p.read_text(encoding="utf-8"))
    return None


class LocalBackend(Backend):
    def __init__(self, model, tokenizer, name: str = "local", calculator: bool = False,
                 start_token: bool = False) -> None:
        if tokenizer is None:
            raise BackendError(f"backend {name}: the model has no tokenizer; reasoning needs one to read text")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = f"local:{name}"
        self.calculator = calculator
        self.start_token = start_token     # begin every prompt with the start token, as reason-trained models saw

    @classmethod
    def load(cls, path: str | Path, calculator: bool = False, device: str = "cpu") -> "LocalBackend":
        from llmos.hub import load_pretrained
        try:
            model, tokenizer = load_pretrained(path, device=device)
        except (OSError, ValueError) as e:
            raise BackendError(f"backend local:{path}: cannot load the model: {e}") from None
        trained = read_reason_config(path) is not None
        return cls(model, tokenizer, name=str(path), calculator=calculator, start_token=trained)

    def _prompt_ids(self, prompt: str) -> list[int]:
        ids = self.tokenizer.encode(prompt)
        start = self.tokenizer.bos_id if self.tokenizer.bos_id is not None else self.tokenizer.eos_id
        if (not ids or self.start_token) and start is not None:
            ids = [start] + ids
        context = self.model.config.max_seq_len
        if len(ids) >= context:
            raise BackendError(f"backend {self.name}: the prompt has {len(ids)} tokens but the model's "
                               f"context is {context}; shorten the prompt (fewer exemplars, a shorter "
                               "question)")
        return ids

    @torch.no_grad()
    def _score(self, prompt: str, continuations: list[str]) -> list[float]:
        """One forward pass over prompt + each continuation (B rows, right-padded; causal, so the pad
        never reaches a scored position): sum over the continuation of log softmax(logits)[next token]."""
        ids = self._prompt_ids(prompt)
        rows = [ids + self.tokenizer.encode(c) for c in continuations]
        if max(map(len, rows)) > self.model.config.max_seq_len:
            raise BackendError(f"backend {self.name}: prompt + continuation is longer than the model's "
                               f"context of {self.model.config.max_seq_len} tokens")
        device = next(self.model.parameters()).device
        batch = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long, device=device)
        for i, r in enumerate(rows):
            batch[i, :len(r)] = torch.tensor(r)
        logp = torch.log_softmax(self.model(batch).logits.float(), dim=-1)       # (B, T, V)
        out = []
        for i, r in enumerate(rows):
            positions = torch.arange(len(ids) - 1, len(r) - 1, device=device)   # each predicts the next token
            out.append(float(logp[i, positions, batch[i, len(ids):len(r)]].sum()))
        return out

    def _complete(self, prompt: str, params: Params) -> list[Sample]:
        ids = self._prompt_ids(prompt)
        cfg = GenerationConfig(max_new_tokens=params.max_tokens, temperature=params.temperature,
                               stop=list(params.stop), seed=params.seed)
        rows = sample_n(self.model, self.tokenizer, ids, cfg, n=params.n, calculator=self.calculator)
        return [Sample(r.text, len(r.token_ids), r.finish_reason, r.logprobs if params.logprobs else None)
                for r in rows]

    def _chat(self, messages: list[Message], params: Params) -> list[Sample]:
        if self.tokenizer.chat_template is None:
            # a model trained on a plain task format: the messages read as one prompt
            return self._complete("\n".join(m["content"] for m in messages), params)
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self._complete(text, params)
