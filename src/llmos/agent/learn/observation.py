"""The compact observation: what the trained policy reads at every step, in training and at run time.

A small model has a short context, so the step's `StepContext` is written as
plain lines with nothing repeated and nothing it cannot act on:

    page: /flights/booking/BK1001/passenger | Passenger details
    done: select 3 "Lisbon"; select 4 "Paris"; click 8
    note: (the last note: a nudge from the loop guard, the person's answer, an extract)
    3 textbox First name ="Ada"
    5 radio Economy [x]
    4 select To ="Choose a city" <Amsterdam|Berlin|Lisbon|Madrid|Paris|Rome>
    text: Flight SL107: Lisbon to Paris, 2025-06-12, departs 09:15, arrives 11:45, ...
    task: Book the cheapest economy flight from Lisbon to Paris on 2025-06-12 for ...
    action:

The task comes last, just before the action: the values an action copies
(a city, a name, an email) are then a few dozen tokens back rather than a few
hundred, and a prompt cut to fit the context loses the page's first lines,
never the task. (Where the task stands did not, on its own, make a 2.4
M-parameter policy copy values from it; see BENCHMARKS.md.)

With `marks` on (the format a policy is trained with travels beside it in
`observation.json`), a checkbox or radio whose label the request names gets a
`*`: one of its words (case aside) is a word of the request (or of the last
note), leaving out words every element of its role on the page shares:

    task: ... with a window seat and a vegetarian meal
    7 radio Seat 12A, window [ ] *          ("seat" is on every seat, "window" is in the request)
    8 radio Seat 12B, middle [ ]
    4 checkbox Vegetarian [ ] *

so whether the request asks for a box is read off its own line, not matched
across the prompt by a model of a few million parameters.

With `cues` on (the same file), each select option the request names carries
the request's word just before it, so which city goes into From and which into
To is read off the option, next to the select's own label, rather than copied
by position from the task line:

    task: ... economy flights from Lisbon to Berlin on 2025-06-12
    3 select From ="Choose a city" <Amsterdam|Berlin ~to|Lisbon ~from|Madrid|Paris|Rome>
    5 select Date ="Choose a date" <2025-06-10|2025-06-11|2025-06-12 ~on|...>

(a word of letters only; an option the request names after a number or a
bracket gets no cue).

With `picks` on as well, an option whose cue is a word of its select's own
label gets a `*`, so the From select points at the From city and the To
select at the To city without the model comparing the cue with the label:

    3 select From ="Choose a city" <Amsterdam|Berlin ~to|Lisbon ~from *|Madrid|Paris|Rome>
    4 select To ="Choose a city" <Amsterdam|Berlin ~to *|Lisbon ~from|Madrid|Paris|Rome>

Every element the agent listed is kept, with its index, role, label, value,
checked state and options (links lose their href: the host and port of the
suite say nothing about what to do). Page text keeps only the lines that no
element already shows, cut to `max_text` characters. The action the model
answers with is one line of JSON (`write_action`), the same the agent's parser
reads.
"""
from __future__ import annotations

import json
import re
from urllib.parse import urlparse

from llmos.agent.views import Element, StepContext

MAX_TEXT = 400
MAX_HISTORY = 4
MAX_NOTE = 160
MAX_OPTIONS = 12
MARKED = ("checkbox", "radio")
_WORD = re.compile(r"[^\W_]+")
_STOP = {"the", "and", "for", "with", "you", "your", "me", "my", "of", "to", "a", "an", "in", "on", "by", "or"}


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.casefold()) if len(w) > 1 and w not in _STOP}


def named_elements(elements: list[Element], *texts: str) -> set[int]:
    """Indices of the checkboxes and radios whose label the texts name (module docstring)."""
    said = set().union(*(_words(t) for t in texts if t))
    out = set()
    for role in MARKED:
        group = [e for e in elements if e.role == role]
        shared = set.intersection(*(_words(e.label) for e in group)) if len(group) > 1 else set()
        out.update(e.index for e in group if (_words(e.label) - shared) & said)
    return out


