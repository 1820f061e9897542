"""Corpora: where training text comes from.

A corpus is a list of documents (strings). It is read from

- `"default"`: the embedded default corpus (see `llmos.text.default_corpus`);
- a text file: one document, the whole file (as nanoGPT reads tinyshakespeare);
- a folder: every text file under it (`.txt`, `.md`, `.rst`, `.text`), in
  sorted path order, one document each.

Text must be UTF-8; a file that is not is named in the error.
"""
from __future__ import annotations

from pathlib import Path

TEXT_SUFFIXES = {".txt", ".md", ".rst", ".text"}
DEFAULT = "default"


class CorpusError(ValueError):
    """The corpus path is missing, empty or not text; the message says which."""


def read_corpus(source: str | Path) -> list[str]:
    """The documents of a corpus: `"default"`, a text file, or a folder of text files."""
    if str(source) == DEFAULT:
        from llmos.text.default_corpus import default_corpus_documents
        return list(default_corpus_documents())
    path = Path(source).expanduser()
    if not path.exists():
        raise CorpusError(f"corpus {path} does not exist; pass a text file, a folder of "
                          f"{'/'.join(sorted(TEXT_SUFFIXES))} files, or 'default'")
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*")
        if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES and not any(s.startswith(".") for s in p.parts))
    if not files:
        raise CorpusError(f"folder {path} holds no text files ({', '.join(sorted(TEXT_SUFFIXES))})")
    docs = [_read_text(f) for f in files]
    docs = [d for d in docs if d.strip()]
    if not docs:
        raise CorpusError(f"corpus {path} is empty")
    return docs


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(f"{path} is not UTF-8 text (byte {e.start}: {e.reason}); convert it or "
                          "remove it from the corpus") from None


def describe_corpus(source: str | Path, docs: list[str]) -> str:
    """One line naming the corpus and its size."""
    size = sum(len(d.encode("utf-8")) for d in docs)
    if str(source) == DEFAULT:
        from llmos.text.default_corpus import describe
        return describe()
    return f"{source}: {len(docs):,} document{'s' if len(docs) != 1 else ''}, {size / 1e6:.2f} MB"
