"""The memory in the agent loop: what each step is told, and what each session leaves behind.

    bank = MemoryBank("~/.llmos/memory")                  # one file per person under this folder
    agent = Agent(backend, hooks=[MemoryHooks(bank)])    # sessions read and write their person's memory

At a session's start its task is kept (recall) and the preferences the person
states in it are captured (typed; unsure ones become a note telling the model
to ask). Before every model call the step's context gets the memory block:
core blocks, sure preferences, and the memories that best match the task, all
within a token budget. After every step the action and its outcome are kept,
the person's replies are captured like the task, and a click or select among
several like options (flights, products) is recorded as a choice with the
options' features, which the learned-preference model fits. At the end the
outcome is kept.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmos.agent.hooks import AgentHooks
from llmos.agent.memory.embedder import Embedder, default_embedder, embedder_named
from llmos.agent.memory.memory import Memory
from llmos.agent.memory.store import MemoryStore, person_path, recorded_embedder
from llmos.agent.prompting import describe_action
from llmos.agent.views import ClickAction, Observation, SelectAction, StepContext, StepResult

if TYPE_CHECKING:
    from llmos.agent.session import Session

PRICE = re.compile(r"€\s*(\d+(?:\.\d+)?)")
CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\b")


class MemoryBank:
    """Each person's memory file under one data folder, opened once and shared by their sessions."""

    def __init__(self, data_dir: str | Path, embedder: Embedder | None = None):
        self.data_dir = Path(data_dir).expanduser()
        self.embedder = embedder or default_embedder()
        self._open: dict[str, Memory] = {}
        self._lock = threading.Lock()

    def memory(self, person: str) -> Memory:
        """The person's memory; a file written with another known embedder is opened with that one."""
        with self._lock:
            if person not in self._open:
                name = recorded_embedder(person_path(self.data_dir, person))
                embedder = self.embedder if name in (None, self.embedder.name) else embedder_named(name)
                self._open[person] = Memory(MemoryStore.open_person(self.data_dir, person, embedder))
            return self._open[person]

    def people(self) -> list[str]:
        return sorted(p.name[:-len(".memory.sqlite3")] for p in self.data_dir.glob("*.memory.sqlite3"))

    def close(self) -> None:
        with self._lock:
            for m in self._open.values():
                m.close()
            self._open.clear()


def option_features(label: str) -> dict[str, Any]:
    """An option's features from its visible label: the item, its price, the time of day it leaves."""
    feats: dict[str, Any] = {}
    if m := PRICE.search(label):
        feats["price"] = float(m.group(1))
    if m := CLOCK.search(label):
        hour = int(m.group(1))
        feats["departure"] = "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"
    if "nonstop" in label.lower() or re.search(r"\b\d+ stops?\b", label):
        feats["stops"] = "nonstop" if "nonstop" in label.lower() else "with stops"
    item = CLOCK.sub("", PRICE.sub("", label))
    item = re.sub(r"\b(select|add|buy|choose|to cart|departs|nonstop|\d+ stops?)\b|\bSL\d+\b|[,:()·-]+", " ",
                  item, flags=re.I)
    if item := " ".join(item.split()):
        feats["item"] = item
    feats["_label"] = label
    return feats


def choice_among(action, obs: Observation) -> tuple[str, list[dict], int] | None:
    """(domain, options, chosen) when `action` picks one of several like elements on the page."""
    if isinstance(action, SelectAction):
        el = obs.element(action.element)
        if el is None or len(el.options) < 3 or action.option not in el.options:
            return None   # two options are usually yes/no; not a preference among items
        return el.label.lower(), [option_features(o) | {"item": o} for o in el.options], el.options.index(action.option)
    if isinstance(action, ClickAction):
        el = obs.element(action.element)
        if el is None or not el.label:
            return None
        head = el.label.split()[0]
        like = [e for e in obs.elements if e.role == el.role and e.label.split()[:1] == [head]
                and (PRICE.search(e.label) or e.role == "link")]
        if len(like) < 2 or el not in like or not (PRICE.search(el.label) or CLOCK.search(el.label)):
            return None
        host = re.sub(r"^[a-z]+://[^/]+", "", obs.url).strip("/").split("/")[0] or "web"
        return host, [option_features(e.label) for e in like], like.index(el)
    return None


class MemoryHooks(AgentHooks):
    def __init__(self, bank: MemoryBank, budget_tokens: int = 400, record_choices: bool = True):
        self.bank, self.budget_tokens, self.record_choices = bank, budget_tokens, record_choices
        self._seen: dict[str, Observation] = {}

    def on_session_start(self, s: Session) -> None:
        person = getattr(s.options, "person", "me")
        s.memory = self.bank.memory(person).with_scrub(s.vault.scrub)
        s.memory.record("session", f"task: {s.input}", session=s.id)
        self._capture(s, s.input, None)

    def _capture(self, s: Session, said: str, step: int | None) -> None:
        for st, saved in s.memory.capture(said, session=s.id, step=step):
            if saved is None:
                s.add_note(f"The person may mean '{st.text}' (they said {st.said!r}) but it is not clear: "
                           f"ask them (ask_user) before relying on it, then memory_save it if they confirm.")

    def before_model(self, s: Session, context: StepContext) -> StepContext:
        if s.memory is None:
            return context
        self._seen[s.id] = context.observation
        block = s.memory.prompt_block(context.task, self.budget_tokens)
        return context.model_copy(update={"memory": block})

    def after_step(self, s: Session, result: StepResult, record: dict[str, Any]) -> None:
        if s.memory is None:
            return
        cmd = record.get("user_command") or {}
        if cmd.get("kind") == "reply" and cmd.get("text"):
            s.memory.record("message", f"the person said: {cmd['text']}", session=s.id, step=result.step)
            self._capture(s, cmd["text"], result.step)
        if result.action is not None:
            s.memory.record("step", f"{describe_action(result.action)} -> {result.message[:300]}",
                            session=s.id, step=result.step)
            obs = self._seen.get(s.id)
            if self.record_choices and obs is not None and not result.message.startswith("error:"):
                if (found := choice_among(result.action, obs)) is not None:
                    s.memory.record_choice(*found, session=s.id)

    def on_session_end(self, s: Session, result: StepResult | None) -> None:
        self._seen.pop(s.id, None)
        if s.memory is None:
            return
        what = f"{result.status.value}: {result.message}" if result else "closed before it finished"
        s.memory.record("outcome", f"task: {s.input} -> {what[:500]}", session=s.id)
