"""Export a memory store to JSON and import it back (the person's copy of what is kept).

    {"format": "llmos-memory", "version": 2, "person": "ada", "embedder": "all-MiniLM-L6-v2",
     "exported_at": ..., "core": {"person": {"text": ..., "limit_chars": 1200}},
     "items": [{"id": 1, "kind": "fact", "text": ..., "superseded_by": null, ...}],
     "choices": [{"domain": "coffee", "options": [...], "chosen": 2, ...}]}

Vectors are not exported: they follow from the text and the embedder, and the
file stays readable and small. Import re-embeds, keeps the items' ids when the
store has none of them (a round trip is exact) and renumbers them otherwise,
carrying the supersession links along.
"""
from __future__ import annotations

import time
from typing import Callable

from llmos.agent.memory.schema import SCHEMA_VERSION
from llmos.agent.memory.store import KINDS, Item, MemoryStore

FORMAT = "llmos-memory"
_FIELDS = set(Item.__dataclass_fields__)


class ImportFormatError(ValueError):
    """The JSON is not an llmos memory export; the message says what is wrong."""


def export_store(store: MemoryStore) -> dict:
    items = store.items(live=None, limit=10**9, newest_first=False)
    return {"format": FORMAT, "version": SCHEMA_VERSION, "person": store.person,
            "embedder": store.embedder.name, "exported_at": time.time(),
            "core": {name: {"text": t, "limit_chars": n} for name, (t, n) in store.core().items()},
            "items": [i.to_dict() for i in items],
            "choices": [{k: v for k, v in c.items() if k != "id"} for c in store.choices()]}


def import_store(store: MemoryStore, data: dict, clean: Callable[[str], str] = lambda t: t) -> int:
    """Add an export's items, core blocks and choices to `store`; returns how many items came in."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportFormatError(f"not an llmos memory export (its \"format\" is {data.get('format')!r}, "
                                f"expected {FORMAT!r})" if isinstance(data, dict) else
                                "not an llmos memory export (expected a JSON object)")
    if int(data.get("version", 0)) > SCHEMA_VERSION:
        raise ImportFormatError(f"the export is from memory schema version {data['version']}, newer than "
                                f"{SCHEMA_VERSION}; upgrade llmos to import it")
    rows = data.get("items", [])
    for n, r in enumerate(rows):
        if not isinstance(r, dict) or set(r) - _FIELDS or not {"id", "kind", "text"} <= set(r):
            raise ImportFormatError(f"item {n} must be an object with id, kind and text (and only "
                                    f"{sorted(_FIELDS)})")
        if r["kind"] not in KINDS:
            raise ImportFormatError(f"item {n} has kind {r['kind']!r}; kinds are {KINDS}")
        clean(r["text"]), clean(r.get("value", ""))
    taken = {i.id for i in store.items(live=None, limit=10**9)} & {r["id"] for r in rows}
    keep_ids = not taken
    # Insert in an order where every item comes after the one that supersedes it is known:
    # rows first without links, then the links, all inside one transaction per table.
    fresh = [{k: v for k, v in r.items() if k not in ("superseded_by",) and (keep_ids or k != "id")}
             for r in rows]
    added = store.add_many(fresh) if fresh else []
    new_id = {r["id"]: a.id for r, a in zip(rows, added)}
    for r in rows:
        if r.get("superseded_by") is not None and r["superseded_by"] in new_id:
            store.update(new_id[r["id"]], superseded_by=new_id[r["superseded_by"]],
                         updated_at=r.get("updated_at") or r.get("created_at") or time.time())
    for name, block in data.get("core", {}).items():
        store.set_core(name, clean(block["text"]), int(block["limit_chars"]))
    for c in data.get("choices", []):
        store.add_choice(c["domain"], c["options"], int(c["chosen"]), c.get("session", ""),
                         c.get("created_at"))
    return len(added)
