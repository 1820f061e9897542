"""Grammar-constrained decoding: at each step only tokens that keep the output valid.

A JSON schema (or "any JSON object", a Lark grammar, a regex) is compiled,
against one tokenizer, into a token-level automaton; every request walks its
own copy of it. Before each sampling step the state says which tokens of the
model's vocabulary may come next (a mask); the sampler sees -inf everywhere
else; the sampled token then advances the state:

    grammar = compile_grammar(Grammar.json_schema(schema), tokenizer, model.config.vocab_size)
    state = grammar.start()
    while not state.is_finished:
        logits = logits.masked_fill(~state.allowed(), float("-inf"))   # (V,)
        token = sample(logits); state.advance(token)

or let `llmos.infer.complete(model, ids, cfg, tokenizer, grammar=grammar)` and the
batched engine (`engine.submit(ids, cfg, grammar=grammar)`) do exactly that.

The engine is `llguidance` (Microsoft's Rust grammar engine behind Guidance,
also used by vLLM and llama.cpp): it lexes JSON schemas and Lark grammars into
an Earley parser over the tokenizer's byte trie, so one mask costs tens of
microseconds even over a 100k-token vocabulary, and it needs no precompiled
index per schema. `outlines-core` (which builds a regex automaton over the
vocabulary for each schema) was measured beside it in
`bench/serve_structured.py`: its index takes far longer to build per schema
(a cost every new request schema pays), while per-token masks are cheap for
both; see BENCHMARKS.md for the figures that chose llguidance.

Whitespace between JSON tokens is not allowed by default (`whitespace=False`):
a weak model otherwise spends its whole budget on spaces and newlines; the
separators are those of `json.dumps` (", " and ": ").

States cost no Python per token beyond one call into Rust; masks for a batch
are computed in parallel threads (`fill_bitmask`), released from the GIL.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import torch
from torch import Tensor

try:
    import llguidance as llg
    import llguidance.torch as llg_torch
except ImportError:   # pragma: no cover - the serve extra brings it
    llg = None


class GrammarError(ValueError):
    """A grammar (usually a JSON schema) that cannot be used.

    kind: "invalid" (not a valid JSON schema / grammar) or "unsupported" (valid,
    but it uses a feature the grammar engine cannot enforce); where: the path to
    the failing part of the schema ("properties.age.type"), when known.
    """

    def __init__(self, message: str, kind: Literal["invalid", "unsupported"] = "invalid",
                 where: str | None = None):
        super().__init__(message)
        self.kind, self.where = kind, where


def _need_llguidance() -> None:
    if llg is None:
        raise ImportError("constrained decoding needs llguidance: pip install 'llmos[serve]'")


# ---------------------------------------------------------------------- grammars
@dataclass(frozen=True)
class Grammar:
    """A constraint in llguidance's grammar format, not yet bound to a tokenizer."""
    source: str           # llguidance's grammar (a JSON string)
    description: str      # what it is, for messages ("JSON schema", "JSON object", ...)

    @classmethod
    def json_schema(cls, schema: dict[str, Any] | str | bool, *, whitespace: bool = False) -> "Grammar":
        """Output valid under a JSON schema (draft 2020-12 and earlier).

        Raises GrammarError naming the failing part: "invalid" for a schema that
        breaks the JSON Schema meta-schema, "unsupported" for a keyword the
        engine cannot enforce (e.g. `not`, `if`/`then`).
        """
        _need_llguidance()
        if isinstance(schema, str):
            try:
                schema = json.loads(schema)
            except json.JSONDecodeError as e:
                raise GrammarError(f"the schema is not valid JSON ({e})") from None
        if schema is True:
            schema = {}
        if not isinstance(schema, dict):
            raise GrammarError(f"a JSON schema is an object (or true), not {type(schema).__name__}")
        check_json_schema(schema)
        options = {"whitespace_flexible": whitespace, "item_separator": ", ", "key_separator": ": "}
        source = llg.LLMatcher.grammar_from_json_schema(schema, overrides=options)
        grammar = cls(source, "JSON schema")
        grammar.validate()
        return grammar

    @classmethod
    def json_object(cls, *, whitespace: bool = False) -> "Grammar":
        """Any JSON object (OpenAI's `response_format: {"type": "json_object"}`)."""
        return cls.json_schema({"type": "object"}, whitespace=whitespace)

    @classmethod
    def lark(cls, text: str) -> "Grammar":
        """A context-free grammar in llguidance's Lark dialect (start rule `start`)."""
        _need_llguidance()
        grammar = cls(llg.LLMatcher.grammar_from_lark(text), "Lark grammar")
        grammar.validate()
        return grammar

    @classmethod
    def regex(cls, pattern: str) -> "Grammar":
        """Output that matches a regular expression as a whole."""
        _need_llguidance()
        grammar = cls(llg.LLMatcher.grammar_from_regex(pattern), "regex")
        grammar.validate()
        return grammar

    def validate(self) -> None:
        """Raise GrammarError if llguidance cannot build this grammar."""
        is_error, messages = llg.LLMatcher.validate_grammar_with_warnings(self.source)
        if is_error:
            raise _engine_error(self.description, messages[0] if messages else "unknown error")


