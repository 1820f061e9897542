"""`llmos memory list | search | show | edit | forget | export | import | wipe`: the person in control.

Every verb works on one person's file under a data folder (default
$LLMOS_MEMORY_DIR, else ~/.llmos/memory) and opens it with the embedder it was
written with, so `list`, `show`, `forget` and `export` never load a model.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from llmos.config import ConfigError

DEFAULT_DIR = Path(os.environ.get("LLMOS_MEMORY_DIR", "~/.llmos/memory"))


def open_memory(data_dir: Path, person: str, must_exist: bool = True):
    """The person's Memory, opened with the embedder its file records (MiniLM for a new file)."""
    from llmos.agent.memory import Memory, MemoryStore, StoreError, person_path
    from llmos.agent.memory.embedder import MiniLMEmbedder, embedder_named
    from llmos.agent.memory.store import recorded_embedder

    try:
        path = person_path(data_dir, person)
    except StoreError as e:
        raise ConfigError(str(e)) from None
    if not path.exists():
        if must_exist:
            raise ConfigError(f"no memory for {person!r} at {path}; check --person and --data-dir")
        return Memory(MemoryStore(path, MiniLMEmbedder(), person=person))
    name = recorded_embedder(path) or MiniLMEmbedder.name
    try:
        return Memory(MemoryStore(path, embedder_named(name), person=person))
    except (StoreError, ValueError) as e:
        raise ConfigError(str(e)) from None


def _date(text: str | None, end: bool = False) -> float | None:
    if not text:
        return None
    try:
        t = time.mktime(time.strptime(text, "%Y-%m-%d"))
    except ValueError:
        raise ConfigError(f"date {text!r}: write it as YYYY-MM-DD") from None
    return t + 86400 - 1e-3 if end else t


def _line(item) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.created_at))
    key = f" {item.key}" if item.key else ""
    extra = "" if item.live else f"  (superseded by #{item.superseded_by})"
    return f"#{item.id:<6} {when}  {item.kind:10} [{item.source}{key}] {item.text}{extra}"


def list_(person: str = "me", data_dir: Path = DEFAULT_DIR, kind: str | None = None, history: bool = False,
         limit: int = 50) -> int:
    """List what memory keeps about a person, newest first (learned preferences with their evidence).

    Args:
        person: whose memory (one file per person under --data-dir).
        data_dir: the folder of memory files.
        kind: only this kind: session, message, step, outcome, fact or preference.
        history: also show superseded versions.
        limit: at most this many items.
    """
    memory = open_memory(data_dir, person)
    items = memory.store.items(kinds=[kind] if kind else None, live=None if history else True, limit=limit)
    core = {k: v for k, v in memory.core().items() if v}
    for name, text in core.items():
        print(f"core {name}: {text}")
    for item in items:
        print(_line(item))
    print(f"{len(items)} shown of {memory.store.count()} kept for {person}", file=sys.stderr)
    return 0


def search(query: str, person: str = "me", data_dir: Path = DEFAULT_DIR, k: int = 10, kind: str | None = None,
           mode: str = "hybrid", since: str | None = None, until: str | None = None,
           history: bool = False) -> int:
    """Search a person's memory by words and by meaning (hybrid), best first.

    Args:
        query: what to look for, in plain words.
        person: whose memory.
        data_dir: the folder of memory files.
        k: how many results.
        kind: only this kind: session, message, step, outcome, fact or preference.
        mode: hybrid (keywords and meaning, fused), keyword or vector.
        since: only memories from this day on (YYYY-MM-DD).
        until: only memories up to this day (YYYY-MM-DD).
        history: include superseded versions.
    """
    memory = open_memory(data_dir, person)
    if mode not in ("hybrid", "keyword", "vector"):
        raise ConfigError(f"--mode {mode!r}: use hybrid, keyword or vector")
    hits = memory.search(query, k=k, mode=mode, kinds=[kind] if kind else None, since=_date(since),
                         until=_date(until, end=True), include_history=history)
    for h in hits:
        print(f"{h.score:.4f}  {_line(h.item)}")
    if not hits:
        print("nothing found", file=sys.stderr)
    return 0


