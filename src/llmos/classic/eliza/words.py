"""Words in and words out: how typed text becomes ELIZA's word list, and back.

ELIZA works on upper-case words, as the 1966 teletype did; each word here also
keeps the form to show (`Token.text`), so that a reply can echo "Paris" as the
person typed it while matching `PARIS`. With `teletype=True` replies come out
in capitals, exactly as the IBM 7094 printed them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# The 1966 program cut clauses at "." and "," (and, its 1965 source shows, at the
# word BUT). "?", "!", ";" and ":" could not be typed on its terminal; they cut
# clauses here too.
DELIMITERS = frozenset({".", ",", "?", "!", ";", ":", "BUT"})

_TOKEN = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*|[.,?!;:]")
_SENTENCE_END = frozenset({".", "?", "!"})


@dataclass(frozen=True)
class Token:
    key: str   # what ELIZA matches: upper case
    text: str  # what it shows

    @classmethod
    def from_script(cls, atom: str) -> "Token":
        """A word written in a script: all-capital atoms show in lower case."""
        return cls(atom.upper(), atom if atom != atom.upper() else atom.lower())


def tokenize(text: str) -> list[Token]:
    """Split typed text into words and clause delimiters.

    A capitalised word that starts a sentence is shown in lower case (its
    capital says nothing about the word), and text typed all in capitals is
    shown in lower case; other words keep the case they were typed in.
    """
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    shouting = text == text.upper()
    tokens, sentence_start = [], True
    for raw in _TOKEN.findall(text):
        show = raw
        if shouting or (sentence_start and raw[:1].isupper() and raw[1:] == raw[1:].lower()):
            show = raw.lower()
        tokens.append(Token(raw.upper(), show))
        sentence_start = raw in _SENTENCE_END
    return tokens


def render(tokens: list[Token], teletype: bool = False) -> str:
    """Join words into a reply: no space before punctuation, sentences capitalised."""
    text = " ".join(t.key if teletype else t.text for t in tokens)
    text = re.sub(r" +([.,?!;:])", r"\1", text).strip()
    if teletype:
        return text
    text = re.sub(r"\bi\b", "I", text)  # "i", "i'm", "i've", "i'd", "i'll"
    return re.sub(r"(^|[.?!] )(\W*)(\w)", lambda m: m.group(1) + m.group(2) + m.group(3).upper(), text)
