"""A calculator that runs while the model decodes, and a batched sampling loop that uses it.

A chain of thought written GSM8K-style carries its arithmetic as calculator
calls: `... so <<23-20=3>> he has 3 left`. With the calculator on, the model
writes `<<23-20=` and the loop, not the model, writes the rest: it evaluates
the expression, forces `3>>` into the sequence token by token (those tokens
are fed to the model as if it had sampled them, as nanochat's engine does with
its tool tokens), and lets the model go on. The model then never has to do
the arithmetic, only to choose which numbers to combine and how.

The evaluator reads the expression with `ast` and walks it: numbers, + - * /
// % **, unary minus and parentheses, nothing else. A name, a call, an
attribute or a string is refused with the reason, and the refusal is written
into the text in place of a result (`<<os.system(1)=refused: ...>>`). Nothing
is ever passed to `eval`.

    outs = sample_n(model, tokenizer, prompt_ids, GenerationConfig(max_new_tokens=80), n=4,
                    calculator=True)             # or sample_rows(model, tokenizer, [ids1, ids2, ...], ...)
    outs[0].text, outs[0].calls        # "... <<23-20=3>> ...", [("23-20", "3")]
"""
from __future__ import annotations

import ast
import math
import operator
import re
from collections import deque
from dataclasses import dataclass, field

import torch

from llmos.infer.sampling import GenerationConfig, make_generator, sample
from llmos.infer.prompt_check import check_prompt
from llmos.nn.eval_mode import eval_mode

OPEN, CLOSE = "<<", ">>"
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
MAX_EXPONENT = 64          # 10**64 is plenty for arithmetic; 9**9**9 would hang the process
MAX_MAGNITUDE = 1e100


class CalculatorError(ValueError):
    """An expression that is not plain arithmetic, or whose value cannot be computed."""


