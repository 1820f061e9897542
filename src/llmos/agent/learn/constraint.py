"""The action JSON schema of one page: what the policy may answer, given what it sees.

The schema is built afresh from each observation, so the decoder can only
name elements that are listed, only `type` into fields, only `click` what is
clickable, and only `select` an option that the select lists:

    {"anyOf": [
      {"type": "click",  "element": <one of the clickable indices>},
      {"type": "type",   "element": <one of the text fields>, "text": "<at most 80 characters>"},
      {"type": "select", "element": 7, "option": <one of element 7's options>},   (one per select)
      {"type": "done",   "answer": "...", ["success": false]},
      {"type": "ask_user", "question": "..."},
      {"type": "scroll", ["direction": "down" | "up"], ["pages": 0.5]}, {"type": "extract", ["query": "..."]},
      {"type": "back"}]}

Properties come in the order the demonstrations write them (`write_action`),
with json.dumps's separators, which is also what the grammar engine emits.
A valid action is still only a proposal: the agent's policy and limits judge
it exactly as they judge any model's.
"""
from __future__ import annotations

from llmos.agent.views import Element, Observation

MAX_TYPED = 80
MAX_ANSWER = 80
NOT_TYPABLE = ("checkbox", "radio", "submit", "button", "image", "reset", "file", "hidden")


def kind_of(e: Element) -> str:
    """"select", "type" or "click": which action an element takes."""
    if e.tag == "select":
        return "select"
    if e.tag == "textarea" or (e.tag == "input" and (e.input_type or "text") not in NOT_TYPABLE):
        return "type"
    return "click"


def _variant(kind: str, required: dict, optional: dict | None = None) -> dict:
    props = {"type": {"const": kind}, **required, **(optional or {})}
    return {"type": "object", "properties": props, "required": ["type", *required],
            "additionalProperties": False}


def action_schema(obs: Observation) -> dict:
    """The JSON schema of the actions that make sense on `obs` (see the module docstring)."""
    clicks = [e.index for e in obs.elements if kind_of(e) == "click" and not e.disabled]
    fields = [e.index for e in obs.elements if kind_of(e) == "type" and not e.disabled]
    variants = []
    if clicks:
        variants.append(_variant("click", {"element": {"enum": clicks}}))
    if fields:
        variants.append(_variant("type", {"element": {"enum": fields},
                                          "text": {"type": "string", "maxLength": MAX_TYPED}}))
    for e in obs.elements:
        if kind_of(e) == "select" and e.options and not e.disabled:
            variants.append(_variant("select", {"element": {"const": e.index},
                                                "option": {"enum": list(dict.fromkeys(e.options))}}))
    variants += [
        _variant("done", {"answer": {"type": "string", "maxLength": MAX_ANSWER}},
                 {"success": {"type": "boolean"}}),
        _variant("ask_user", {"question": {"type": "string", "minLength": 1, "maxLength": MAX_ANSWER}}),
        _variant("scroll", {}, {"direction": {"enum": ["down", "up"]}, "pages": {"enum": [0.5, 1]}}),
        _variant("extract", {}, {"query": {"type": "string", "maxLength": 40}}),
        _variant("back", {}),
    ]
    return {"anyOf": variants}
