"""The embedded default corpus: English prose that every Python installation already has.

llmos's main job must train offline, without downloading anything, on text
that reads as English. Every CPython install carries over a megabyte of it,
written by the Python developers:

1. `pydoc_data/topics.py`: the Language Reference and library chapters that
   `help("if")` prints (about 470 KB), one document per topic;
2. the docstrings of the standard library's modules, classes and functions,
   read from the source files with `ast` (nothing is imported or executed);
3. the Python license, `LICENSE.txt` beside the standard library.

Cleaning keeps only paragraphs that read as prose: grammar productions, code
examples, doctests, tables and argument lists are dropped; the rest is
re-wrapped at 72 columns. Duplicates are removed. The exact text depends on
the Python version (3.11 gives about 1.4 MB); it is the same on every run.
"""
from __future__ import annotations

import ast
import re
import sysconfig
import textwrap
from functools import lru_cache
from pathlib import Path

MIN_BYTES = 1_000_000
# Standard-library folders that hold tests, tools or vendored code rather than prose.
SKIP_DIRS = {"test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "turtledemo",
             "__pycache__", "pydoc_data", "ensurepip", "distutils"}
_UNDERLINE = re.compile(r"^\s*([*=\-~^\"'`#+])\1{2,}\s*$")
_SYMBOLS = set("=()[]{}_<>/\\|#@$%^~`;")
_WORD = re.compile(r"^[(\"“‘']?[A-Za-z][a-z’']*[.,;:!?)\"”’']*$")


def stdlib_dir() -> Path:
    """Where this interpreter's standard library lives."""
    return Path(sysconfig.get_paths()["stdlib"])


def is_prose(paragraph: str) -> bool:
    """Whether a paragraph reads as English sentences rather than code, tables or lists.

    Prose here: at least 5 tokens, at least 60% of them plain words, under 5%
    code symbols, and no doctest or grammar lines.
    """
    text = paragraph.strip()
    if not text or text[0] in "+|" or ">>>" in text or "::=" in text:
        return False
    tokens = text.split()
    if len(tokens) < 5:
        return False
    words = sum(1 for t in tokens if _WORD.match(t))
    symbols = sum(1 for c in text if c in _SYMBOLS)
    return words / len(tokens) >= 0.6 and symbols / len(text) < 0.05


def clean(text: str) -> str:
    """Keep the prose paragraphs of a reST-like text, re-wrapped; headings stay as lines."""
    kept: list[str] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if len(lines) == 2 and _UNDERLINE.match(lines[1]) and len(lines[0].split()) <= 10:
            kept.append(lines[0].strip())           # a section heading
            continue
        lines = [ln for ln in lines if not _UNDERLINE.match(ln)]
        paragraph = " ".join(ln.strip() for ln in lines)
        if is_prose(paragraph):
            paragraph = re.sub(r"\*+([^*\s][^*]*?)\*+", r"\1", paragraph)   # *emphasis* -> emphasis
            kept.append(textwrap.fill(paragraph, width=72, break_on_hyphens=False))
    # Headings with no prose after them are dropped.
    out = [p for i, p in enumerate(kept) if "\n" in p or len(p) > 72 or
           (i + 1 < len(kept) and ("\n" in kept[i + 1] or len(kept[i + 1]) > 72))]
    return "\n\n".join(out).strip()


def _topics() -> list[str]:
    from pydoc_data.topics import topics
    return [clean(topics[name]) for name in sorted(topics)]


def _docstrings(root: Path) -> list[str]:
    docs = []
    for path in sorted(root.rglob("*.py")):
        if SKIP_DIRS & set(path.relative_to(root).parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) >= 200:
                    docs.append(clean(doc))
    return docs


def _license(root: Path) -> list[str]:
    path = root / "LICENSE.txt"
    return [clean(path.read_text(encoding="utf-8", errors="replace"))] if path.exists() else []


@lru_cache(maxsize=1)
def default_corpus_documents() -> tuple[str, ...]:
    """The default corpus as documents (topics, docstrings, license), cleaned and de-duplicated."""
    root = stdlib_dir()
    seen: set[str] = set()
    docs = []
    for doc in _topics() + _docstrings(root) + _license(root):
        if len(doc) >= 200 and doc not in seen:
            seen.add(doc)
            docs.append(doc)
    size = sum(len(d.encode("utf-8")) for d in docs)
    if size < MIN_BYTES:
        raise RuntimeError(f"this Python's standard library ({root}) yields only {size:,} bytes of prose "
                           f"(the default corpus needs {MIN_BYTES:,}); it may ship without .py sources. "
                           "Pass your own text with data.corpus=PATH")
    return tuple(docs)


def describe() -> str:
    """One line saying what the default corpus is, for logs and the demo."""
    docs = default_corpus_documents()
    size = sum(len(d.encode("utf-8")) for d in docs)
    return (f"the Python {sysconfig.get_python_version()} standard library's own English prose "
            f"(help topics, docstrings, license): {len(docs):,} documents, {size / 1e6:.2f} MB")
