"""The ELIZA engine: keystack, decomposition, reassembly and memory, after Weizenbaum (1966).

One turn, as in the CACM paper (section numbers are the paper's page/column):

1. Scan the words left to right (p. 37). At a delimiter (".", ",", BUT ...): if
   a keyword has been found, drop the rest; if not, drop what came before and
   go on. So only the first clause that holds a keyword is transformed.
2. Each keyword with rules goes onto the keystack: on top if its rank beats
   every rank seen so far, else at the bottom (p. 39). Each word with a
   substitution (I = YOU) is replaced as it is scanned, so the rest of the turn
   sees the text from ELIZA's side of the table.
3. If no keyword was found, the MEMORY stack may speak (p. 41): when "a
   certain counting mechanism is in a particular state" — the 1965 source shows
   a counter LIMIT that cycles 1, 2, 3, 4 with each input and recalls only at 4.
   Otherwise NONE answers.
4. Pop the top keyword and try its decomposition rules in order. The first
   pattern that matches picks its next reassembly rule, in turn (each rule
   remembers where it got to; nothing is random):
     text        -> the reply, with numbers replaced by the matched parts;
     (=KEY)      -> go on with KEY's rules on the same text;
     (PRE T (=K))-> rebuild the text from T, then go on with K's rules;
     (NEWKEY)    -> pop the next keyword off the keystack.
   A keyword none of whose patterns match leaves the reply to NONE (as the
   1965 program fell to its no-match replies rather than to another keyword).
5. When the MEMORY keyword comes off the keystack, one of its transformations
   is applied to a copy of the text and queued, first in first out. The paper
   says the transformation is "randomly selected"; the 1965 source picks it by
   SLIP's HASH of the text's last word (`slip_hash.py`), so the choice follows
   what was said and a conversation replays exactly.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from llmos.classic.eliza.script import (AnyOf, Count, Keyword, Link, Literal, NewKey, PatternElement,
                                        Pre, Script, Tagged, Text)
from llmos.classic.eliza.slip_hash import memory_choice
from llmos.classic.eliza.words import DELIMITERS, Token, render, tokenize

MAX_LINKS = 32  # links followed in one turn before giving up on a script that loops
# Said if even NONE cannot answer (a link from NONE lands on a keyword whose
# patterns fail); the 1965 program had the same four hard-wired replies.
NO_MATCH = ("PLEASE CONTINUE", "HMMM", "GO ON, PLEASE", "I SEE")


def match(pattern: tuple[PatternElement, ...], words: list[Token],
          tags: dict[str, frozenset[str]]) -> list[list[Token]] | None:
    """Split `words` into one part per pattern element, or None if the pattern does not fit.

    `0` takes as few words as it can (then more, on backtracking), so in
    (0 YOUR 0) the YOUR that is matched is the first one.
    """
    parts: list[list[Token]] = []

    def fits(p: int, w: int) -> bool:
        if p == len(pattern):
            return w == len(words)
        el = pattern[p]
        if isinstance(el, Count):
            ends = range(w, len(words) + 1) if el.n == 0 else [w + el.n] if w + el.n <= len(words) else []
            for end in ends:
                parts.append(words[w:end])
                if fits(p + 1, end):
                    return True
                parts.pop()
            return False
        if w == len(words):
            return False
        if not _fits_one(el, words[w].key, tags):
            return False
        parts.append(words[w:w + 1])
        if fits(p + 1, w + 1):
            return True
        parts.pop()
        return False

    return parts if fits(0, 0) else None


def _fits_one(el: Literal | AnyOf | Tagged, key: str, tags: dict[str, frozenset[str]]) -> bool:
    if isinstance(el, Literal):
        return key == el.word
    if isinstance(el, AnyOf):
        return key in el.words
    return bool(tags.get(key, frozenset()) & el.tags)  # a DLIST word class


def assemble(parts: tuple[str | int, ...], matched: list[list[Token]]) -> list[Token]:
    """Reassembly: script words as written, numbers replaced by the words of that part."""
    out: list[Token] = []
    for part in parts:
        out.extend(matched[part - 1] if isinstance(part, int) else [Token.from_script(part)])
    return out


@dataclass
class Reply:
    """A reply and how it was reached (for `llmos eliza --trace` and for learners)."""
    text: str
    keyword: str | None = None  # the keyword whose rule produced the reply; None for NONE/MEMORY
    keystack: list[str] = field(default_factory=list)  # as built by the scan, top first
    trace: list[str] = field(default_factory=list)


class Eliza:
    """A conversation with one script. State: rule turn counters, the memory queue, the turn count.

    >>> eliza = Eliza.from_script()          # llmos's own script
    >>> eliza.greeting()
    >>> eliza.respond("My mother is always busy")
    """

    def __init__(self, script: Script, teletype: bool = False, memory_period: int = 4):
        if memory_period < 1:
            raise ValueError(f"memory_period must be at least 1, got {memory_period}")
        self.script, self.teletype, self.memory_period = script, teletype, memory_period
        self.reset()

    @classmethod
    def from_script(cls, source: str | Path | Script | None = None, **kwargs) -> "Eliza":
        """From a Script, a path to a .eliza file, script text (anything holding '('), or None for the default."""
        if source is None:
            script = Script.default()
        elif isinstance(source, Script):
            script = source
        elif isinstance(source, str) and "(" in source:
            script = Script.parse(source)
        else:
            script = Script.load(source)
        return cls(script, **kwargs)

    def reset(self) -> None:
        """Start a new conversation: rules back to their first reply, memory emptied."""
        self._next: dict[object, int] = {}  # Decomposition / MemoryRule / NO_MATCH -> turn counter
        self.memories: deque[list[Token]] = deque()
        self.turn = 0

    def greeting(self) -> str:
        return render([Token.from_script(w) for w in self.script.greeting], self.teletype)

    def respond(self, text: str) -> str:
        return self.reply(text).text

    def reply(self, text: str) -> Reply:
        self.turn += 1
        words, keystack = self._scan(tokenize(text))
        reply = Reply("", keystack=list(keystack))
        reply.trace += [f"text: {' '.join(t.key for t in words) or '(none)'}",
                        f"keystack: {' '.join(keystack) or '(empty)'}"]
        if not keystack:
            recalled = self._recall(reply)
            if recalled is not None:
                reply.text = render(recalled, self.teletype)
                return reply
        while keystack:
            keyword = keystack.pop(0)
            if self.script.memory is not None and keyword == self.script.memory.keyword:
                self._remember(words, reply)
            out = self._transform(self.script.keywords[keyword], words, reply)
            if isinstance(out, NewKey):
                continue
            if out is not None:
                reply.text = render(out, self.teletype)
                return reply
            break
        out = self._transform(self.script.none, words, reply)
        if not isinstance(out, list):
            out = [Token.from_script(w) for w in NO_MATCH[self._take(NO_MATCH, len(NO_MATCH))].split()]
            reply.trace.append("NONE failed: a built-in reply")
        reply.keyword = None
        reply.text = render(out, self.teletype)
        return reply

    # --- steps of a turn -----------------------------------------------------------

    def _scan(self, tokens: list[Token]) -> tuple[list[Token], list[str]]:
        """Keep the first clause with a keyword; build the keystack; apply substitutions."""
        words: list[Token] = []
        keystack: list[str] = []
        top_rank = 0
        for token in tokens:
            if token.key in DELIMITERS:
                if keystack:
                    break
                words = []
                continue
            entry = self.script.keywords.get(token.key)
            if entry is not None:
                if entry.rules:
                    if entry.rank > top_rank:
                        keystack.insert(0, entry.word)
                        top_rank = entry.rank
                    else:
                        keystack.append(entry.word)
                if entry.substitute is not None:
                    token = Token.from_script(entry.substitute)
            words.append(token)
        return words, keystack

    def _take(self, owner: object, count: int) -> int:
        """The index of `owner`'s next choice among `count`, taken in turn."""
        i = self._next.get(owner, 0)
        self._next[owner] = i + 1
        return i % count

    def _transform(self, entry: Keyword, words: list[Token], reply: Reply) -> list[Token] | NewKey | None:
        """Apply a keyword's rules: the reply's words, NewKey(), or None if no pattern matched."""
        for _ in range(MAX_LINKS):
            goto = None
            for rule in entry.rules:
                if isinstance(rule, Link):
                    goto = rule
                    reply.trace.append(f"{entry.word}: link to {rule.keyword}")
                    break
                matched = match(rule.pattern, words, self.script.tags)
                if matched is None:
                    continue
                i = self._take(rule, len(rule.reassemblies))
                chosen = rule.reassemblies[i]
                reply.trace.append(f"{entry.word}: decomposition {rule} matched; "
                                   f"reassembly {i + 1} of {len(rule.reassemblies)}")
                if isinstance(chosen, Text):
                    reply.keyword = entry.word
                    return assemble(chosen.parts, matched)
                if isinstance(chosen, NewKey):
                    reply.trace.append(f"{entry.word}: NEWKEY")
                    return chosen
                if isinstance(chosen, Pre):
                    words = assemble(chosen.parts, matched)
                    reply.trace.append(f"{entry.word}: PRE gives {' '.join(t.key for t in words)}")
                    goto = chosen.link
                else:
                    goto = chosen
                break
            if goto is None:
                reply.trace.append(f"{entry.word}: no decomposition matched")
                return None
            entry = self.script.keywords[goto.keyword]
        reply.trace.append(f"gave up after {MAX_LINKS} links (the script's links loop)")
        return None

    def _remember(self, words: list[Token], reply: Reply) -> None:
        memory = self.script.memory
        if not words:
            return
        choice = memory_choice(words[-1].key, len(memory.transformations))
        pattern, text = memory.transformations[choice]
        matched = match(pattern, words, self.script.tags)
        if matched is not None:
            self.memories.append(assemble(text.parts, matched))
            reply.trace.append(f"MEMORY: transformation {choice + 1} (HASH of {words[-1].key}) stored "
                               f"{' '.join(t.key for t in self.memories[-1])}")

    def _recall(self, reply: Reply) -> list[Token] | None:
        # The 1965 LIMIT counter is 2, 3, 4, 1, 2, ... on inputs 1, 2, 3, 4, 5, ...; recall at 4.
        due = self.turn % self.memory_period == 3 % self.memory_period
        if not (due and self.memories):
            return None
        reply.trace.append("MEMORY: recalled")
        return self.memories.popleft()
