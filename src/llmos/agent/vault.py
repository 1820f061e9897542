"""Secrets the person lends a session, seen by the model only as placeholders.

The model writes `{{secret:card_number}}`; the vault swaps in the value at the
moment the browser types it, and `scrub` turns any value back into its
placeholder before text reaches a prompt, a trace or a log. The model, the
trace and the HTTP responses therefore never hold a secret, even when a page
echoes one back ("Card 4111 1111 1111 1111 accepted").
"""
from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*secret:([A-Za-z0-9_.-]+)\s*\}\}")
NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
MIN_SECRET_LENGTH = 4   # shorter values would scrub ordinary text ("1", "yes")


class SecretError(ValueError):
    """A placeholder names no secret, or a secret is unusable."""


class Vault:
    def __init__(self, secrets: dict[str, str] | None = None):
        self._secrets: dict[str, str] = {}
        for name, value in (secrets or {}).items():
            if not NAME.match(name):
                raise SecretError(f"secret name {name!r} may hold only letters, digits, '_', '.', '-'")
            if len(value) < MIN_SECRET_LENGTH:
                raise SecretError(f"secret {name!r} is shorter than {MIN_SECRET_LENGTH} characters; "
                                  "so short a value cannot be scrubbed from traces reliably")
            self._secrets[name] = value
        # Longest first, so a secret containing another is scrubbed whole.
        self._by_length = sorted(self._secrets.items(), key=lambda kv: -len(kv[1]))
        # Digit secrets (card numbers) also match when a page groups them: 4111 1111-1111 ...
        self._patterns = [(name, re.compile(r"[\s-]?".join(value)))
                          for name, value in self._by_length if value.isdigit() and len(value) >= 8]

    @property
    def names(self) -> list[str]:
        return sorted(self._secrets)

    def values(self) -> list[str]:
        return [v for _, v in self._by_length]

    def __repr__(self) -> str:
        return f"Vault(names={self.names})"

    def placeholders(self, text: str) -> list[str]:
        return PLACEHOLDER.findall(text)

    def fill(self, text: str) -> str:
        """Replace each `{{secret:NAME}}` with its value (only where the browser types)."""
        def sub(m: re.Match) -> str:
            name = m.group(1)
            if name not in self._secrets:
                known = ", ".join(self.names) or "none were given"
                raise SecretError(f"no secret named {name!r} (known secrets: {known})")
            return self._secrets[name]
        return PLACEHOLDER.sub(sub, text)

    def scrub(self, obj: Any) -> Any:
        """A copy of `obj` (str, dict, list, nested) with every secret value replaced by its placeholder."""
        if not self._secrets:
            return obj
        if isinstance(obj, str):
            for name, value in self._by_length:
                if value in obj:
                    obj = obj.replace(value, "{{secret:%s}}" % name)
            for name, pattern in self._patterns:
                obj = pattern.sub("{{secret:%s}}" % name, obj)
            return obj
        if isinstance(obj, dict):
            return {k: self.scrub(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.scrub(v) for v in obj]
        return obj
