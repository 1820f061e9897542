"""Memory test set-up: a small deterministic embedder by default, the real MiniLM shared once."""
from __future__ import annotations

import pytest

from llmos.agent.memory import HashEmbedder, Memory, MemoryStore


@pytest.fixture(scope="session")
def minilm():
    """all-MiniLM-L6-v2 through llmos's SentenceEncoder, loaded once for the whole run (seconds)."""
    from llmos.agent.memory import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    embedder.embed(["warm up"])
    return embedder


@pytest.fixture
def hash_embedder():
    return HashEmbedder(64)


@pytest.fixture
def memory(tmp_path, hash_embedder):
    m = Memory(MemoryStore.open_person(tmp_path, "ada", hash_embedder))
    yield m
    m.close()
