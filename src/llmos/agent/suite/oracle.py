"""The scripted oracle: solves a suite task from observations, through the agent's Action API.

Each task carries a plan (`tasks.json`, "oracle") of steps that name page
elements by their label text, never by number: `{"click": "Find booking"}`,
`{"type": "Last name", "text": "Hopper"}`, `{"pick": "^Select SL", "by":
"price", "order": "min"}`. At every step the oracle reads the current
`Observation`, finds the element the step names and returns the `Action` for
it, exactly as a model would. So when the oracle solves every task, the sites,
the checks and the browser layer (distillation, actions, stale-element
recovery) are all shown to work.

A `recall` step (`{"recall": "seat", "query": "seat preference", "kind":
"preference"}`) searches the person's memory with the memory_search action and
keeps the value found; later steps use it as `{seat}` (`{diet:title}`,
`{address.street}`). The memory tasks are solved this way, through the memory
API only; if the search finds nothing (memory off), the oracle gives up.

It is careful the way a robust agent is: a step whose target is not on the
page yet (content that loads late) waits and looks again; a step whose
action came back failed (a stale element number, a page still loading) is
retried; a checkbox already checked or a field already holding its text is
left alone.
"""
from __future__ import annotations

import json
import re
import time

from llmos.agent.views import (Action, ClickAction, DoneAction, Element, ExtractAction,
                               MemorySearchAction, NavigateAction, Observation, ScrollAction,
                               SelectAction, StepContext, TypeAction)
from llmos.agent.suite.tasks import Task

OPS = ("click", "click_first", "check", "type", "select", "pick", "navigate", "answer",
       "answer_pick", "done", "recall")
# `{name}`, `{name:title}` and `{address.street}` in a plan step: values recalled from memory
SLOT = re.compile(r"\{([a-z_]+)(?:\.([a-z_]+))?(:title)?\}")
# a memory_search result line: "#2 [preference seat = aisle] prefers aisle seats (...)"
HIT = re.compile(r"^#\d+ \[(\w+) ([^\]]+?)(?: = (.*?))?\] (.*) \(source (\w+), confidence ([\d.]+)", re.M)
# An outcome that says the action did not happen, in the agent loop's own words: a browser
# error, a policy denial, a loop-guard refusal, or a stale element number.
FAILED_OUTCOME = re.compile(r"^(error:|denied|not done|element \d+ .*changed or disappeared)", re.I)
PRICE = re.compile(r"€\s*(\d+(?:\.\d+)?)")
TIME = re.compile(r"\b(\d{1,2}:\d{2})\b")


class OracleError(ValueError):
    """A plan step is malformed; the message names the step."""


def expand(plan: list[dict]) -> list[dict]:
    """Replace the few macro steps (a flight search, a passenger, an address, a card) by their steps."""
    out: list[dict] = []
    for step in plan:
        if "search_flights" in step:
            s = step["search_flights"]
            out += [{"select": "From", "option": s["from"]}, {"select": "To", "option": s["to"]},
                    {"select": "Date", "option": s["date"]},
                    {"check": s.get("cabin", "Economy"), "role": "radio"},
                    {"click": "Search flights", "role": "button"}]
        elif "passenger" in step:
            p = step["passenger"]
            out += [{"type": "First name", "text": p["first"]}, {"type": "Last name", "text": p["last"]},
                    {"type": "Email", "text": p["email"]}, {"click": "Continue to seats"}]
        elif "address" in step:
            a = step["address"]
            out += [{"type": "Full name", "text": a["name"]}, {"type": "Street address", "text": a["street"]},
                    {"type": "City", "text": a["city"]}, {"type": "Postcode", "text": a["postcode"]},
                    {"select": "Country", "option": a["country"]}]
        elif "card" in step:
            out += [{"type": "Name on card", "text": step["card"]},
                    {"type": "Card number", "text": "{{secret:card_number}}"},
                    {"type": "Expiry date", "text": "12/29"},
                    {"type": "Security code", "text": "{{secret:card_cvc}}"}]
        else:
            if not any(op in step for op in OPS):
                raise OracleError(f"plan step {step} has none of the operations {OPS}")
            out.append(step)
    return out


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def find(obs: Observation, label: str | None = None, pattern: str | None = None,
         role: str | None = None) -> list[Element]:
    """Elements named by `label` (exact, then prefix, then substring match) or by a regex."""
    elements = [e for e in obs.elements if role is None or e.role == role]
    if pattern is not None:
        return [e for e in elements if re.search(pattern, e.label)]
    want = _norm(label or "")
    for test in (lambda s: s == want, lambda s: s.startswith(want), lambda s: want in s):
        found = [e for e in elements if test(_norm(e.label))]
        if found:
            return found
    return []


def _key(element: Element, by: str) -> float:
    if by == "price":
        m = PRICE.search(element.label)
        return float(m.group(1)) if m else float("nan")
    m = TIME.search(element.label)
    if not m:
        return float("nan")
    h, mnt = m.group(1).split(":")
    return int(h) * 60 + int(mnt)


def pick(obs: Observation, step: dict, op: str) -> Element | None:
    """The element among those matching `step[op]` with the least/greatest price or time."""
    found = [e for e in find(obs, pattern=step[op], role=step.get("role")) if not e.disabled]
    scored = [(_key(e, step.get("by", "price")), e) for e in found]
    scored = [(k, e) for k, e in scored if k == k]  # drop NaN: no price/time in the label
    if not scored:
        return None
    best = (max if step.get("order", "min") == "max" else min)(scored, key=lambda ke: ke[0])
    return best[1]


