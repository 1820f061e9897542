"""The hierarchy: core limits, supersession with history, dedupe, secrets, isolation, forget."""
from __future__ import annotations

import pytest

from llmos.agent.memory import CoreLimitError, Memory, MemoryStore, SecretInMemoryError, person_path
from llmos.agent.vault import Vault


def test_core_blocks_have_size_limits(memory):
    memory.set_core("persona", "a careful assistant")
    assert memory.core()["persona"] == "a careful assistant"
    with pytest.raises(CoreLimitError, match="at most 600 characters"):
        memory.set_core("persona", "x" * 601)
    with pytest.raises(ValueError, match="not one of"):
        memory.set_core("diary", "x")


def test_a_contradicting_fact_supersedes_the_old_one_which_stays_as_history(memory):
    chicago = memory.save("lives in Chicago", key="home_city", value="Chicago", session="s1")
    boston = memory.save("moved to Boston", key="home_city", value="Boston", session="s7", step=3)
    assert (chicago.action, boston.action) == ("added", "superseded") and boston.previous.id == chicago.item.id
    old = memory.store.get(chicago.item.id)
    assert old.superseded_by == boston.item.id and not old.live
    live = [h.item.text for h in memory.search("where does Ada live", k=5)]
    assert "moved to Boston" in live and "lives in Chicago" not in live
    past = [h.item.text for h in memory.search("Chicago", k=5, include_history=True)]
    assert "lives in Chicago" in past
    assert [i.text for i in memory.history(boston.item.id)] == ["moved to Boston", "lives in Chicago"]
    assert (boston.item.session, boston.item.step) == ("s7", 3)   # provenance


def test_duplicates_are_merged_not_multiplied(memory):
    a = memory.save("Ada likes green tea", confidence=0.7)
    b = memory.save("ada likes green tea", confidence=0.9)
    c = memory.save("prefers aisle seats", key="seat", value="aisle", kind="preference")
    d = memory.save("likes the aisle seat", key="seat", value="aisle", kind="preference")
    assert (a.action, b.action, d.action) == ("added", "merged", "merged")
    assert b.item.id == a.item.id and b.item.hits == 2 and b.item.confidence == 0.9
    assert d.item.id == c.item.id
    assert memory.store.count(["fact"]) == 1 and memory.store.count(["preference"]) == 1


def test_update_keeps_history(memory):
    seat = memory.save("prefers window seats", key="seat", value="window", kind="preference")
    fixed = memory.update(seat.item.id, value="aisle", source="person")
    assert fixed.item.text == "prefers aisle seats" and fixed.item.value == "aisle"
    assert memory.preference("seat").id == fixed.item.id
    with pytest.raises(ValueError, match="superseded by"):
        memory.update(seat.item.id, value="middle")


def test_secrets_from_the_vault_never_enter_memory(tmp_path, hash_embedder):
    vault = Vault({"card_number": "4242 4242 4242 4242", "pin": "zebra-7731"})
    store = MemoryStore.open_person(tmp_path, "ada", hash_embedder)
    mem = Memory(store).with_scrub(vault.scrub)
    rec = mem.record("message", "Pay with 4242 4242 4242 4242, my pin is zebra-7731")
    assert "4242" not in rec.text and "{{secret:card_number}}" in rec.text and "zebra" not in rec.text
    with pytest.raises(SecretInMemoryError):
        mem.save("Ada's pin is zebra-7731", key="pin")
    with pytest.raises(SecretInMemoryError):
        mem.record_choice("cards", [{"card": "4242 4242 4242 4242"}, {"card": "other"}], 0)
    mem.capture("I'm vegan. My card is 4242 4242 4242 4242.")
    store.checkpoint()
    raw = person_path(tmp_path, "ada").read_bytes()
    assert b"zebra-7731" not in raw and b"4242 4242" not in raw
    assert "4242" not in str(mem.export())
    store.close()


def test_people_are_isolated(tmp_path, hash_embedder):
    ada = Memory(MemoryStore.open_person(tmp_path, "ada", hash_embedder))
    bob = Memory(MemoryStore.open_person(tmp_path, "bob", hash_embedder))
    ada.save("allergic to peanuts", key="allergy:peanuts", value="peanuts", kind="preference")
    bob.save("allergic to shellfish", key="allergy:shellfish", value="shellfish", kind="preference")
    assert [h.item.text for h in ada.search("allergic", k=5)] == ["allergic to peanuts"]
    assert [h.item.text for h in bob.search("allergic peanuts", k=5)] == ["allergic to shellfish"]
    assert person_path(tmp_path, "ada") != person_path(tmp_path, "bob")
    ada.close()
    bob.close()


def test_forget_leaves_nothing_findable_by_words_or_meaning_with_the_real_encoder(tmp_path, minilm):
    mem = Memory(MemoryStore.open_person(tmp_path, "ada", minilm))
    mem.save("Ada's daughter goes to the Riverside primary school", key="school", value="Riverside")
    mem.save("Ada's daughter now goes to the Hillcrest academy", key="school", value="Hillcrest")
    keep = mem.save("Ada plays the cello on Sundays")
    mem.record("message", "we talked about the weather")
    meaning = mem.search("which school does her child attend", k=1)[0]
    assert meaning.item.text.startswith("Ada's daughter now goes") and meaning.vector_rank == 1
    gone = mem.forget(meaning.item.id)
    assert len(gone) == 2   # the item and its superseded history
    for query in ("Riverside", "Hillcrest", "school", "which school does her child attend",
                  "where is the kid educated"):
        for hit in mem.search(query, k=10, include_history=True):
            assert "school" not in hit.item.text and "academy" not in hit.item.text, (query, hit.item.text)
    assert mem.search("cello", k=1)[0].item.id == keep.item.id
    assert b"Hillcrest" not in person_path(tmp_path, "ada").read_bytes()
    mem.close()


def test_a_learned_preference_with_mixed_evidence_is_shown_as_unsure(memory):
    options = [{"item": "Colombian"}, {"item": "Ethiopian"}]
    for chosen in (0, 0, 1, 0):
        memory.record_choice("coffee", options, chosen)
    (learned,) = [p for p in memory.preferences() if p.source == "learned" and "prefers" in p.text]
    assert learned.text == "coffee: prefers Colombian: chose 3 of 4" and learned.confidence == 0.75
    block = memory.prompt_block("reorder coffee")
    assert "prefers Colombian: chose 3 of 4 (not sure: ask the person" in block
    assert memory.applied("Colombian Coffee Beans") == []        # an unsure preference is never applied
