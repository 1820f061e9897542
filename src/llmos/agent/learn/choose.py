"""Choosing an action by scoring every action the schema lists, instead of decoding it token by token.

The page's action schema (`constraint.action_schema`) is a finite list of
choices wherever an action has no free text: a click names one of the
clickable elements, a select one of its options, a type one of the fields and
one of the request's spans. Greedy decoding commits to the most likely *first*
token of each part and never looks back, so a wrong first piece of a city or
a "1" that should have been "12" is final. Here every listed action is scored
as a whole,

    log p(a | prompt) = sum_t log softmax(logits_t)[a_t]      over a's tokens and the closing eos,

the same tokens SFT trained on (`write_action`, then `encode_response`), and
the best is taken; the action greedy decoding gives (the only way to a `done`
with its answer, or a question) joins the list, scored the same way. The
policy's confidence is then the chosen action's share of the listed ones,

    confidence = p(best) / sum_a p(a),

a probability over what it could have done on this page.

Measured (BENCHMARKS.md): on held-out steps of a 2 M-parameter policy this
chose a select's option a little better than decoding, and a typed span and
`done` worse (a shorter span of the request, or a one-token `back`, outscoring
the right action), so it is the backend's `choose="score"` option, not its
default. `within=True` (the backend's `choose="within"`) scores only the
decoded action's siblings: the other options of the select it chose, the other
spans for the field it typed into; an action on no element stays as decoded.
Measured the same way, it too did worse than decoding (typed spans again).

Cost: the prompt is run once; its keys and values are copied to a chunk of
rows (`chunk`, 64 by default) and each chunk of candidates is one batched
forward of their few tokens, so a page with 400 candidates costs about seven
small forwards beside the prompt's.
"""
from __future__ import annotations

import copy
import itertools
import json

import torch

from llmos.agent.learn.observation import write_action

MAX_CANDIDATES = 4000      # a page with more listed actions than this keeps greedy decoding


def _enum(prop: dict) -> list | None:
    if "const" in prop:
        return [prop["const"]]
    return list(prop["enum"]) if "enum" in prop else None


def listed_actions(schema: dict) -> list[dict]:
    """Every action of `schema` (`action_schema`'s anyOf) whose required properties are all enumerated:
    clicks, selects, types with the request's spans, back; optional properties left out."""
    out = []
    for variant in schema["anyOf"]:
        props, required = variant["properties"], variant["required"]
        choices = [_enum(props[name]) for name in required]
        if any(c is None for c in choices):
            continue                                  # free text (done's answer, a question): decoded
        for values in itertools.product(*choices):
            out.append(dict(zip(required, values)))
    return out


@torch.no_grad()
def sequence_logprobs(model, prompt: list[int], continuations: list[list[int]], chunk: int = 64) -> list[float]:
    """log p(c | prompt) for each continuation c (lists of token ids), the prompt run once."""
    if not continuations:
        return []
    longest = max(len(c) for c in continuations)
    cache = model.new_cache(1, max_len=len(prompt) + longest)
    first = model(torch.tensor([prompt]), cache=cache).logits[0, -1].float().log_softmax(-1)   # (V,)
    scores: list[float] = []
    for at in range(0, len(continuations), chunk):
        part = continuations[at:at + chunk]
        n, width = len(part), max(len(c) for c in part)
        rows = copy.copy(cache)
        rows.reorder([0] * n)                         # new tensors (index_select): `cache` keeps the prompt alone
        ids = torch.tensor([c + [c[-1]] * (width - len(c)) for c in part])                    # (n, W), right pad
        logp = model(ids[:, :-1], cache=rows).logits.float().log_softmax(-1) if width > 1 else None  # (n, W-1, V)
        for i, c in enumerate(part):
            total = float(first[c[0]])
            if logp is not None and len(c) > 1:
                total += float(logp[i, torch.arange(len(c) - 1), torch.tensor(c[1:])].sum())
            scores.append(total)
    return scores


def same_target(actions: list[dict], decoded: str | None) -> list[dict]:
    """The listed actions of the decoded action's type on its element (its other options or spans);
    [] when `decoded` is not JSON or names no element."""
    try:
        d = json.loads(decoded or "")
    except json.JSONDecodeError:
        return []
    if not isinstance(d, dict) or "element" not in d:
        return []
    return [a for a in actions if a.get("type") == d.get("type") and a.get("element") == d["element"]]


def choose(model, tokenizer, prompt: list[int], schema: dict, decoded: str | None = None,
           chunk: int = 64, within: bool = False) -> tuple[str | None, float]:
    """(the best listed action as `write_action` text, its share of the listed ones' probability).

    `decoded`, the greedy constrained action, is listed too; (None, 0.0) when
    the page lists nothing or more than MAX_CANDIDATES actions. With `within`,
    only the decoded action's type and element are listed (`same_target`):
    decoding picks what to act on, scoring picks the option or span."""
    from llmos.train.align.data import encode_response

    actions = listed_actions(schema)
    if within:
        actions = same_target(actions, decoded)
        if not actions:
            return None, 0.0                          # a done, a question, a scroll: decoding's own
    texts = [write_action(a) for a in actions]
    if decoded and decoded not in texts:
        try:
            json.loads(decoded)
            texts.append(decoded)
        except json.JSONDecodeError:
            pass
    if not texts or len(texts) > MAX_CANDIDATES:
        return None, 0.0
    room = model.config.max_seq_len - len(prompt)
    seqs = [encode_response(tokenizer, t) for t in texts]
    keep = [i for i, s in enumerate(seqs) if 0 < len(s) <= room]
    if not keep:
        return None, 0.0
    scores = torch.tensor(sequence_logprobs(model, prompt, [seqs[i] for i in keep], chunk))
    best = int(scores.argmax())
    share = float(torch.softmax(scores, 0)[best])
    return texts[keep[best]], share
