"""The agent's memory, after Letta / MemGPT: core blocks, recall and archival facts, over one store.

    memory = Memory.open("~/.llmos/memory", "ada")
    memory.set_core("person", "Ada Lovelace, ada@example.com")   # always in the prompt, size-limited
    memory.record("message", "I'm vegetarian", session="s1")      # recall: sessions, messages, steps, outcomes
    memory.capture("I'm vegetarian and always take an aisle seat", session="s1")  # typed preferences
    memory.save("Ada lives in Lisbon", key="home_city", value="Lisbon")           # archival fact
    memory.search("where does Ada live", k=5)                    # hybrid keyword + meaning

Archival facts keep their provenance (session, step, time), a confidence and
their history: a new fact on the same key with another value supersedes the
old one (kept, marked superseded, out of default searches), and the same fact
said again is merged into the one kept (its `hits` count grows). Nothing holding
a secret of the session's vault is stored: recall text is scrubbed to the
secret's placeholder, and a fact that would hold a secret is refused.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from llmos.agent.memory.choices import ChoiceModel, fit_choices
from llmos.agent.memory.embedder import Embedder, default_embedder
from llmos.agent.memory.preferences import SETS, SURE, Statement, describe, extract, matches
from llmos.agent.memory.retrieval import Hit, Mode, fit_budget, search, time_window
from llmos.agent.memory.store import Item, MemoryStore

CORE_LIMITS = {"person": 1200, "persona": 600, "task": 800}   # characters per core block
RECALL_KINDS = ("session", "message", "step", "outcome")
ARCHIVAL_KINDS = ("fact", "preference")
DUPLICATE_DISTANCE = 0.04      # cosine distance under which two facts of one kind are the same fact


class CoreLimitError(ValueError):
    """A core block would exceed its size limit."""


class SecretInMemoryError(ValueError):
    """A fact would hold a secret from the vault; secrets never enter memory."""


@dataclass
class Saved:
    item: Item
    action: str                 # "added", "merged" (a duplicate) or "superseded" (replaced an older fact)
    previous: Item | None = None


class Memory:
    def __init__(self, store: MemoryStore, scrub: Callable[[str], str] | None = None):
        self.store = store
        self.scrub = scrub or (lambda text: text)

    @classmethod
    def open(cls, data_dir: str | Path, person: str, embedder: Embedder | None = None) -> "Memory":
        return cls(MemoryStore.open_person(data_dir, person, embedder or default_embedder()))

    def with_scrub(self, scrub: Callable[[str], str]) -> "Memory":
        """The same store, seen through one session's vault."""
        return Memory(self.store, scrub)

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------------ core blocks

    def core(self) -> dict[str, str]:
        have = self.store.core()
        return {name: have.get(name, ("", 0))[0] for name in CORE_LIMITS}

    def set_core(self, name: str, text: str) -> None:
        if name not in CORE_LIMITS:
            raise ValueError(f"core block {name!r} is not one of {sorted(CORE_LIMITS)}")
        text = self._clean(text)
        if len(text) > CORE_LIMITS[name]:
            raise CoreLimitError(f"core block {name!r} holds at most {CORE_LIMITS[name]} characters; "
                                 f"this text has {len(text)}: shorten it or save the rest as facts")
        self.store.set_core(name, text, CORE_LIMITS[name])

    # ------------------------------------------------------------------ recall

    def record(self, kind: str, text: str, session: str = "", step: int | None = None,
               created_at: float | None = None) -> Item:
        """Keep a session, message, step or outcome (scrubbed of secrets) for later recall."""
        if kind not in RECALL_KINDS:
            raise ValueError(f"recall kind {kind!r} is not one of {RECALL_KINDS}")
        fields = {"session": session, "step": step, "source": "recall"}
        if created_at is not None:
            fields["created_at"] = created_at
        return self.store.add(kind, self.scrub(text), **fields)

    # ------------------------------------------------------------------ archival facts

    def _clean(self, text: str) -> str:
        clean = self.scrub(text)
        if clean != text:
            raise SecretInMemoryError("this text holds a secret from the vault; secrets are never kept "
                                      "in memory (the vault lends them per session)")
        return text

    def save(self, text: str, key: str = "", value: str = "", kind: str = "fact", session: str = "",
             step: int | None = None, confidence: float = 1.0, source: str = "agent",
             created_at: float | None = None) -> Saved:
        """Keep a fact: merged into an equal one, or superseding the live one of the same key."""
        if kind not in ARCHIVAL_KINDS:
            raise ValueError(f"archival kind {kind!r} is not one of {ARCHIVAL_KINDS}")
        text, value = self._clean(text).strip(), self._clean(value).strip()
        if not text:
            raise ValueError("a fact needs text")
        vec = self.store.embedder.embed([text])[0]
        same = self._duplicate(kind, key, text, value, vec)
        if same is not None:
            merged = self.store.update(same.id, hits=same.hits + 1, confidence=max(same.confidence, confidence))
            return Saved(merged, "merged", same)
        fields = {"key": key, "value": value, "session": session, "step": step, "confidence": confidence,
                  "source": source}
        if created_at is not None:
            fields["created_at"] = created_at
        older = [i for i in self.store.items(kinds=[kind], live=True, key=key)] if key else []
        item = self.store.add(kind, text, vector=vec, **fields)
        for old in older:
            self.store.update(old.id, superseded_by=item.id)
        return Saved(item, "superseded" if older else "added", older[0] if older else None)

    def _duplicate(self, kind: str, key: str, text: str, value: str, vec) -> Item | None:
        if key:
            for item in self.store.items(kinds=[kind], live=True, key=key):
                if (value and item.value == value) or item.text.casefold() == text.casefold():
                    return item
            return None
        for item_id, dist in self.store.vector(vec, 3, kinds=[kind], live=True):
            item = self.store.get(item_id)
            if not item.key and (dist < DUPLICATE_DISTANCE or item.text.casefold() == text.casefold()):
                return item
        return None

    def capture(self, said: str, session: str = "", step: int | None = None) -> list[tuple[Statement, Saved | None]]:
        """Save the preferences the person states in `said`; unsure ones are returned unsaved (ask first)."""
        out = []
        for st in extract(self.scrub(said)):
            saved = None
            if st.sure:
                saved = self.save(st.text, key=st.key, value=st.value, kind="preference", session=session,
                                  step=step, confidence=st.confidence, source="stated")
            out.append((st, saved))
        return out

    def update(self, item_id: int, text: str | None = None, value: str | None = None,
               confidence: float | None = None, source: str = "agent", session: str = "") -> Saved:
        """A corrected version of a fact or preference; the old one stays as its history."""
        old = self.store.get(item_id)
        if old.kind not in ARCHIVAL_KINDS:
            return Saved(self.store.update(item_id, text=self._clean(text or old.text)), "edited", old)
        if not old.live:
            raise ValueError(f"memory #{item_id} was superseded by #{old.superseded_by}; update that one")
        if value is None and text is not None and old.key and not old.key.startswith("learned:"):
            # a corrected sentence carries its typed value: "prefers window seats" -> seat = window
            value = next((st.value for st in extract(text) if st.key == old.key), None)
        new_text = text if text is not None else (describe(old.key, value) if old.key and value else old.text)
        item = self.store.add(old.kind, self._clean(new_text), key=old.key,
                              value=self._clean(value if value is not None else old.value),
                              session=session or old.session, confidence=old.confidence if confidence is None
                              else confidence, source=source)
        self.store.update(old.id, superseded_by=item.id)
        return Saved(item, "superseded", old)

    def history(self, item_id: int) -> list[Item]:
        """The item and the versions it superseded, newest first."""
        chain, seen = [self.store.get(item_id)], {item_id}
        while True:
            older = [i for i in self.store.items(live=False, key=chain[-1].key or None, kinds=[chain[-1].kind])
                     if i.superseded_by == chain[-1].id and i.id not in seen]
            if not older:
                return chain
            chain.append(older[0])
            seen.add(older[0].id)

    def forget(self, item_id: int) -> list[int]:
        """Delete an item and its history: rows, keyword entries and vectors. Returns the ids gone."""
        gone = [i.id for i in self.history(item_id)]
        for i in gone:
            self.store.delete(i)
        self.store.checkpoint()
        return gone

    # ------------------------------------------------------------------ preferences

    def preferences(self, include_unsure: bool = True) -> list[Item]:
        return [p for p in self.store.items(kinds=["preference"], live=True)
                if include_unsure or p.confidence >= SURE]

    def preference(self, key: str) -> Item | None:
        found = self.store.items(kinds=["preference"], live=True, key=key, limit=1)
        return found[0] if found else None

    def record_choice(self, domain: str, options: list[dict], chosen: int, session: str = "") -> list[Item]:
        """Keep a choice among options; refresh what is learned for `domain`. Returns the learned items."""
        options = [{k: (self._clean(v) if isinstance(v, str) else v) for k, v in o.items()} for o in options]
        self.store.add_choice(domain, options, chosen, session)
        return self._refresh_learned(domain, session)

    def model(self, domain: str) -> ChoiceModel:
        return fit_choices(self.store.choices(domain))

    def _refresh_learned(self, domain: str, session: str = "") -> list[Item]:
        model = self.model(domain)
        learned = []
        keys = set()
        for fact in model.explain():
            key = f"learned:{domain}:{fact['feature']}"
            keys.add(key)
            evidence = json.dumps({"chose": fact["chose"], "offered": fact["offered"], "weight": fact["weight"]})
            agree = fact["chose"] if fact["weight"] > 0 else fact["offered"] - fact["chose"]
            conf = round(agree / fact["offered"], 3)   # how often the choices bore it out
            text = f"{domain}: {fact['text']}"
            current = self.preference(key)
            if current is not None:   # what is learned is refreshed in place: its history is the choices
                learned.append(current if current.text == text else
                               self.store.update(current.id, text=text, value=evidence, confidence=conf))
                continue
            learned.append(self.save(text, key=key, value=evidence, kind="preference", session=session,
                                     confidence=conf, source="learned").item)
        for stale in self.store.items(kinds=["preference"], live=True):
            if stale.key.startswith(f"learned:{domain}:") and stale.key not in keys:
                self.store.delete(stale.id)
        return learned

    def applied(self, choice: str) -> list[Item]:
        """The live preferences that picking `choice` (an option or element text) applies."""
        out = []
        for p in self.preferences(include_unsure=False):
            if p.key.startswith("learned:"):
                feature = p.key.split(":", 2)[2]
                value = feature.split("=", 1)[1] if "=" in feature else ""
                if value and value.lower() in choice.lower():
                    out.append(p)
            elif matches(p.key, p.value, choice):
                out.append(p)
        return out

    # ------------------------------------------------------------------ reading

    def search(self, query: str, k: int = 10, mode: Mode = "hybrid", kinds: Iterable[str] | None = None,
               since: float | None = None, until: float | None = None, include_history: bool = False) -> list[Hit]:
        """Hybrid search; a query naming a month or a day ("in March 2026") is filtered to that time."""
        if since is None and until is None:
            since, until = time_window(query)
        return search(self.store, query, k, mode, kinds, since, until, None if include_history else True)

    def prompt_block(self, query: str, max_tokens: int = 400, k: int = 8) -> str:
        """What the step prompt carries: core blocks, sure preferences, then the memories best for `query`."""
        lines = [f"[{name}] {text}" for name, text in self.core().items() if text]
        prefs = self.preferences()
        lines += [f"preference #{p.id}: {p.text}" + ("" if p.confidence >= SURE else
                  " (not sure: ask the person before relying on it)") for p in prefs]
        shown = {p.id for p in prefs}
        for hit in self.search(query, k=k):
            if hit.item.id not in shown:
                lines.append(f"memory #{hit.item.id} ({hit.item.kind}, {_when(hit.item.created_at)}): "
                             f"{hit.item.text[:300]}")
        return "\n".join(fit_budget(lines, max_tokens))

    # ------------------------------------------------------------------ export / import

    def export(self) -> dict:
        from llmos.agent.memory.transfer import export_store

        return export_store(self.store)

    def import_(self, data: dict) -> int:
        from llmos.agent.memory.transfer import import_store

        return import_store(self.store, data, self._clean)


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))


__all__ = ["Memory", "Saved", "CoreLimitError", "SecretInMemoryError", "CORE_LIMITS", "SETS"]
