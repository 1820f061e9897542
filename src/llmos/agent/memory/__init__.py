"""The agent's long-term memory: a durable store per person, a Letta-style hierarchy, preferences.

    store.py        one SQLite file per person: rows, FTS5 keyword index, sqlite-vec vectors
    schema.py       the schema as numbered migrations
    embedder.py     text -> vectors (all-MiniLM-L6-v2 through llmos's BERT; a hashing stand-in)
    retrieval.py    hybrid search: keyword + meaning fused by reciprocal rank, a token budget
    memory.py       core blocks, recall, archival facts (supersession, dedupe), choices
    preferences.py  explicit typed preferences taken from what the person says
    choices.py      implicit preferences: a Bradley-Terry model of the person's choices
    transfer.py     export to JSON and import back
    hooks.py        the memory in the agent loop (prompt block, recall of every step)
    actions.py      the model's own actions: memory_search, memory_save, memory_update
    cli.py          `llmos memory list|search|show|edit|forget|export|import|wipe`
    page.py         the /memory page of `llmos agent serve --memory-dir` and its JSON API
"""
from llmos.agent.memory.embedder import HashEmbedder, MiniLMEmbedder
from llmos.agent.memory.memory import CoreLimitError, Memory, Saved, SecretInMemoryError
from llmos.agent.memory.store import MemoryStore, NewerSchemaError, StoreError, person_path

__all__ = ["Memory", "MemoryStore", "Saved", "StoreError", "NewerSchemaError", "CoreLimitError",
           "SecretInMemoryError", "HashEmbedder", "MiniLMEmbedder", "person_path"]
