"""The action JSON schema of one page: what the policy may answer, given what it sees.

The schema is built afresh from each observation, so the decoder can only
name elements that are listed, only `type` into fields, only `click` what is
clickable, and only `select` an option that the select lists:

    {"anyOf": [
      {"type": "click",  "element": <one of the clickable indices>},
      {"type": "type",   "element": <one of the text fields>, "text": <a span of the request>},
      {"type": "select", "element": 7, "option": <one of element 7's options>},   (one per select)
      {"type": "done",   "answer": "...", ["success": false]},
      {"type": "ask_user", "question": "..."},
      {"type": "scroll", ["direction": "down" | "up"], ["pages": 0.5]}, {"type": "extract", ["query": "..."]},
      {"type": "back"}]}

What the policy types is copied from the person: given the request (and the
last note, which holds the person's answer to a question), `text` is one of
its word spans (`typed_values`) or a `{{secret:NAME}}` the request names, so
no page can get its words typed into a form, and a small model only has to
choose a span, not spell it. Without a request, `text` is any string of at
most 80 characters.

The same holds for a choice the request makes: where the request names some
of a select's options (as whole words, case aside; options of one or two
characters, like a size "M", as written), the policy chooses among those
(`named_options`): "from Berlin to Rome on 2025-06-12" leaves From and To
a choice of two cities and Date one date. A select whose options the request
does not name (a sort order, say) keeps all of them.

With `picks` (the observation format of a policy trained with them), the
request's own words settle which named city goes where: an option whose cue
(`observation.option_cues`, the request's word just before it) is a word of
the select's label is the one that select keeps, and an option another select
keeps that way is dropped from the rest:

    "the latest flight Paris to Amsterdam"   To: Amsterdam ("to" is its label)
                                             From: Paris (Amsterdam is To's)

A small policy decides From against To at chance (about half of each, even on
its training steps; BENCHMARKS.md), so this is left to the schema, where the
request says it plainly; where it does not, both cities stay.

Nor does the schema offer an action that would change nothing: selecting the
option a select already shows, clicking a radio button that is already
checked, or typing into a field that already holds one of the request's
values (a field holding anything else can still be typed over). Repeating a
step that is already done is the commonest way a small policy loops; under
this schema the step it repeats is simply not there, and the next most likely
action, the one that moves the task on, is taken instead.

With `marks` (the observation's `*` on each checkbox and radio the request
names), a page where the request names some of the boxes or radios is one
where it chose among them: an unchecked box or radio of that role that it
does not name is not offered ("search for economy flights" leaves Business
unclicked; "interests: Science" leaves History). A box that must be ticked
and that the request never mentions, a consent box say, is then the
person's to tick: the policy can only ask.

Properties come in the order the demonstrations write them (`write_action`),
with json.dumps's separators, which is also what the grammar engine emits.
A valid action is still only a proposal: the agent's policy and limits judge
it exactly as they judge any model's.
"""
from __future__ import annotations

import re

from llmos.agent.learn.observation import named_elements, option_cues, picked_options
from llmos.agent.views import Element, Observation

MAX_TYPED = 80
MAX_ANSWER = 80
MAX_SPAN_WORDS = 16
SECRET = re.compile(r"\bsecrets? (\w+)")
_OPEN, _CLOSE, _END = "\"'(", "\"'),;:", ".?!"
NOT_TYPABLE = ("checkbox", "radio", "submit", "button", "image", "reset", "file", "hidden")


def kind_of(e: Element) -> str:
    """"select", "type" or "click": which action an element takes."""
    if e.tag == "select":
        return "select"
    if e.tag == "textarea" or (e.tag == "input" and (e.input_type or "text") not in NOT_TYPABLE):
        return "type"
    return "click"


def typed_values(*texts: str) -> list[str]:
    """Every run of up to 16 words of `texts`, quotes, brackets and commas trimmed (with and without a
    full stop at the end), and `{{secret:NAME}}` for each secret named:

        typed_values('Book for Ada Lovelace (ada@example.com).')
        -> ['Book', 'Book for', ..., 'Ada Lovelace', ..., 'ada@example.com', ...]
    """
    out: dict[str, None] = {}
    for text in texts:
        words = text.split()
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + MAX_SPAN_WORDS) + 1):
                span = " ".join(words[i:j]).lstrip(_OPEN).rstrip(_CLOSE)
                for value in (span, span.rstrip(_CLOSE + _END)):
                    if value and len(value) <= MAX_TYPED:
                        out[value] = None
        for name in SECRET.findall(text):
            out["{{secret:" + name + "}}"] = None
    return list(out)


