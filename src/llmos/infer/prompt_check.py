"""The checks every way of generating makes on a prompt, with one wording for each refusal."""
from __future__ import annotations

from collections.abc import Sequence


def check_prompt(prompt_ids: Sequence[int], vocab_size: int, context: int | None = None) -> None:
    """Refuse an empty prompt, an id outside the vocabulary, or (given `context`) a prompt that fills it.

    Raises ValueError saying what is wrong and what to do.
    """
    if not prompt_ids:
        raise ValueError("the prompt is empty; give at least one token (e.g. a BOS token)")
    bad = [t for t in prompt_ids if not (isinstance(t, int) and 0 <= t < vocab_size)]
    if bad:
        raise ValueError(f"prompt token id {bad[0]!r} is outside the model's vocabulary of {vocab_size}; "
                         "was the prompt encoded with this model's tokenizer?")
    if context is not None and len(prompt_ids) >= context:
        raise ValueError(f"the prompt has {len(prompt_ids)} tokens but the model's context is {context}; "
                         "shorten the prompt")