def _engine_error(what: str, message: str) -> GrammarError:
    first = message.strip().splitlines()[0] if message.strip() else message
    if "Unimplemented keys" in message or "not supported" in message or message.startswith("Unknown format"):
        return GrammarError(f"the {what} uses a feature the grammar engine cannot enforce: {first}",
                            kind="unsupported")
    return GrammarError(f"the {what} cannot be compiled: {first}")


def check_json_schema(schema: dict[str, Any]) -> None:
    """Raise GrammarError(kind="invalid", where=path) if `schema` breaks the JSON Schema meta-schema."""
    try:
        import jsonschema
    except ImportError:   # pragma: no cover - then llguidance's own check is the only one
        return
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        where = ".".join(str(p) for p in e.path) or None
        at = f" at {where}" if where else ""
        raise GrammarError(f"the JSON schema is invalid{at}: {e.message}", kind="invalid", where=where) from None


# ---------------------------------------------------------------------- tokenizers
class _TokenBytes:
    """A tokenizer as llguidance's `TokenizerWrapper` reads one: every token's bytes."""

    def __init__(self, tokenizer):
        backend = tokenizer.backend
        special = {i for i, t in backend.get_added_tokens_decoder().items() if t.special}
        self.eos_token_id = tokenizer.eos_id
        self.bos_token_id = tokenizer.bos_id
        self.special_token_ids = sorted(special)
        # one token decodes to its own text for the tokenizers that reach here (character-level,
        # word-level); byte-level BPE and sentencepiece take llguidance's own reader instead
        self.tokens = [b"" if i in special else backend.decode([i], skip_special_tokens=False).encode("utf-8")
                       for i in range(tokenizer.vocab_size)]
        self._tokenizer = tokenizer

    def __call__(self, text: str | bytes) -> list[int]:
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        return self._tokenizer.encode(text, add_special_tokens=False)


_tables: dict[tuple[int, int], Any] = {}
_tables_lock = threading.Lock()


def token_table(tokenizer, vocab_size: int | None = None):
    """llguidance's view of an llmos `Tokenizer` (cached per tokenizer and vocabulary size).

    vocab_size: the model's vocabulary (embedding rows), which may exceed the
    tokenizer's; the extra ids are never allowed.
    """
    _need_llguidance()
    n = max(vocab_size or 0, tokenizer.vocab_size)
    key = (id(tokenizer), n)
    with _tables_lock:
        table = _tables.get(key)
        if table is None:
            try:   # llguidance reads byte-level BPE, sentencepiece and WordPiece tokenizer.json itself
                table = llg.LLTokenizer(tokenizer.backend.to_str(), n_vocab=n, eos_token=tokenizer.eos_id)
            except ValueError:
                table = llg.LLTokenizer(llg.TokenizerWrapper(_TokenBytes(tokenizer)), n_vocab=n)
            _tables[key] = (tokenizer, table)   # keeps the tokenizer alive, so its id stays its own
        else:
            table = table[1]
    return table


# ---------------------------------------------------------------------- compiled grammars and states
class CompiledGrammar:
    """A grammar bound to one tokenizer's vocabulary; `start()` makes a fresh state per sequence."""

    def __init__(self, grammar: Grammar, tokenizer, vocab_size: int | None = None):
        self.grammar = grammar
        self.table = token_table(tokenizer, vocab_size)
        self.vocab_size = max(vocab_size or 0, self.table.vocab_size)   # the mask's length (the model's V)
        self.eos_id = self.table.eos_token
        self._matcher = llg.LLMatcher(self.table, grammar.source, log_level=0)
        if self._matcher.is_error():
            raise _engine_error(grammar.description, self._matcher.get_error())
        # special tokens (<unk>, <pad>, ...) never stand for output text, whatever a grammar's
        # literal tokenizes to; the end-of-sequence token stays, to end a complete output
        permitted = torch.ones(self.table.vocab_size, dtype=torch.bool)
        for i, t in tokenizer.backend.get_added_tokens_decoder().items():
            if t.special and i != self.eos_id and i < self.table.vocab_size:
                permitted[i] = False
        self.permitted = pack_mask(permitted)                                  # (W,) int32

    def start(self) -> "GrammarState":
        """The state before the first token (a copy: states never share progress)."""
        return GrammarState(self._matcher.deep_copy(), self)


@lru_cache(maxsize=64)
def _compiled(source: str, description: str, tokenizer, vocab_size: int | None) -> CompiledGrammar:
    return CompiledGrammar(Grammar(source, description), tokenizer, vocab_size)


def compile_grammar(grammar: Grammar, tokenizer, vocab_size: int | None = None) -> CompiledGrammar:
    """`CompiledGrammar(grammar, tokenizer, vocab_size)`, cached: a server sees the same schema often."""
    return _compiled(grammar.source, grammar.description, tokenizer, vocab_size)


