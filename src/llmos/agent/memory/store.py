"""One person's memory file: rows, their keyword index and their vectors, in one SQLite file.

    store = MemoryStore.open_person("~/.llmos/memory", "ada", embedder)
    item = store.add("fact", "Ada lives in Lisbon", key="home_city")
    store.keyword("Lisbon", k=5)            # [(id, bm25 score)], best first
    store.vector(embedder.embed(["where does she live"])[0], k=5)   # [(id, cosine distance)]
    store.delete(item.id)                   # the row, its words and its vector, in one commit

SQLite runs in WAL mode with synchronous=FULL and every write is one
transaction, so a process killed at any moment (kill -9) leaves each memory
either fully committed (row + FTS5 entry + vector) or absent. Deletes are
secure (SQLite's secure_delete and FTS5's secure-delete), so a forgotten
memory's text does not linger in free pages or index segments.

Python's own `sqlite3` on many systems cannot load extensions; `apsw` can, and
it loads sqlite-vec (see `schema.py` for why sqlite-vec).
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from llmos.agent.memory.bit_index import BitIndex
from llmos.agent.memory.embedder import Embedder
from llmos.agent.memory.schema import SCHEMA_VERSION, statements

KINDS = ("session", "message", "step", "outcome", "fact", "preference")
PERSON = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
SQLITE_HEADER = b"SQLite format 3\x00"
COARSE_FROM = 5_000     # above this many vectors, a bit-vector first pass precedes exact re-ranking
COARSE_POOL = 8         # first-pass candidates per wanted result ...
COARSE_MIN_POOL = 400   # ... and never fewer (100% of the exact top 10 at 100k in bench/memory.py)
# function words and question words: in a question they match everything and rank nothing
STOPWORDS = frozenset("a about am an and any are as at be been but by can could did do does for from get got "
                      "had has have how i i'm if in into is it its just me many much my no not now of on or "
                      "our please so some than that the their them then there these they this those to too "
                      "us was we were what when where which who whom whose why will with would you your".split())
_COLUMNS = ("id", "kind", "text", "key", "value", "session", "step", "created_at", "superseded_by",
            "confidence", "source", "hits", "updated_at")


class StoreError(RuntimeError):
    """The memory file cannot be used as it is; the message names the file and what to do."""


class NewerSchemaError(StoreError):
    """The file was written by a newer llmos (a schema version this one does not know)."""


@dataclass
class Item:
    id: int
    kind: str
    text: str
    key: str = ""
    value: str = ""
    session: str = ""
    step: int | None = None
    created_at: float = 0.0
    superseded_by: int | None = None
    confidence: float = 1.0
    source: str = "agent"
    hits: int = 1
    updated_at: float | None = None

    @property
    def live(self) -> bool:
        return self.superseded_by is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def person_path(data_dir: str | Path, person: str) -> Path:
    if not PERSON.match(person or ""):
        raise StoreError(f"person name {person!r}: use 1-64 letters, digits, '_', '.' or '-'")
    return Path(data_dir).expanduser() / f"{person}.memory.sqlite3"


def recorded_embedder(path: str | Path) -> str | None:
    """The embedder name an existing memory file records, or None (no file, or not readable as one)."""
    import apsw

    path = Path(path).expanduser()
    if not path.is_file():
        return None
    try:
        db = apsw.Connection(f"file:{path}?mode=ro", flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
        try:
            return dict(db.execute("SELECT key, value FROM meta").fetchall()).get("embedder")
        finally:
            db.close()
    except apsw.Error:
        return None   # opening it properly names what is wrong


def fts_query(text: str) -> str:
    """Free text -> an FTS5 query: its content words, OR-ed, each quoted (no FTS syntax leaks in)."""
    words = [w for w in re.findall(r"[\w']+", text.lower()) if w not in STOPWORDS]
    words = list(dict.fromkeys(w.replace("'", "") for w in words if w.replace("'", "")))
    return " OR ".join(f'"{w}"' for w in words)


def _blob(vec: np.ndarray) -> bytes:
    return np.ascontiguousarray(vec, dtype=np.float32).tobytes()


class MemoryStore:
    def __init__(self, path: str | Path, embedder: Embedder, person: str | None = None,
                 synchronous: str = "FULL"):
        import apsw
        import sqlite_vec

        self.path, self.embedder = Path(path).expanduser(), embedder
        self._apsw = apsw
        self._lock = threading.RLock()
        self._index: BitIndex | None = None      # the bit first pass, filled on the first large search
        self._index_version = -1                 # data_version it was filled at
        self._check_header()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = apsw.Connection(str(self.path))
            self.db.enable_load_extension(True)
            self.db.load_extension(sqlite_vec.loadable_path())
            self.db.enable_load_extension(False)
            self.db.set_busy_timeout(5000)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={synchronous}")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA secure_delete=ON")
            self.version = self._open_schema(person)
        except apsw.Error as e:
            raise StoreError(f"{self.path}: not a usable memory store ({type(e).__name__}: {e}); "
                             "it is corrupt or another program's file: move it aside") from None

    @classmethod
    def open_person(cls, data_dir: str | Path, person: str, embedder: Embedder, **kw) -> "MemoryStore":
        return cls(person_path(data_dir, person), embedder, person=person, **kw)

    # ------------------------------------------------------------------ opening

    def _check_header(self) -> None:
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a memory file")
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as f:
                head = f.read(16)
            if head != SQLITE_HEADER:
                raise StoreError(f"{self.path} is not an llmos memory file (not SQLite: it is corrupt "
                                 "or another program's file); move it aside or choose another data dir")

    def _meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM meta").fetchall())

    def _open_schema(self, person: str | None) -> int:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise StoreError(f"{self.path} is an SQLite database but not an llmos memory store "
                             f"(it holds {', '.join(sorted(tables)[:5])}); choose another file")
        meta = self._meta() if tables else {}
        version = int(meta.get("schema_version", 0))
        if version > SCHEMA_VERSION:
            raise NewerSchemaError(f"{self.path} has memory schema version {version}, newer than this "
                                   f"llmos's version {SCHEMA_VERSION}; upgrade llmos to open it")
        if meta.get("person") and person and meta["person"] != person:
            raise StoreError(f"{self.path} belongs to {meta['person']!r}, not {person!r}")
        dim = int(meta.get("dim", self.embedder.dim))
        if tables and (meta.get("embedder"), dim) != (self.embedder.name, self.embedder.dim):
            raise StoreError(f"{self.path} holds vectors from {meta.get('embedder')} ({dim}-d), not "
                             f"{self.embedder.name} ({self.embedder.dim}-d); open it with that embedder")
        if version < SCHEMA_VERSION:
            with self.db:   # one transaction: a migration is all or nothing
                for sql in statements(version, self.embedder.dim):
                    self.db.execute(sql)
                now = str(time.time())
                for k, v in {"schema_version": str(SCHEMA_VERSION), "embedder": self.embedder.name,
                             "dim": str(self.embedder.dim), "person": meta.get("person", person or ""),
                             "created_at": meta.get("created_at", now)}.items():
                    self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (k, v))
        return SCHEMA_VERSION

    @property
    def person(self) -> str:
        return self._meta().get("person", "")

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> "MemoryStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ rows

    def _row(self, r) -> Item:
        return Item(**dict(zip(_COLUMNS, r)))

    def add(self, kind: str, text: str, vector: np.ndarray | None = None, **fields) -> Item:
        return self.add_many([{"kind": kind, "text": text, **fields}],
                             None if vector is None else vector[None])[0]

    def add_many(self, rows: list[dict], vectors: np.ndarray | None = None) -> list[Item]:
        """Insert rows (dicts of Item fields) in one transaction; embeds their texts unless given."""
        for r in rows:
            if r["kind"] not in KINDS:
                raise ValueError(f"memory kind {r['kind']!r} is not one of {KINDS}")
            if not str(r["text"]).strip():
                raise ValueError("a memory needs text")
        if vectors is None:
            vectors = self.embedder.embed([r["text"] for r in rows])
        now = time.time()
        out = []
        with self._lock, self.db:
            for r, vec in zip(rows, vectors):
                r = {"created_at": now, **r}
                r.setdefault("updated_at", r["created_at"])
                cols = [c for c in _COLUMNS if c in r]
                cur = self.db.execute(f"INSERT INTO items({', '.join(cols)}) VALUES "
                                      f"({', '.join('?' * len(cols))}) RETURNING id",
                                      [r[c] for c in cols])
                rid = cur.fetchall()[0][0]
                self._put_vector(rid, vec, r["kind"], r["created_at"], r.get("superseded_by") is None)
                out.append(rid)
            if self._index is not None:
                self._index.put(out, np.asarray(vectors[:len(out)]), kinds=[r["kind"] for r in rows],
                                created=[r.get("created_at", now) for r in rows],
                                live=[r.get("superseded_by") is None for r in rows])
        return [self.get(i) for i in out]

    def _put_vector(self, rid: int, vec: np.ndarray, kind: str, created_at: float, live: bool) -> None:
        b = _blob(vec)
        self.db.execute("INSERT INTO items_vec(rowid, embedding, coarse, kind, created_at, live) VALUES "
                        "(?, ?, vec_quantize_binary(vec_f32(?)), ?, ?, ?)",
                        (rid, b, b, kind, float(created_at), int(live)))
        self.db.execute("INSERT OR REPLACE INTO items_f32(id, v) VALUES (?, ?)", (rid, b))

    def get(self, item_id: int) -> Item:
        rows = self.db.execute(f"SELECT {', '.join(_COLUMNS)} FROM items WHERE id = ?", (item_id,)).fetchall()
        if not rows:
            raise KeyError(f"no memory #{item_id} in {self.path}")
        return self._row(rows[0])

    def get_many(self, ids: Iterable[int]) -> dict[int, Item]:
        ids = list(ids)
        if not ids:
            return {}
        q = f"SELECT {', '.join(_COLUMNS)} FROM items WHERE id IN ({', '.join('?' * len(ids))})"
        return {r[0]: self._row(r) for r in self.db.execute(q, ids)}

    def update(self, item_id: int, **fields) -> Item:
        """Change an item's fields; new text gets a new vector (and FTS entry) in the same commit."""
        bad = set(fields) - (set(_COLUMNS) - {"id", "kind", "created_at"})
        if bad:
            raise ValueError(f"cannot update {sorted(bad)} of a memory")
        old = self.get(item_id)
        vec = self.embedder.embed([fields["text"]])[0] if "text" in fields and fields["text"] != old.text else None
        fields = {"updated_at": time.time(), **fields}
        with self._lock, self.db:
            sets = ", ".join(f"{k} = ?" for k in fields)
            self.db.execute(f"UPDATE items SET {sets} WHERE id = ?", [*fields.values(), item_id])
            if vec is not None:
                self.db.execute("DELETE FROM items_vec WHERE rowid = ?", (item_id,))
                self._put_vector(item_id, vec, old.kind, old.created_at,
                                 fields.get("superseded_by", old.superseded_by) is None)
            elif "superseded_by" in fields:
                self.db.execute("UPDATE items_vec SET live = ? WHERE rowid = ?",
                                (int(fields["superseded_by"] is None), item_id))
            if self._index is not None:
                live = fields.get("superseded_by", old.superseded_by) is None
                if vec is not None:
                    self._index.put([item_id], vec[None], kinds=[old.kind], created=[old.created_at], live=[live])
                else:
                    self._index.set_live(item_id, live)
        return self.get(item_id)

    def delete(self, item_id: int) -> Item:
        """Forget one item: its row, its keyword entry (trigger) and its vector, in one commit."""
        item = self.get(item_id)
        with self._lock, self.db:
            # what the forgotten item superseded is current again, in the rows and beside the vectors
            revived = [r[0] for r in self.db.execute("UPDATE items SET superseded_by = NULL "
                                                     "WHERE superseded_by = ? RETURNING id", (item_id,))]
            for rid in revived:
                self.db.execute("UPDATE items_vec SET live = 1 WHERE rowid = ?", (rid,))
            self.db.execute("DELETE FROM items_vec WHERE rowid = ?", (item_id,))
            self.db.execute("DELETE FROM items_f32 WHERE id = ?", (item_id,))
            self.db.execute("DELETE FROM items WHERE id = ?", (item_id,))
            if self._index is not None:
                self._index.remove(item_id)
                for rid in revived:
                    self._index.set_live(rid, True)
        return item

    def items(self, kinds: Iterable[str] | None = None, live: bool | None = None, key: str | None = None,
              limit: int = 1000, offset: int = 0, newest_first: bool = True) -> list[Item]:
        where, args = self._filters(kinds, None, None, live)
        if key is not None:
            where.append("key = ?")
            args.append(key)
        sql = (f"SELECT {', '.join(_COLUMNS)} FROM items {'WHERE ' + ' AND '.join(where) if where else ''} "
               f"ORDER BY created_at {'DESC' if newest_first else 'ASC'}, id LIMIT ? OFFSET ?")
        return [self._row(r) for r in self.db.execute(sql, [*args, limit, offset])]

    def count(self, kinds: Iterable[str] | None = None) -> int:
        where, args = self._filters(kinds, None, None, None)
        return self.db.execute(f"SELECT count(*) FROM items {'WHERE ' + ' AND '.join(where) if where else ''}",
                               args).fetchall()[0][0]

    @staticmethod
    def _filters(kinds, since, until, live, prefix: str = "") -> tuple[list[str], list]:
        where, args = [], []
        if kinds:
            kinds = list(kinds)
            where.append(f"{prefix}kind IN ({', '.join('?' * len(kinds))})")
            args += kinds
        if since is not None:
            where.append(f"{prefix}created_at >= ?")
            args.append(float(since))
        if until is not None:
            where.append(f"{prefix}created_at <= ?")
            args.append(float(until))
        if live is not None:
            where.append(f"{prefix}superseded_by IS {'NULL' if live else 'NOT NULL'}")
        return where, args

    # ------------------------------------------------------------------ search

    def keyword(self, query: str, k: int = 10, kinds: Iterable[str] | None = None,
                since: float | None = None, until: float | None = None,
                live: bool | None = True) -> list[tuple[int, float]]:
        """(id, bm25) best first; bm25 is negative in FTS5 (lower is better)."""
        match = fts_query(query)
        if not match:
            return []
        where, args = self._filters(kinds, since, until, live, prefix="i.")
        sql = ("SELECT f.rowid, f.rank FROM items_fts f JOIN items i ON i.id = f.rowid "
               f"WHERE items_fts MATCH ? {''.join(' AND ' + w for w in where)} ORDER BY f.rank LIMIT ?")
        return [(r[0], r[1]) for r in self.db.execute(sql, [match, *args, k])]

    def vector(self, vec: np.ndarray, k: int = 10, kinds: Iterable[str] | None = None,
               since: float | None = None, until: float | None = None,
               live: bool | None = True) -> list[tuple[int, float]]:
        """(id, cosine distance) nearest first; exact below COARSE_FROM vectors, else bit pass + re-rank.

        Small stores search exactly inside SQLite (sqlite-vec). Large ones take the
        max(COARSE_POOL * k, COARSE_MIN_POOL) nearest by Hamming distance from the in-memory
        `BitIndex` (a few ms at 100k), then rank those exactly on their float vectors.
        """
        n = self.db.execute("SELECT max(id) FROM items").fetchall()[0][0] or 0   # O(log n) size proxy
        if n <= COARSE_FROM:
            return self._vector_exact(vec, k, kinds, since, until, live)
        with self._lock:
            cands = self._bit_index().nearest(vec, max(k * COARSE_POOL, COARSE_MIN_POOL), kinds, since, until, live)
        if not len(cands):
            return []
        ids = cands.tolist()
        got = self.db.execute(f"SELECT id, v FROM items_f32 WHERE id IN ({', '.join('?' * len(ids))})",
                              ids).fetchall()
        mat = np.frombuffer(b"".join(v for _, v in got), dtype=np.float32).reshape(len(got), -1)  # (C, D)
        q = np.asarray(vec, dtype=np.float32)
        dist = 1 - mat @ q / (np.linalg.norm(mat, axis=1) * np.linalg.norm(q) + 1e-12)   # cosine distance
        order = np.argsort(dist, kind="stable")[:k]
        return [(got[i][0], float(dist[i])) for i in order]

    def _vector_exact(self, vec, k, kinds, since, until, live) -> list[tuple[int, float]]:
        where, args = [], []
        kinds = list(kinds or [])
        if len(kinds) == 1:
            where.append("kind = ?")
            args.append(kinds[0])
        if since is not None:
            where.append("created_at >= ?")
            args.append(float(since))
        if until is not None:
            where.append("created_at <= ?")
            args.append(float(until))
        if live is not None:
            where.append("live = ?")
            args.append(int(live))
        extra = "".join(" AND " + w for w in where)
        fetch = k if len(kinds) <= 1 else k * 4   # several kinds are filtered after the search
        rows = self.db.execute(f"SELECT rowid, distance, kind FROM items_vec WHERE embedding MATCH ? "
                               f"AND k = ? {extra}", [_blob(vec), min(fetch, 4096), *args]).fetchall()
        if len(kinds) > 1:
            rows = [r for r in rows if r[2] in kinds]
        return [(r[0], r[1]) for r in rows[:k]]

    def _bit_index(self) -> BitIndex:
        """The in-memory first pass, filled from the file when absent or when another connection wrote."""
        version = self.db.execute("PRAGMA data_version").fetchall()[0][0]
        if self._index is None or version != self._index_version:
            index = BitIndex(self.embedder.dim, capacity=self.count() + 1024)
            cur = self.db.execute("SELECT i.id, i.kind, i.created_at, i.superseded_by IS NULL, f.v "
                                  "FROM items i JOIN items_f32 f ON f.id = i.id")
            while batch := list(itertools.islice(cur, 8192)):
                vecs = np.frombuffer(b"".join(r[4] for r in batch), np.float32).reshape(len(batch), -1)
                index.put([r[0] for r in batch], vecs, kinds=[r[1] for r in batch],
                          created=[r[2] for r in batch], live=[bool(r[3]) for r in batch])
            self._index, self._index_version = index, version
        return self._index

    # ------------------------------------------------------------------ core blocks and choices

    def core(self) -> dict[str, tuple[str, int]]:
        return {r[0]: (r[1], r[2]) for r in self.db.execute("SELECT name, text, limit_chars FROM core")}

    def set_core(self, name: str, text: str, limit_chars: int) -> None:
        with self._lock, self.db:
            self.db.execute("INSERT OR REPLACE INTO core(name, text, limit_chars, updated_at) VALUES (?,?,?,?)",
                            (name, text, limit_chars, time.time()))

    def add_choice(self, domain: str, options: list[dict], chosen: int, session: str = "",
                   created_at: float | None = None) -> int:
        with self._lock, self.db:
            cur = self.db.execute("INSERT INTO choices(domain, options, chosen, session, created_at) "
                                  "VALUES (?,?,?,?,?) RETURNING id",
                                  (domain, json.dumps(options), chosen, session, created_at or time.time()))
            return cur.fetchall()[0][0]

    def choices(self, domain: str | None = None) -> list[dict]:
        sql = "SELECT id, domain, options, chosen, session, created_at FROM choices"
        rows = self.db.execute(sql + (" WHERE domain = ?" if domain else "") + " ORDER BY id",
                               (domain,) if domain else ()).fetchall()
        return [{"id": r[0], "domain": r[1], "options": json.loads(r[2]), "chosen": r[3], "session": r[4],
                 "created_at": r[5]} for r in rows]

    def delete_choice(self, choice_id: int) -> None:
        with self._lock, self.db:
            self.db.execute("DELETE FROM choices WHERE id = ?", (choice_id,))

    def wipe(self) -> None:
        """Forget everything: every row, vector, keyword entry, core block and choice."""
        with self._lock, self.db:
            self.db.execute("DELETE FROM items_vec")
            self.db.execute("DELETE FROM items_f32")
            self.db.execute("UPDATE items SET superseded_by = NULL")
            self.db.execute("DELETE FROM items")
            self.db.execute("DELETE FROM core")
            self.db.execute("DELETE FROM choices")
            self._index = None
        self.db.execute("INSERT INTO items_fts(items_fts) VALUES('optimize')")
        self.checkpoint()

    def checkpoint(self) -> None:
        """Fold the WAL into the main file (and truncate it), e.g. after a forget."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