def option_cues(options: list[str], text: str) -> dict[str, str]:
    """option -> the word of `text` right before its first mention (whole words, case aside; letters only)."""
    folded, out = text.casefold(), {}
    for option in options:
        want = option.strip().casefold()
        if len(want) < 3:
            continue
        found = re.search(rf"(?<!\w){re.escape(want)}(?!\w)", folded)
        if found:
            before = re.search(r"([^\W\d_]+)\W*$", folded[:found.start()])
            if before and folded[before.end(1):found.start()].strip() == "":
                out[option] = before.group(1)
    return out


def picked_options(label: str, cues: dict[str, str]) -> set[str]:
    """The options whose cue is a word of the select's label (every word, stop words too: "To")."""
    said = set(_WORD.findall(label.casefold()))
    return {option for option, cue in cues.items() if cue in said}


def _element_line(e: Element, marked: bool = False, cues: dict[str, str] | None = None,
                  picked: set[str] = frozenset()) -> str:
    line = f"{e.index} {e.role} {e.label}"
    if e.role in ("checkbox", "radio"):
        line += " [x]" if e.checked else " [ ]"
        if marked:
            line += " *"
    elif e.value:
        line += f' ="{e.value}"'
    if e.options:
        cues = cues or {}
        line += " <" + "|".join(o + (f" ~{cues[o]}" if o in cues else "") + (" *" if o in picked else "")
                                for o in e.options[:MAX_OPTIONS]) + ">"
    if e.disabled:
        line += " disabled"
    return line


def _page_text(ctx: StepContext, max_text: int) -> str:
    shown = set()
    for e in ctx.observation.elements:
        shown.add(e.label.strip())
        shown.update(o.strip() for o in e.options)
    lines = [ln.strip() for ln in ctx.observation.text.splitlines()]
    kept = [ln for ln in lines if ln and ln not in shown]
    return " / ".join(kept)[:max_text]


def _history_item(action: dict) -> str:
    kind = action.get("type", "?")
    parts = [kind]
    if "element" in action:
        parts.append(str(action["element"]))
    for key in ("text", "option", "query", "url"):
        if key in action:
            parts.append(json.dumps(action[key], ensure_ascii=False))
    return " ".join(parts)


def render(ctx: StepContext, max_text: int = MAX_TEXT, marks: bool = False, cues: bool = False,
           picks: bool = False) -> str:
    """The prompt for one step: page, recent actions, elements, page text, task, then `action:`."""
    obs = ctx.observation
    path = urlparse(obs.url).path if obs.url.startswith("http") else obs.url
    lines = [f"page: {path or '(none)'} | {obs.title}"]
    history = []
    for h in ctx.history[-MAX_HISTORY:]:
        item = _history_item(h.action.model_dump(exclude={"thought"})) if h.action else "the person"
        if h.outcome.lower().startswith(("error", "denied", "not done", "loop")):
            item += f" ({h.outcome[:60]})"
        history.append(item)
    if history:
        lines.append("done: " + "; ".join(history))
    if ctx.notes:
        lines.append("note: " + " ".join(ctx.notes[-1].split())[:MAX_NOTE])
    named = named_elements(obs.elements, ctx.task, ctx.notes[-1] if ctx.notes else "") if marks else set()
    said = ctx.task + (" " + ctx.notes[-1] if ctx.notes else "")
    for e in obs.elements:
        found = option_cues(e.options, said) if (cues or picks) and e.options else {}
        lines.append(_element_line(e, e.index in named, found if cues else None,
                                   picked_options(e.label, found) if picks else frozenset()))
    text = _page_text(ctx, max_text)
    if text:
        lines.append(f"text: {text}")
    lines += [f"task: {ctx.task}", "action:"]
    return "\n".join(lines)


def write_action(action: dict) -> str:
    """An action (JSON dict, no thought) as the one line the model answers with."""
    body = {"type": action["type"], **{k: v for k, v in action.items() if k not in ("type", "thought")}}
    return json.dumps(body, ensure_ascii=False)  # json.dumps's separators, as the grammar emits