def named_options(options: list[str], *texts: str) -> list[str]:
    """The options that `texts` name as whole words (case aside, but as written when 1-2 characters long)."""
    def named(option: str) -> bool:
        short = len(option.strip()) <= 2
        want = option.strip() if short else option.strip().casefold()
        if not want:
            return False
        pattern = re.compile(rf"(?<!\w){re.escape(want)}(?!\w)")
        return any(pattern.search(text if short else text.casefold()) for text in texts if text)
    return [o for o in options if named(o)]


def label_picks(obs: Observation, *texts: str) -> dict[int, list[str]]:
    """select index -> the options whose cue in `texts` is a word of its label (module docstring)."""
    said = " ".join(t for t in texts if t)
    out = {}
    for e in obs.elements:
        if kind_of(e) == "select" and e.options:
            picked = picked_options(e.label, option_cues(e.options, said))
            if picked:
                out[e.index] = [o for o in e.options if o in picked]
    return out


def _by_label(index: int, options: list[str], picks: dict[int, list[str]]) -> list[str]:
    mine = [o for o in options if o in picks.get(index, ())]
    if mine:
        return mine
    others = {o for i, chosen in picks.items() if i != index for o in chosen}
    return [o for o in options if o not in others] or options


def _variant(kind: str, required: dict, optional: dict | None = None) -> dict:
    props = {"type": {"const": kind}, **required, **(optional or {})}
    return {"type": "object", "properties": props, "required": ["type", *required],
            "additionalProperties": False}


def _is_checked_radio(e: Element) -> bool:
    return e.role == "radio" and bool(e.checked)


def _unnamed_boxes(obs: Observation, *texts: str) -> set[int]:
    """Unchecked boxes and radios the request leaves out where it names others of their role."""
    named = named_elements(obs.elements, *texts)
    roles = {e.role for e in obs.elements if e.index in named}
    return {e.index for e in obs.elements if e.role in roles and e.index not in named and not e.checked}


def action_schema(obs: Observation, task: str = "", note: str = "", picks: bool = False,
                  marks: bool = False) -> dict:
    """The JSON schema of the actions that make sense on `obs` for the request `task` (module docstring)."""
    values = typed_values(task, note) if task else []
    known = set(values)
    left_out = _unnamed_boxes(obs, task, note) if marks and task else set()
    clicks = [e.index for e in obs.elements if kind_of(e) == "click" and not e.disabled and not _is_checked_radio(e)
              and e.index not in left_out]
    fields = [e.index for e in obs.elements
              if kind_of(e) == "type" and not e.disabled and not (e.value and e.value in known)]
    by_label = label_picks(obs, task, note) if picks and task else {}
    variants = []
    if clicks:
        variants.append(_variant("click", {"element": {"enum": clicks}}))
    if fields:
        text = {"enum": values} if task else {"type": "string", "maxLength": MAX_TYPED}
        variants.append(_variant("type", {"element": {"enum": fields}, "text": text}))
    for e in obs.elements:
        if kind_of(e) == "select" and e.options and not e.disabled:
            options = list(dict.fromkeys(e.options))
            options = (named_options(options, task, note) or options) if task else options
            options = _by_label(e.index, options, by_label)
            options = [o for o in options if o != e.value]           # the one it shows: no change
            if options:
                variants.append(_variant("select", {"element": {"const": e.index}, "option": {"enum": options}}))
    variants += [
        _variant("done", {"answer": {"type": "string", "maxLength": MAX_ANSWER}},
                 {"success": {"type": "boolean"}}),
        _variant("ask_user", {"question": {"type": "string", "minLength": 1, "maxLength": MAX_ANSWER}}),
        _variant("scroll", {}, {"direction": {"enum": ["down", "up"]}, "pages": {"enum": [0.5, 1]}}),
        _variant("extract", {}, {"query": {"type": "string", "maxLength": 40}}),
        _variant("back", {}),
    ]
    return {"anyOf": variants}
