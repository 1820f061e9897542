"""The memory file: WAL, migrations, refusals that name the file, deletes that leave nothing, kill -9."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import apsw
import pytest

from llmos.agent.memory import HashEmbedder, MemoryStore, NewerSchemaError, StoreError, person_path
from llmos.agent.memory.schema import SCHEMA_VERSION, statements


def test_a_new_store_is_wal_at_the_current_schema_with_fts5_and_vectors(tmp_path, hash_embedder):
    with MemoryStore.open_person(tmp_path, "ada", hash_embedder) as s:
        assert s.db.execute("PRAGMA journal_mode").fetchall()[0][0] == "wal"
        assert s.version == SCHEMA_VERSION == 2 and s.person == "ada"
        item = s.add("fact", "Ada keeps bees on the roof", key="hobby")
        assert s.keyword("bees", 3)[0][0] == item.id
        assert s.vector(hash_embedder.embed(["Ada keeps bees on the roof"])[0], 3)[0][0] == item.id
    assert person_path(tmp_path, "ada").exists()


def _v1_file(path, embedder):
    """A store as llmos wrote it at schema version 1 (before confidence, source, hits, choices)."""
    import sqlite_vec

    db = apsw.Connection(str(path))
    db.enable_load_extension(True)
    db.load_extension(sqlite_vec.loadable_path())
    with db:
        for sql in statements(0, embedder.dim, to_version=1):
            db.execute(sql)
        for k, v in {"schema_version": "1", "embedder": embedder.name, "dim": str(embedder.dim),
                     "person": "ada"}.items():
            db.execute("INSERT INTO meta VALUES (?, ?)", (k, v))
        db.execute("INSERT INTO items(kind, text, key, value, created_at) VALUES "
                   "('fact', 'Ada lives in Lisbon', 'home_city', 'Lisbon', 100.0)")
        vec = embedder.embed(["Ada lives in Lisbon"])[0].tobytes()
        db.execute("INSERT INTO items_vec(rowid, embedding, coarse, kind, created_at, live) VALUES "
                   "(1, ?, vec_quantize_binary(vec_f32(?)), 'fact', 100.0, 1)", (vec, vec))
    db.close()


def test_an_older_store_is_migrated_and_keeps_its_memories(tmp_path, hash_embedder):
    path = person_path(tmp_path, "ada")
    _v1_file(path, hash_embedder)
    with MemoryStore(path, hash_embedder, person="ada") as s:
        assert s._meta()["schema_version"] == "2"
        item = s.get(1)
        assert (item.text, item.confidence, item.source, item.hits, item.updated_at) == \
               ("Ada lives in Lisbon", 1.0, "agent", 1, 100.0)
        assert s.keyword("Lisbon", 1)[0][0] == 1
        s.add_choice("coffee", [{"brand": "a"}, {"brand": "b"}], 1)   # v2's tables exist
        assert len(s.choices()) == 1
        assert s.db.execute("SELECT count(*) FROM items_f32").fetchall()[0][0] == 1   # filled from v1's vectors


def test_a_newer_schema_is_refused_with_its_version_named(tmp_path, hash_embedder):
    path = person_path(tmp_path, "ada")
    with MemoryStore(path, hash_embedder, person="ada") as s:
        with s.db:
            s.db.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    with pytest.raises(NewerSchemaError, match=r"version 7.*this llmos's version 2") as e:
        MemoryStore(path, hash_embedder, person="ada")
    assert str(path) in str(e.value)


def test_a_corrupt_or_foreign_file_is_named_in_the_error(tmp_path, hash_embedder):
    junk = tmp_path / "junk.memory.sqlite3"
    junk.write_bytes(b"this is no database" * 100)
    with pytest.raises(StoreError, match="not SQLite") as e:
        MemoryStore(junk, hash_embedder)
    assert str(junk) in str(e.value)
    foreign = tmp_path / "foreign.sqlite3"
    db = apsw.Connection(str(foreign))
    db.execute("CREATE TABLE invoices (n INTEGER)")
    db.close()
    with pytest.raises(StoreError, match="not an llmos memory store.*invoices") as e:
        MemoryStore(foreign, hash_embedder)
    assert str(foreign) in str(e.value)
    # a real store with its pages scribbled over
    path = person_path(tmp_path, "ada")
    with MemoryStore(path, hash_embedder, person="ada") as s:
        s.add_many([{"kind": "message", "text": f"message {i} " * 20} for i in range(50)])
        s.checkpoint()
    raw = bytearray(path.read_bytes())
    raw[100:len(raw)] = b"\xff" * (len(raw) - 100)
    path.write_bytes(bytes(raw))
    with pytest.raises(StoreError) as e:
        MemoryStore(path, hash_embedder, person="ada")
    assert str(path) in str(e.value)


def test_a_store_refuses_another_person_and_another_embedder(tmp_path, hash_embedder):
    path = person_path(tmp_path, "ada")
    MemoryStore(path, hash_embedder, person="ada").close()
    with pytest.raises(StoreError, match="belongs to 'ada', not 'bob'"):
        MemoryStore(path, hash_embedder, person="bob")
    with pytest.raises(StoreError, match="hash-64.*hash-32"):
        MemoryStore(path, HashEmbedder(32), person="ada")
    with pytest.raises(StoreError, match="person name"):
        person_path(tmp_path, "../etc")


def test_delete_removes_the_row_its_keyword_entry_and_its_vector(tmp_path, hash_embedder):
    path = person_path(tmp_path, "ada")
    with MemoryStore(path, hash_embedder, person="ada") as s:
        keep = s.add("fact", "Ada's cat is called Pixel")
        gone = s.add("fact", "Ada's locker code is zebracorn")
        vec = hash_embedder.embed(["Ada's locker code is zebracorn"])[0]
        s.delete(gone.id)
        s.checkpoint()
        assert s.keyword("zebracorn", 5) == []
        assert [i for i, _ in s.vector(vec, 5, live=None)] == [keep.id]
        assert s.db.execute("SELECT count(*) FROM items_vec WHERE rowid = ?", (gone.id,)).fetchall()[0][0] == 0
        assert s.db.execute("SELECT count(*) FROM items_f32 WHERE id = ?", (gone.id,)).fetchall()[0][0] == 0
        assert s.db.execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH 'zebracorn'").fetchall()[0][0] == 0
    assert b"zebracorn" not in path.read_bytes()   # secure delete: not even in free pages


def test_a_large_store_searches_bit_vectors_first_then_reranks_exactly(tmp_path, hash_embedder, monkeypatch):
    import llmos.agent.memory.store as store_module

    with MemoryStore.open_person(tmp_path, "ada", hash_embedder) as s:
        texts = [f"note {i} about {w} and {v}" for i, (w, v) in enumerate(
            (w, v) for w in ("tea", "trains", "cellos", "maps", "bees") for v in ("rain", "sun", "snow", "fog"))]
        s.add_many([{"kind": "fact", "text": t} for t in texts * 6])
        queries = hash_embedder.embed(["cellos and snow", "bees in the fog", "maps and sun"])
        exact = [s.vector(q, 5) for q in queries]
        monkeypatch.setattr(store_module, "COARSE_FROM", 10)
        coarse = [s.vector(q, 5) for q in queries]
    for e, c in zip(exact, coarse):
        assert c[0][1] == pytest.approx(e[0][1], abs=1e-5)          # the same nearest distance
        assert [d for _, d in c] == sorted(d for _, d in c)          # re-ranked by exact cosine
        assert len({i for i, _ in e} & {i for i, _ in c}) >= 3



def test_the_bit_index_follows_this_stores_writes_and_another_connections(tmp_path, hash_embedder, monkeypatch):
    import llmos.agent.memory.store as store_module

    monkeypatch.setattr(store_module, "COARSE_FROM", 0)          # every search takes the bit pass
    path = tmp_path / "ada.sqlite3"
    with MemoryStore(path, hash_embedder, person="ada") as s, MemoryStore(path, hash_embedder) as other:
        old = s.add("fact", "Ada's bike is red", key="bike")
        q = hash_embedder.embed(["Ada's bike is red"])[0]
        assert s.vector(q, 1)[0][0] == old.id                      # fills the index
        new = s.add("fact", "Ada's bike is green now", key="bike")
        s.update(old.id, superseded_by=new.id)
        assert old.id not in [i for i, _ in s.vector(q, 5)]         # superseded: not current
        assert old.id in [i for i, _ in s.vector(q, 5, live=None)]
        s.delete(new.id)                                            # forgetting the newer revives the old
        assert s.vector(q, 1)[0][0] == old.id
        assert s.db.execute("SELECT live FROM items_vec WHERE rowid = ?", (old.id,)).fetchall()[0][0] == 1
        s.update(old.id, text="Ada rides a blue tandem")            # new text, new vector
        assert s.vector(hash_embedder.embed(["Ada rides a blue tandem"])[0], 1)[0][0] == old.id
        theirs = other.add("fact", "Ada keeps bees on the roof")    # another connection commits
        assert s.vector(hash_embedder.embed(["Ada keeps bees on the roof"])[0], 1)[0][0] == theirs.id
        s.wipe()
        assert s.vector(q, 5, live=None) == []

WRITER = """
import sys
from llmos.agent.memory import HashEmbedder, MemoryStore
s = MemoryStore(sys.argv[1], HashEmbedder(64), person="ada")
i = 0
while True:
    item = s.add("message", f"committed message number {i} " + "x" * 200)
    print(item.id, flush=True)   # reported only after the commit returned
    i += 1
"""


def test_kill_9_mid_write_loses_no_committed_memory(tmp_path):
    path = person_path(tmp_path, "ada")
    reported: set[int] = set()
    for trial in range(3):
        p = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        time.sleep(1.5 + 0.3 * trial)
        os.kill(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        reported |= {int(x) for x in out.split()}
    with MemoryStore(path, HashEmbedder(64), person="ada") as s:
        kept = {i.id for i in s.items(limit=10**6)}
        assert reported and reported <= kept
        assert s.db.execute("PRAGMA integrity_check").fetchall()[0][0] == "ok"
        n_vec = s.db.execute("SELECT count(*) FROM items_vec_rowids").fetchall()[0][0]
        n_f32 = s.db.execute("SELECT count(*) FROM items_f32").fetchall()[0][0]
        assert n_vec == n_f32 == len(kept)   # every row has its vectors: no half-written memory