class GrammarState:
    """One sequence's progress through a grammar."""

    def __init__(self, matcher, grammar: CompiledGrammar):
        self._matcher = matcher
        self.grammar = grammar
        self.vocab_size = grammar.vocab_size
        self._dead = False

    def allowed(self) -> Tensor:
        """Bool mask (V,) of the tokens that may come next (the EOS token once the output is complete)."""
        bitmask = new_bitmask(1, self.grammar.table.vocab_size)
        fill_bitmask([self], bitmask)
        return unpack_bitmask(bitmask, self.vocab_size)[0]

    def advance(self, token_id: int) -> bool:
        """Take the sampled token; False (and the state is dead) if the grammar forbids it."""
        ok = self._matcher.consume_token(int(token_id))
        self._dead = self._dead or not ok
        return ok

    def mark_dead(self) -> None:
        """Record that no token was allowed (the sampler found an all-zero mask)."""
        self._dead = True

    @property
    def is_accepting(self) -> bool:
        """The output so far is complete: it may stop here (it may also go on)."""
        return self._matcher.is_accepting()

    @property
    def is_finished(self) -> bool:
        """Nothing more may follow: the output is complete."""
        return self._matcher.is_stopped() and not self.is_dead

    @property
    def is_dead(self) -> bool:
        """A forbidden token was taken, or no token is allowed: the output cannot be completed."""
        return self._dead or self._matcher.is_error()

    @property
    def error(self) -> str | None:
        return self._matcher.get_error() or None if self._matcher.is_error() else None

    def fork(self) -> "GrammarState":
        """An independent copy (e.g. for beam search or the choices of one request)."""
        state = GrammarState(self._matcher.deep_copy(), self.grammar)
        state._dead = self._dead
        return state


# ---------------------------------------------------------------------- batched masks
_executor = None


def new_bitmask(batch: int, vocab_size: int) -> Tensor:
    """An int32 (B, ceil(V / 32)) bitmask, all tokens allowed: bit j of word w is token 32 w + j."""
    return torch.full((batch, (vocab_size + 31) // 32), -1, dtype=torch.int32)


def fill_bitmask(states: list[GrammarState], bitmask: Tensor) -> None:
    """Write each state's next-token mask into row i of `bitmask` (CPU int32, contiguous);
    several states are computed in parallel threads."""
    global _executor
    if len(states) == 1:
        llg_torch.fill_next_token_bitmask(states[0]._matcher, bitmask, 0)
    else:
        if _executor is None:
            _executor = llg.LLExecutor()
        llg_torch.fill_next_token_bitmask_par(_executor, [(s._matcher, i) for i, s in enumerate(states)],
                                              bitmask)
    W = bitmask.shape[1]
    for i, s in enumerate(states):
        bitmask[i, :W] &= s.grammar.permitted[:W]


_BITS = torch.arange(32, dtype=torch.int32)


def pack_mask(mask: Tensor) -> Tensor:
    """bool (V,) mask -> int32 (ceil(V / 32),) bitmask (the inverse of `unpack_bitmask`)."""
    V = mask.shape[-1]
    padded = torch.zeros((V + 31) // 32 * 32, dtype=torch.int64)
    padded[:V] = mask.long()
    words = (padded.view(-1, 32) << torch.arange(32)).sum(-1)                  # (W,) in [0, 2^32)
    return torch.where(words >= 2**31, words - 2**32, words).to(torch.int32)  # as signed int32


def unpack_bitmask(bitmask: Tensor, vocab_size: int) -> Tensor:
    """int32 (B, W) bitmask -> bool (B, V) mask; ids past 32 W are not allowed."""
    bits = ((bitmask.unsqueeze(-1) >> _BITS) & 1).view(bitmask.shape[0], -1).bool()   # (B, 32 W)
    if bits.shape[1] >= vocab_size:
        return bits[:, :vocab_size]
    return torch.nn.functional.pad(bits, (0, vocab_size - bits.shape[1]))


def constrain_logits(logits: Tensor, states: list[GrammarState | None]) -> tuple[Tensor, list[bool]]:
    """Logits (B, V) with every token a row's grammar forbids set to -inf; rows whose state is
    None are left alone. Also returns, per row, whether no token at all was allowed (dead)."""
    rows = [i for i, s in enumerate(states) if s is not None]
    if not rows:
        return logits, [False] * len(states)
    B, V = logits.shape
    bitmask = new_bitmask(len(rows), max(states[i].grammar.table.vocab_size for i in rows))
    fill_bitmask([states[i] for i in rows], bitmask)
    allowed = unpack_bitmask(bitmask, V)                                     # (b, V)
    if len(rows) < B:
        full = torch.ones(B, V, dtype=torch.bool)
        full[torch.tensor(rows)] = allowed
        allowed = full                                                       # (B, V)
    dead = ~allowed.any(-1)                                                  # (B,)
    allowed |= dead[:, None]                                                 # a dead row samples anything
    return logits.masked_fill(~allowed.to(logits.device), float("-inf")), dead.tolist()
