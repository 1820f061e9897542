"""Reading a model's reply as one typed `Action`, repairing what can be repaired.

Models wrap JSON in prose and code fences, leave trailing commas, write
Python's `True`, call the element `index`, or nest the action under a key
(`{"action": {...}}`, `{"click": {"element": 3}}`). Those are repaired here;
anything else raises `ActionParseError` with a message written for the model,
so the agent can retry with it a bounded number of times.
"""
from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from llmos.agent.views import ACTION_TYPES, Action, parse_action

FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)


class ActionParseError(ValueError):
    """The reply holds no valid action; the message tells the model what to fix."""


def _loads_lenient(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    fixed = re.sub(r",\s*([}\]])", r"\1", text)                          # trailing commas
    fixed = re.sub(r"\bTrue\b", "true", re.sub(r"\bFalse\b", "false", fixed))
    fixed = re.sub(r"\bNone\b", "null", fixed)
    if "'" in fixed and '"' not in fixed:                                  # {'type': 'back'}
        fixed = fixed.replace("'", '"')
    return json.loads(fixed)


def _matching_brace(s: str, i: int) -> int | None:
    """Index of the `}` closing the `{` at `i` (braces inside double-quoted strings ignored)."""
    depth, in_str, esc = 0, False, False
    for j in range(i, len(s)):
        c = s[j]
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j
    return None


def _json_objects(text: str) -> list[Any]:
    """Every top-level JSON object found in `text`, fenced ones first."""
    found = []
    for chunk in FENCE.findall(text) + [text]:
        pos = 0
        for m in re.finditer(r"\{", chunk):
            if m.start() < pos:
                continue
            end = _matching_brace(chunk, m.start())
            if end is None:
                continue
            try:
                found.append(_loads_lenient(chunk[m.start():end + 1]))
                pos = end + 1
            except json.JSONDecodeError:
                continue
    return found


def _normalise(obj: Any) -> Any:
    """Unwrap the common shapes models use into `{"type": ..., ...}`."""
    if not isinstance(obj, dict):
        return obj
    if "action" in obj and isinstance(obj["action"], dict):
        inner = dict(obj["action"])
        if "thought" in obj and "thought" not in inner:
            inner["thought"] = obj["thought"]
        return _normalise(inner)
    if "action" in obj and isinstance(obj["action"], str) and "type" not in obj:
        obj = dict(obj)
        obj["type"] = obj.pop("action")
    if "type" not in obj:
        keys = [k for k in obj if k in ACTION_TYPES]
        if len(keys) == 1:
            body = obj[keys[0]]
            out = {"type": keys[0], **(body if isinstance(body, dict) else {})}
            if "thought" in obj:
                out["thought"] = obj["thought"]
            return out
    obj = dict(obj)
    for alias in ("index", "element_index", "id"):
        if alias == "id" and obj.get("type") == "memory_update":   # memory #id, not an element
            continue
        if alias in obj and "element" not in obj:
            obj["element"] = obj.pop(alias)
    if isinstance(obj.get("type"), str):
        obj["type"] = obj["type"].strip().lower()
    return obj


def parse_reply(text: str) -> Action:
    """The one action in a model's reply, or `ActionParseError` saying what is wrong."""
    objects = _json_objects(text)
    if not objects:
        raise ActionParseError("your reply held no JSON object; answer with exactly one JSON "
                               'object such as {"type": "click", "element": 3}')
    errors = []
    for obj in objects:
        obj = _normalise(obj)
        try:
            return parse_action(obj)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            errors.append(f"{where}: {first['msg']}" if where else first["msg"])
    kinds = ", ".join(ACTION_TYPES)
    raise ActionParseError(f"your JSON is not a valid action ({errors[0]}); \"type\" must be "
                           f"one of {kinds}, with that action's fields")