def evaluate(expression: str) -> int | float:
    """The value of a plain arithmetic expression; CalculatorError says why one is refused."""
    text = expression.strip().replace("×", "*").replace("÷", "/").replace("^", "**")
    if not text:
        raise CalculatorError("the expression is empty")
    if len(text) > 200:
        raise CalculatorError("the expression is longer than 200 characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise CalculatorError(f"{expression.strip()!r} is not an arithmetic expression") from None
    return _walk(tree.body)


def _walk(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_walk(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _walk(node.left), _walk(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise CalculatorError(f"the exponent {right} is larger than {MAX_EXPONENT}")
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise CalculatorError("division by zero")
        value = _BINARY[type(node.op)](left, right)
        if isinstance(value, complex) or abs(value) > MAX_MAGNITUDE:
            raise CalculatorError("the result is too large or not a real number")
        return value
    what = {ast.Name: "names", ast.Call: "function calls", ast.Attribute: "attributes",
            ast.Subscript: "subscripts", ast.Compare: "comparisons", ast.BoolOp: "boolean operators"}
    kind = next((v for k, v in what.items() if isinstance(node, k)), type(node).__name__)
    if isinstance(node, ast.Constant):
        kind = f"{type(node.value).__name__} constants"
    raise CalculatorError(f"{kind} are not plain arithmetic (only numbers, + - * / // % ** and parentheses)")


def format_number(value: int | float) -> str:
    """12.0 -> "12", 0.1 + 0.2 -> "0.3": integral results print as integers, others to 6 digits."""
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return f"{value:.6g}"
    return str(value)


def calculate(expression: str) -> str:
    """The text the calculator writes for `expression`: its value, or "refused: REASON"."""
    try:
        return format_number(evaluate(expression))
    except CalculatorError as e:
        return f"refused: {e}"


_PENDING = re.compile(re.escape(OPEN) + r"([^<>=]*)=$")


def pending_call(text: str) -> str | None:
    """The expression of an open call at the end of `text` (`... <<23-20=` -> "23-20"), else None."""
    m = _PENDING.search(text)
    return m.group(1) if m else None


@dataclass
class Decoded:
    """One sampled continuation."""
    text: str                                     # decoded, cut before a stop string
    token_ids: list[int]                          # every token appended, forced ones included
    finish_reason: str                            # "stop" or "length"
    logprobs: list[float] = field(default_factory=list)   # log p of each token the model sampled
    calls: list[tuple[str, str]] = field(default_factory=list)   # (expression, result) forced in

    @property
    def sampled_tokens(self) -> int:
        return len(self.logprobs)


def sample_n(model, tokenizer, prompt_ids: list[int], cfg: GenerationConfig, n: int = 1,
             calculator: bool = False) -> list[Decoded]:
    """n continuations of one prompt, decoded together as a batch of n rows."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return sample_rows(model, tokenizer, [prompt_ids] * n, cfg, calculator)


@torch.no_grad()
def sample_rows(model, tokenizer, prompts: list[list[int]], cfg: GenerationConfig,
                calculator: bool = False) -> list[Decoded]:
    """One continuation per prompt, all decoded together (prompts left-padded into one batch).

    Each step samples a token for every row, except that a row with forced
    calculator tokens queued takes the next of those instead (one forward per
    step either way, so rows stay in lockstep). The logprobs are of the raw
    model distribution (before temperature etc.).
    """
    if not prompts:
        raise ValueError("no prompts given; pass at least one")
    context = model.config.max_seq_len
    for p in prompts:
        check_prompt(p, model.config.vocab_size, context)
    n, width = len(prompts), max(len(p) for p in prompts)
    budget = min(cfg.max_new_tokens, context - width)
    rows = [Decoded("", [], "length") for _ in range(n)]
    if budget <= 0:
        return rows
    with eval_mode(model):
        return _decode_rows(model, tokenizer, prompts, cfg, calculator, rows, width, budget)


def _decode_rows(model, tokenizer, prompts: list[list[int]], cfg: GenerationConfig, calculator: bool,
                 rows: list[Decoded], width: int, budget: int) -> list[Decoded]:
    n = len(prompts)
    device = next(model.parameters()).device
    eos = model.config.eos_token_id
    stops = set(cfg.stop_token_ids) if cfg.stop_token_ids is not None else ({eos} if eos is not None else set())
    generator = make_generator(cfg.seed, device)
    cache = model.new_cache(n, width + budget)
    ids = torch.zeros(n, width, dtype=torch.long)                               # (n, T) left-padded
    mask = torch.zeros(n, width, dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p):] = torch.tensor(p)
        mask[i, width - len(p):] = 1
    history, ones = ids.to(device), torch.ones(n, 1, dtype=torch.long, device=device)
    uniform = all(len(p) == width for p in prompts)
    logits = model(history, cache=cache, last_only=True,
                   attention_mask=None if uniform else mask.to(device)).logits[:, -1]      # (n, V)
    forced: list[deque[int]] = [deque() for _ in range(n)]
    done = [False] * n
    for _ in range(budget):
        chosen = sample(logits, history, cfg, generator)                    # (n,)
        logp = torch.log_softmax(logits.float(), -1).gather(-1, chosen[:, None])[:, 0]
        step = []
        for i, row in enumerate(rows):
            if done[i]:
                step.append(prompts[i][-1])                                 # filler; never read
                continue
            was_forced = bool(forced[i])
            token = forced[i].popleft() if was_forced else int(chosen[i])
            step.append(token)
            if not was_forced:
                if token in stops:
                    done[i], row.finish_reason = True, "stop"
                    continue
                row.logprobs.append(float(logp[i]))
            row.token_ids.append(token)
            row.text = tokenizer.decode(row.token_ids)
            cut = min((row.text.find(s) for s in cfg.stop if s and s in row.text), default=-1)
            if cut >= 0:
                row.text, row.finish_reason, done[i] = row.text[:cut], "stop", True
                continue
            if calculator and not forced[i]:
                expression = pending_call(row.text)
                if expression is not None:
                    result = calculate(expression)
                    row.calls.append((expression, result))
                    forced[i].extend(tokenizer.encode(result + CLOSE, add_special_tokens=False))
        if all(done):
            break
        token_t = torch.tensor(step, device=device)[:, None]               # (n, 1)
        history = torch.cat([history, token_t], dim=1)
        logits = model(token_t, cache=cache, attention_mask=None if uniform else ones).logits[:, -1]
    return rows
