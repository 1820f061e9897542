"""The trained policy as an agent backend, in process: compact observation in, one constrained action out.

    backend = PolicyBackend("runs/agent")          # a run folder of `llmos agent train`, or an HF folder
    agent = Agent(backend); agent.run(agent.create("Book ...", url=...).id)

Each step renders the step's `StepContext` in the compact observation format
the policy was trained on (`observation.render`), builds the page's action
schema (`constraint.action_schema`) and decodes under it with llmos's grammar
engine (`llmos.infer.grammar`, llguidance), so the reply always parses as one
action that names a listed element. The agent layer may call `infer`
directly (it sits above it), which saves an HTTP hop per step; `llmos serve`
with the same schema as `response_format` gives the same constraint over the
OpenAI API.

Sampling (`temperature` > 0, a seed per call) is what the DPO rollouts use to
branch; the agent itself acts greedily: token by token under the schema
(`choose="decode"`, the default), or (`choose="score"`) the best of every
action the schema lists, each scored as a whole sequence (`choose.py`; the
decoded action is one of them, the only way to a `done` or a question). On
held-out steps scoring agreed with the oracle less often than decoding did
(BENCHMARKS.md), which is why decoding is the default.

Confidence: with `choose="score"`, the chosen action's share of the listed
actions' probability (`choose.py`). With `choose="decode"`, the decoded
action's probability under the constraint, read off one more forward pass,

    p(action) = prod_t softmax(logits_t masked to the grammar's allowed tokens)[a_t]

(tokens the grammar forces count 1). Below `min_confidence` the policy does not
act: it asks the person instead (`ask_user`), which is how a task outside what
it learned ends in ASK_USER rather than in a guess. `min_confidence` defaults
to what `llmos agent train` measured on its own demonstrations
(RUN/model/policy.json, which names the `choose` mode it was measured with;
a file without one was measured decoding), 0 (never ask) without one or for
the other mode.

Scope: the policy's first `done` on a request that names words it was never
trained on and has not seen on any page of the task becomes a question too
(scope.py; RUN/model/scope.json, written by `llmos agent train`), so a task
outside what it learned ends in ASK_USER rather than in a claim it cannot back.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from llmos.agent.backends import BackendError
from llmos.agent.learn.choose import choose as choose_action
from llmos.agent.learn.constraint import action_schema
from llmos.agent.learn.observation import render
from llmos.agent.learn.scope import page_words, read_scope, unfamiliar
from llmos.agent.views import ModelReply, ModelRequest, StepContext

MAX_NEW_TOKENS = 128
MIN_NEW_TOKENS = 64   # room kept for the reply when a long page fills the context
POLICY_FILE = "policy.json"   # beside the model: {"min_confidence": p, "choose": mode} from `llmos agent train`
CHOICES = ("decode", "score", "within")
FORMAT_FILE = "observation.json"   # beside the model: {"marks": true, "cues": true, "picks": true}, its format


def read_format(folder: Path) -> dict:
    """The observation format a policy folder was trained with (`observation.render`'s options); {} = plain."""
    path = Path(folder) / FORMAT_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def write_format(folder: Path, marks: bool, cues: bool = False, picks: bool = False) -> None:
    (Path(folder) / FORMAT_FILE).write_text(json.dumps({"marks": marks, "cues": cues, "picks": picks}) + "\n")


def policy_folder(path: str | Path) -> Path:
    """The model folder inside a `llmos agent train` run (RUN/model), or `path` itself."""
    path = Path(path)
    for candidate in (path / "model", path):
        if (candidate / "config.json").exists():
            return candidate
    raise FileNotFoundError(f"{path} holds no trained policy (no config.json in {path}/model or {path}); "
                            "train one with `llmos agent train --out " + str(path) + "`")


class PolicyBackend:
    """`complete(ModelRequest) -> ModelReply` from an llmos causal LM, decoding under the action schema."""

    def __init__(self, model: str | Path | None = None, *, policy=None, tokenizer=None,
                 temperature: float = 0.0, seed: int | None = None, constrained: bool = True,
                 max_new_tokens: int = MAX_NEW_TOKENS, threads: int | None = None,
                 min_confidence: float | None = None, marks: bool | None = None, cues: bool | None = None,
                 picks: bool | None = None, choose: str = "decode",
                 scope: set[str] | None = None):
        if choose not in CHOICES:
            raise ValueError(f"choose must be one of {', '.join(CHOICES)}, not {choose!r}")
        saved, fmt = {}, {}
        if policy is None:
            from llmos.hub import load_pretrained
            if model is None:
                raise ValueError("give a model folder or a loaded policy and tokenizer")
            folder = policy_folder(model)
            policy, tokenizer = load_pretrained(folder)
            if tokenizer is None:
                raise FileNotFoundError(f"{folder} has no tokenizer.json beside the model")
            if (folder / POLICY_FILE).exists():
                saved = json.loads((folder / POLICY_FILE).read_text())
            fmt = read_format(folder)
            scope = read_scope(folder) if scope is None else scope
        self.model, self.tokenizer = policy.eval(), tokenizer
        self.name = f"llmos-policy:{Path(model).name if model else 'in-memory'}"
        self.temperature, self.seed, self.constrained = temperature, seed, constrained
        self.max_new_tokens = max_new_tokens
        self.choose = choose
        if saved.get("choose", "decode") != choose:
            saved = {}                                # a threshold measured for the other way of choosing
        self.min_confidence = float(saved.get("min_confidence", 0.0) if min_confidence is None else min_confidence)
        self.marks = bool(fmt.get("marks", False) if marks is None else marks)
        self.cues = bool(fmt.get("cues", False) if cues is None else cues)
        self.picks = bool(fmt.get("picks", False) if picks is None else picks)
        self.last_confidence = 1.0
        self.calls = 0
        self.scope = scope
        self._seen: dict[str, set[str]] = {}          # task -> words of every page seen in it
        self._asked: set[str] = set()                # tasks whose done was already turned into a question
        if threads:
            torch.set_num_threads(threads)

    def render(self, ctx: StepContext) -> str:
        """The step's prompt in the observation format this policy was trained on."""
        return render(ctx, marks=self.marks, cues=self.cues, picks=self.picks)

    def prompt_ids(self, ctx: StepContext) -> list[int]:
        from llmos.train.align.data import encode_prompt

        budget = self.model.config.max_seq_len - min(self.max_new_tokens, MIN_NEW_TOKENS)
        return encode_prompt(self.tokenizer, self.render(ctx), budget)

    def schema(self, ctx: StepContext) -> dict:
        """The step's action schema (constraint.py), the last note counting as the person's words."""
        return action_schema(ctx.observation, ctx.task, ctx.notes[-1] if ctx.notes else "",
                             picks=self.picks, marks=self.marks)

    def grammar(self, schema: dict):
        from llmos.infer.grammar import Grammar, compile_grammar

        return compile_grammar(Grammar.json_schema(schema), self.tokenizer, self.model.config.vocab_size)

    def propose(self, ctx: StepContext, temperature: float | None = None, seed: int | None = None) -> tuple[str, int, int]:
        """(action text, prompt tokens, completion tokens) for one step."""
        from llmos.infer.generate import complete
        from llmos.infer.sampling import GenerationConfig

        ids = self.prompt_ids(ctx)
        temp = self.temperature if temperature is None else temperature
        room = self.model.config.max_seq_len - len(ids)
        cfg = GenerationConfig(max_new_tokens=min(self.max_new_tokens, room), temperature=temp,
                               seed=self.seed if seed is None else seed)
        schema = self.schema(ctx) if self.constrained else None
        grammar = self.grammar(schema) if schema is not None else None
        out = complete(self.model, ids, cfg, tokenizer=self.tokenizer, grammar=grammar)
        if self.choose != "decode" and schema is not None and temp == 0:
            best, share = choose_action(self.model, self.tokenizer, ids, schema, out.text or "",
                                        within=self.choose == "within")
            if best is not None:
                self.last_confidence = share
                return best, len(ids), len(self.tokenizer.encode(best, add_special_tokens=False))
        self.last_confidence = self.confidence(ids, out.tokens, grammar)
        return out.text or "", len(ids), len(out.tokens)

    @torch.no_grad()
    def confidence(self, prompt: list[int], tokens: list[int], grammar=None) -> float:
        """p(tokens | prompt), each step's distribution masked to what `grammar` allows (module docstring)."""
        if not tokens:
            return 0.0
        seq = torch.tensor([prompt + tokens])                                       # (1, P+N)
        logits = self.model(seq).logits[0, len(prompt) - 1:len(prompt) - 1 + len(tokens)].float()  # (N, V)
        state = grammar.start() if grammar is not None else None
        total = 0.0
        for row, token in zip(logits, tokens):
            if state is not None:
                allowed = state.allowed()[:row.shape[0]]
                row = row.masked_fill(~allowed, float("-inf"))
                state.advance(token)
            total += float(row.log_softmax(-1)[token])
        return math.exp(total)

    def _out_of_scope(self, ctx: StepContext, text: str) -> list[str]:
        """The request's unfamiliar words when `text` is the task's first `done` (else []); tracks pages seen."""
        if self.scope is None:
            return []
        if not ctx.history:                          # a task starts: forget an earlier run of the same words
            self._seen.pop(ctx.task, None)
            self._asked.discard(ctx.task)
            if len(self._seen) > 256:
                self._seen.clear()
        seen = self._seen.setdefault(ctx.task, set())
        seen |= page_words(ctx)
        try:
            done = json.loads(text).get("type") == "done"
        except (json.JSONDecodeError, AttributeError):
            done = False
        if not done or ctx.task in self._asked:
            return []
        strange = unfamiliar(ctx.task, self.scope, seen)
        if strange:
            self._asked.add(ctx.task)
        return strange

    def complete(self, request: ModelRequest) -> ModelReply:
        self.calls += 1
        seed = None if self.seed is None else self.seed + self.calls
        try:
            text, n_prompt, n_new = self.propose(request.context, seed=seed)
        except (ValueError, RuntimeError) as e:
            raise BackendError(f"the policy could not decode this step: {e}") from None
        if self.last_confidence < self.min_confidence and not text.startswith('{"type": "ask_user"'):
            text = json.dumps({"type": "ask_user", "question": (
                f"I am not sure how to go on (my best next step, {text}, has probability "
                f"{self.last_confidence:.2f}); what should I do?")})
        strange = self._out_of_scope(request.context, text)
        if strange:
            text = json.dumps({"type": "ask_user", "question": (
                f"I would say the task is done, but the request names {', '.join(strange[:6])}, which I was "
                "not trained on and did not find on any page I saw, so I cannot tell. Is it done, or what "
                "should I do?")})
        return ModelReply(text=text, prompt_tokens=n_prompt, completion_tokens=n_new)
