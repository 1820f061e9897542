"""Chat templates: Jinja programs that turn a list of messages into one prompt.

Hugging Face tokenizers carry their model's chat template (in
`tokenizer_config.json` or `chat_template.jinja`). llmos renders it the way
`transformers` does, so a prompt built here is byte-for-byte the prompt the
model was trained on: a sandboxed Jinja environment with `trim_blocks` and
`lstrip_blocks`, the `loopcontrols` extension, `raise_exception`,
`strftime_now` and a `tojson` that does not escape HTML.
"""
from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

DEFAULT_CHAT_TEMPLATE = (Path(__file__).parent / "templates" / "default_chat.jinja").read_text(encoding="utf-8")


class ChatTemplateError(ValueError):
    """The messages or the template are not usable together; the message says why."""


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None,
            separators: Any = None, sort_keys: bool = False) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


@lru_cache(maxsize=32)
def _compile(template: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    try:
        return env.from_string(template)
    except jinja2.TemplateSyntaxError as e:
        raise ChatTemplateError(f"the chat template does not parse: {e}") from None


def render_chat_template(template: str, messages: list[dict[str, Any]], *,
                         add_generation_prompt: bool = True, **variables: Any) -> str:
    """Render `messages` with a Jinja chat `template` (variables such as `bos_token`)."""
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise ChatTemplateError("messages must be a list of {'role': ..., 'content': ...} dicts")
    for i, m in enumerate(messages):
        if "role" not in m:
            raise ChatTemplateError(f"message {i} has no 'role' (expected system, user, assistant or tool)")
    try:
        return _compile(template).render(messages=messages, add_generation_prompt=add_generation_prompt,
                                         **variables)
    except jinja2.TemplateError as e:
        raise ChatTemplateError(f"the chat template refused these messages: {e}") from None
