"""Export to JSON and import back: a round trip keeps every item, link, core block and choice."""
from __future__ import annotations

import json

import pytest

from llmos.agent.memory import Memory, MemoryStore
from llmos.agent.memory.transfer import ImportFormatError


def _strip(export: dict) -> dict:
    return {k: v for k, v in export.items() if k not in ("exported_at", "person")}


def test_export_then_import_is_a_round_trip(memory, tmp_path, hash_embedder):
    memory.set_core("person", "Ada Lovelace")
    memory.capture("I'm vegetarian and always take an aisle seat", session="s1")
    memory.save("lives in Chicago", key="home_city", value="Chicago")
    memory.save("moved to Boston", key="home_city", value="Boston")
    memory.record("message", "talked about Oslo", session="s2", step=4)
    for _ in range(3):
        memory.record_choice("coffee", [{"brand": "Colombian"}, {"brand": "Ethiopian"}], 0)
    text = json.dumps(memory.export())            # what `llmos memory export` writes
    other = Memory(MemoryStore.open_person(tmp_path / "copy", "ada", hash_embedder))
    assert other.import_(json.loads(text)) == memory.store.count()
    assert _strip(other.export()) == _strip(memory.export())
    # and it works, not just reads back: search, supersession and learned preferences survive
    assert other.search("Boston", k=1)[0].item.text == "moved to Boston"
    assert other.preference("home_city") is None and other.store.items(key="home_city", live=False)
    assert any(p.source == "learned" and "Colombian" in p.text for p in other.preferences())
    other.close()


def test_import_into_a_store_with_memories_renumbers_and_keeps_links(memory, tmp_path, hash_embedder):
    memory.save("lives in Chicago", key="home_city", value="Chicago")
    memory.save("moved to Boston", key="home_city", value="Boston")
    export = memory.export()
    other = Memory(MemoryStore.open_person(tmp_path / "b", "ada", hash_embedder))
    other.save("plays the cello")
    other.import_(export)
    old = next(i for i in other.store.items(live=False))
    assert other.store.get(old.superseded_by).text == "moved to Boston"
    other.close()


def test_import_refuses_what_is_not_a_memory_export(memory):
    with pytest.raises(ImportFormatError, match="not an llmos memory export"):
        memory.import_({"format": "something-else"})
    with pytest.raises(ImportFormatError, match="kind 'diary'"):
        memory.import_({"format": "llmos-memory", "version": 2, "items": [{"id": 1, "kind": "diary", "text": "x"}]})
    with pytest.raises(ImportFormatError, match="newer"):
        memory.import_({"format": "llmos-memory", "version": 9, "items": []})