class OraclePolicy:
    """A scripted policy for one task: `policy(context) -> Action`, one call per step."""

    def __init__(self, task: Task, patience_s: float = 4.0, wait_s: float = 0.15):
        self.task = task
        self.plan = expand(task.oracle)
        self.patience_s = patience_s  # how long a step's target may take to appear
        self.wait_s = wait_s          # a pause before looking again, as a slow model would take
        self.pos = 0
        self.waits = 0
        self._waiting_since: float | None = None
        self._pending: Action | None = None
        self.recalled: dict[str, object] = {}   # what `recall` steps found in memory
        self._failure = ""

    def __call__(self, ctx: StepContext) -> Action:
        self._settle_previous(ctx)
        if self._failure:
            return DoneAction(success=False, answer=self._failure)
        obs = ctx.observation
        while self.pos < len(self.plan):
            step = self._fill(self.plan[self.pos])
            action = self._resolve(step, obs)
            if action == "skip":       # already as the step wants it
                self.pos += 1
                continue
            if action is None:         # not on the page yet: look again, for a bounded time
                now = time.monotonic()
                self._waiting_since = self._waiting_since or now
                if now - self._waiting_since > self.patience_s:
                    return DoneAction(success=False, answer=f"oracle: nothing on {obs.url} "
                                                            f"matches plan step {step}")
                self.waits += 1
                time.sleep(self.wait_s)
                return self._wait(step)
            self._waiting_since = None
            if isinstance(action, DoneAction):
                self.pos = len(self.plan)
                return action
            self._pending = action
            return action
        return DoneAction(answer="plan finished")

    # ------------------------------------------------------------------ internals

    def _settle_previous(self, ctx: StepContext) -> None:
        """Advance past the last plan step only if its action was actually done."""
        if self._pending is None:
            return
        last = ctx.history[-1] if ctx.history else None
        done = (last is not None and last.action is not None
                and last.action.key() == self._pending.key()
                and not FAILED_OUTCOME.search(last.outcome))
        if isinstance(self._pending, MemorySearchAction) and last is not None:
            done = self._take_recall(self.plan[self.pos], ctx, last.outcome)
        if done:
            self.pos += 1
        self._pending = None

    # ------------------------------------------------------------------ memory

    def _take_recall(self, step: dict, ctx: StepContext, outcome: str) -> bool:
        """Read the value a `recall` step asked for from the memory_search results (the step's note)."""
        name = step["recall"]
        notes = [n for n in ctx.notes if n.startswith(f"memory for {step['query']!r}")]
        hits = HIT.findall(notes[-1]) if notes else []
        value = None
        for kind, key, val, text, _source, _conf in hits:
            if step.get("learned") and key.startswith("learned:") and text.split(": ", 1)[-1].startswith("prefers"):
                feature = key.split(":", 2)[2]
                if feature.startswith(step["learned"] + "="):
                    value = feature.split("=", 1)[1]
                    break
            elif key == name and val:
                value = json.loads(val) if val.startswith("{") else val
                break
        if value is None:
            self._failure = f"oracle: memory holds no {name!r} ({outcome[:200]})"
            return False
        self.recalled[name] = value
        return True

    def _fill(self, step):
        """A plan step with its `{slot}`s replaced by recalled values."""
        if isinstance(step, dict):
            return {k: self._fill(v) for k, v in step.items()}
        if not isinstance(step, str) or "{" not in step:
            return step

        def sub(m: re.Match) -> str:
            if m.group(1) not in self.recalled:
                return m.group(0)
            v = self.recalled[m.group(1)]
            v = v[m.group(2)] if m.group(2) and isinstance(v, dict) else v
            return str(v).title() if m.group(3) else str(v)
        return SLOT.sub(sub, step)

    def _wait(self, step: dict) -> Action:
        # Alternate two harmless reads so a wait never looks like a repeated action.
        if self.waits % 2:
            return ExtractAction(query=str(next(iter(step.values()))), thought="waiting for the page")
        return ScrollAction(direction="down", pages=0.5, thought="waiting for the page")

    def _resolve(self, step: dict, obs: Observation) -> Action | str | None:
        role = step.get("role")
        if "recall" in step:
            return MemorySearchAction(query=step["query"], kind=step.get("kind", "any"), k=8,
                                      thought=f"recall {step['recall']} from memory")
        if "navigate" in step:
            base = re.match(r"^[a-z]+://[^/]+", obs.url)
            return NavigateAction(url=(base.group(0) if base else "") + step["navigate"])
        if "done" in step:
            return DoneAction(answer=step["done"])
        if "answer" in step:
            m = re.search(step["answer"], obs.text)
            if m is None:
                return None
            return DoneAction(answer=m.group(1) if m.groups() else m.group(0))
        if "answer_pick" in step:
            el = pick(obs, step, "answer_pick")
            return DoneAction(answer=el.label) if el else None
        if "pick" in step:
            el = pick(obs, step, "pick")
            return ClickAction(element=el.index) if el else None
        if "click_first" in step:
            found = [e for e in find(obs, pattern=step["click_first"], role=role) if not e.disabled]
            return ClickAction(element=found[0].index) if found else None
        label = step.get("click") or step.get("check") or step.get("type") or step.get("select")
        found = [e for e in find(obs, label=label, role=role) if not e.disabled]
        if not found:
            return None
        el = found[0]
        if "click" in step:
            return ClickAction(element=el.index)
        if "check" in step:
            return "skip" if el.checked else ClickAction(element=el.index)
        if "type" in step:
            text = step["text"]
            if "{{" not in text and el.value == text:
                return "skip"
            return TypeAction(element=el.index, text=text)
        if _norm(el.value) == _norm(step["option"]):
            return "skip"
        return SelectAction(element=el.index, option=step["option"])

