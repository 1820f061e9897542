"""The memory file's schema, as numbered migrations; a file records the version it is at.

    v1  meta, items (kind, text, key, value, provenance), core blocks,
        items_fts (FTS5 over text and key), items_vec (sqlite-vec vec0)
    v2  items gain confidence, source, hits (merged duplicates) and updated_at;
        choices (the person's choices among options, for learned preferences);
        items_f32 (float vectors by id, for re-ranking)

`migrate` runs, inside one transaction, every step past the file's version,
so a fresh file and a v1 file opened today end in the same v2 layout. A file
at a version newer than `SCHEMA_VERSION` was written by a newer llmos and is
refused, not guessed at.

Why sqlite-vec for meaning: it lives in the same SQLite file as the rows and
the keyword index, so one transaction writes a memory, its words and its vector
together (nothing to keep in step across files, and a kill -9 leaves either all
three or none); deleting the row deletes the vector in the same commit; it has
metadata columns (kind, time, live) that filter inside the k-nearest search;
and it is brute-force, with no approximate graph to tune or rebuild, so answers
are exact. Above 5k memories the store's first pass runs outside SQLite, on the
vectors' sign bits held in memory (`bit_index.py`), and re-ranks its candidates
on the float vectors of `items_f32`: exact within the candidates (100% of the
exact top 10 at 100k in bench/memory.py).
"""
from __future__ import annotations

SCHEMA_VERSION = 2


def _v1(dim: int) -> list[str]:
    return [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            key TEXT NOT NULL DEFAULT '',
            value TEXT NOT NULL DEFAULT '',
            session TEXT NOT NULL DEFAULT '',
            step INTEGER,
            created_at REAL NOT NULL,
            superseded_by INTEGER REFERENCES items(id) ON DELETE SET NULL)""",
        "CREATE INDEX items_kind_time ON items(kind, created_at)",
        "CREATE INDEX items_key ON items(kind, key)",
        """CREATE TABLE core (name TEXT PRIMARY KEY, text TEXT NOT NULL DEFAULT '',
            limit_chars INTEGER NOT NULL, updated_at REAL NOT NULL)""",
        """CREATE VIRTUAL TABLE items_fts USING fts5(text, key, content='items', content_rowid='id',
            tokenize='porter unicode61')""",
        # secure-delete: a deleted row's words are removed from the index pages at once
        "INSERT INTO items_fts(items_fts, rank) VALUES('secure-delete', 1)",
        """CREATE TRIGGER items_ai AFTER INSERT ON items BEGIN
            INSERT INTO items_fts(rowid, text, key) VALUES (new.id, new.text, new.key); END""",
        """CREATE TRIGGER items_ad AFTER DELETE ON items BEGIN
            INSERT INTO items_fts(items_fts, rowid, text, key) VALUES ('delete', old.id, old.text, old.key); END""",
        """CREATE TRIGGER items_au AFTER UPDATE OF text, key ON items BEGIN
            INSERT INTO items_fts(items_fts, rowid, text, key) VALUES ('delete', old.id, old.text, old.key);
            INSERT INTO items_fts(rowid, text, key) VALUES (new.id, new.text, new.key); END""",
        # float vectors for exact distances; bit vectors for the fast first pass;
        # metadata columns filter inside the k-nearest search
        f"""CREATE VIRTUAL TABLE items_vec USING vec0(embedding float[{dim}] distance_metric=cosine,
            coarse bit[{dim}], kind text, created_at float, live integer)""",
    ]


def _v2(dim: int) -> list[str]:
    return [
        "ALTER TABLE items ADD COLUMN confidence REAL NOT NULL DEFAULT 1.0",
        "ALTER TABLE items ADD COLUMN source TEXT NOT NULL DEFAULT 'agent'",
        "ALTER TABLE items ADD COLUMN hits INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE items ADD COLUMN updated_at REAL",
        "UPDATE items SET updated_at = created_at",
        """CREATE TABLE choices (
            id INTEGER PRIMARY KEY,
            domain TEXT NOT NULL,
            options TEXT NOT NULL,
            chosen INTEGER NOT NULL,
            session TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL)""",
        "CREATE INDEX choices_domain ON choices(domain, created_at)",
        # the float vectors again, one row each: re-ranking a first pass's candidates reads a few
        # of them, where vec0 would read a whole chunk per row
        "CREATE TABLE items_f32 (id INTEGER PRIMARY KEY, v BLOB NOT NULL)",
        "INSERT INTO items_f32(id, v) SELECT rowid, embedding FROM items_vec",
    ]


MIGRATIONS = {1: _v1, 2: _v2}   # version -> the statements that bring the previous one to it


def statements(from_version: int, dim: int, to_version: int = SCHEMA_VERSION) -> list[str]:
    """The SQL that takes a file at `from_version` (0 = empty) to `to_version`."""
    out: list[str] = []
    for v in range(from_version + 1, to_version + 1):
        out += MIGRATIONS[v](dim)
    return out
