"""The engine's token log-probabilities in OpenAI's two shapes.

    chat:         {"content": [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}]}
    completions:  {"tokens": [...], "token_logprobs": [...], "top_logprobs": [{token: logprob}],
                   "text_offset": [...]}

A token's text is its own decoding; a byte-level token that holds part of a
UTF-8 character decodes to U+FFFD, so chat also gives the token's bytes.
"""
from __future__ import annotations

from llmos.infer.request import TokenLogprob
from llmos.serve.schemas import ChatLogprobs, CompletionLogprobs, TokenLogprobOut, TopLogprob


def _text(tokenizer, token_id: int) -> str:
    return tokenizer.decode([token_id])


def _bytes(tokenizer, token_id: int) -> list[int]:
    return list(_text(tokenizer, token_id).encode("utf-8"))


def chat_logprobs(tokenizer, lps: list[TokenLogprob]) -> ChatLogprobs:
    return ChatLogprobs(content=[TokenLogprobOut(
        token=_text(tokenizer, lp.token_id), logprob=lp.logprob, bytes=_bytes(tokenizer, lp.token_id),
        top_logprobs=[TopLogprob(token=_text(tokenizer, t), logprob=v, bytes=_bytes(tokenizer, t))
                      for t, v in lp.top]) for lp in lps])


def completion_logprobs(tokenizer, token_ids: list[int], lps: list[TokenLogprob | None],
                        offset: int = 0) -> CompletionLogprobs:
    """token_ids[i] scored by lps[i] (None: unscored, the prompt's first token); offsets count from `offset`."""
    tokens, offsets = [], []
    for t in token_ids:
        offsets.append(offset)
        text = _text(tokenizer, t)
        tokens.append(text)
        offset += len(text)
    return CompletionLogprobs(
        tokens=tokens, text_offset=offsets,
        token_logprobs=[None if lp is None else lp.logprob for lp in lps],
        top_logprobs=[None if lp is None else {_text(tokenizer, t): v for t, v in lp.top} for lp in lps])