def show(id: int, person: str = "me", data_dir: Path = DEFAULT_DIR) -> int:
    """Show one memory in full: its fields, its provenance, its history and (if learned) its evidence.

    Args:
        id: the memory's number (from list or search).
        person: whose memory.
        data_dir: the folder of memory files.
    """
    memory = open_memory(data_dir, person)
    try:
        chain = memory.history(id)
    except KeyError as e:
        raise ConfigError(str(e).strip("'\"")) from None
    print(json.dumps(chain[0].to_dict(), indent=2))
    for old in chain[1:]:
        print("was: " + _line(old))
    if chain[0].key.startswith("learned:"):
        domain = chain[0].key.split(":")[1]
        for c in memory.store.choices(domain):
            chosen = c['options'][c['chosen']]
            print(f"choice #{c['id']}: chose {chosen.get('item', chosen)} of {len(c['options'])} options")
    return 0


def edit(id: int, text: str | None = None, value: str | None = None, person: str = "me",
         data_dir: Path = DEFAULT_DIR) -> int:
    """Correct a memory; a fact or preference keeps its old version as history.

    Args:
        id: the memory's number.
        text: the corrected text.
        value: the corrected value (for a typed preference: e.g. aisle, vegetarian).
        person: whose memory.
        data_dir: the folder of memory files.
    """
    if text is None and value is None:
        raise ConfigError("give --text or --value (or both)")
    memory = open_memory(data_dir, person)
    try:
        saved = memory.update(id, text=text, value=value, source="person")
    except (KeyError, ValueError) as e:
        raise ConfigError(str(e).strip("'\"")) from None
    print(f"#{id} -> #{saved.item.id}: {saved.item.text}")
    return 0


def forget(id: int, person: str = "me", data_dir: Path = DEFAULT_DIR) -> int:
    """Forget a memory and its history: the rows, their keyword entries and their vectors.

    Args:
        id: the memory's number.
        person: whose memory.
        data_dir: the folder of memory files.
    """
    memory = open_memory(data_dir, person)
    try:
        gone = memory.forget(id)
    except KeyError as e:
        raise ConfigError(str(e).strip("'\"")) from None
    print(f"forgot {', '.join(f'#{i}' for i in gone)}")
    return 0


def export(output: Path | None = None, person: str = "me", data_dir: Path = DEFAULT_DIR) -> int:
    """Export a person's whole memory as JSON (that `llmos memory import` reads back).

    Args:
        output: the JSON file to write (default: print to stdout).
        person: whose memory.
        data_dir: the folder of memory files.
    """
    from llmos.config import atomic_write_text

    text = json.dumps(open_memory(data_dir, person).export(), indent=1, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(output, text)
        print(f"wrote {output}", file=sys.stderr)
    return 0


def import_(file: Path, person: str = "me", data_dir: Path = DEFAULT_DIR) -> int:
    """Import a JSON export into a person's memory (creating it if need be).

    Args:
        file: a file written by `llmos memory export`.
        person: whose memory receives it.
        data_dir: the folder of memory files.
    """
    from llmos.agent.memory.transfer import ImportFormatError

    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"{file}: cannot read a JSON export ({e})") from None
    memory = open_memory(data_dir, person, must_exist=False)
    try:
        n = memory.import_(data)
    except ImportFormatError as e:
        raise ConfigError(f"{file}: {e}") from None
    print(f"imported {n} memories into {person}'s memory")
    return 0


def wipe(person: str = "me", data_dir: Path = DEFAULT_DIR, yes: bool = False) -> int:
    """Forget everything kept about a person (rows, vectors, keyword index, core blocks, choices).

    Args:
        person: whose memory.
        data_dir: the folder of memory files.
        yes: confirm; without it nothing is deleted.
    """
    memory = open_memory(data_dir, person)
    n = memory.store.count()
    if not yes:
        raise ConfigError(f"this deletes all {n} memories of {person!r}; run again with --yes to confirm")
    memory.store.wipe()
    print(f"wiped {n} memories of {person}")
    return 0
