"""ELIZA scripts in the 1966 format: the data types and the reader.

A script, in Weizenbaum's words, "is data; i.e., it is not part of the program
itself". Its shape (CACM 9(1), 1966, and the appendix there):

    (GREETING WORDS ...)                    first list: said when a session opens
    START                                   optional marker
    (KEY [= SUBSTITUTE] [RANK] [DLIST(/TAG ...)] RULE ...)
    (MEMORY KEY (PATTERN = TEXT) ...)       memory transformations for keyword KEY
    (NONE ((0) TEXT ...))                   what to say when no keyword applies
    ()                                      optional end marker

A RULE is a decomposition `((PATTERN) REASSEMBLY ...)` or a link `(=OTHERKEY)`.
A PATTERN holds words, numbers (0 = any number of words, n = exactly n),
alternatives `(*WORD WORD ...)` and word classes `(/TAG ...)`. A REASSEMBLY is
text with numbers naming the pattern's parts (`(WHY DO YOU SAY 3)`), or a link
`(=KEY)`, or `(NEWKEY)`, or `(PRE (TEXT) (=KEY))`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from llmos.classic.eliza.sexpr import Atom, ElizaScriptError, Node, SList, read

# --- pattern elements --------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    """`0`: any number of words (fewest first); `n`: exactly n words."""
    n: int


@dataclass(frozen=True)
class Literal:
    word: str


@dataclass(frozen=True)
class AnyOf:
    """`(*SAD UNHAPPY ...)`: one word, any of these."""
    words: frozenset[str]


@dataclass(frozen=True)
class Tagged:
    """`(/FAMILY)`: one word whose DLIST carries any of these tags."""
    tags: frozenset[str]


PatternElement = Count | Literal | AnyOf | Tagged

# --- reassembly rules --------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Words to say; an int n stands for the words the pattern's n-th part matched."""
    parts: tuple[str | int, ...]


@dataclass(frozen=True)
class Link:
    """`(=KEY)`: go on with KEY's rules, on the same text."""
    keyword: str
    line: int = field(compare=False)
    column: int = field(compare=False)


@dataclass(frozen=True)
class NewKey:
    """`(NEWKEY)`: give up on this keyword and try the next one on the keystack."""


@dataclass(frozen=True)
class Pre:
    """`(PRE (TEXT) (=KEY))`: rebuild the text from TEXT, then apply KEY's rules to it."""
    parts: tuple[str | int, ...]
    link: Link


Reassembly = Text | Link | NewKey | Pre


@dataclass(eq=False)  # identity hashing: each rule keeps its own turn counter in the engine
class Decomposition:
    pattern: tuple[PatternElement, ...]
    reassemblies: tuple[Reassembly, ...]
    line: int
    column: int

    def __str__(self) -> str:
        return "(" + " ".join(_element_text(e) for e in self.pattern) + ")"


Rule = Decomposition | Link


@dataclass
class Keyword:
    word: str
    substitute: str | None = None
    rank: int = 0
    tags: frozenset[str] = frozenset()
    rules: tuple[Rule, ...] = ()
    line: int = 0
    column: int = 0


@dataclass(eq=False)
class MemoryRule:
    """`(MEMORY KEY (0 YOUR 0 = EARLIER YOU SAID YOUR 3) ...)`."""
    keyword: str
    transformations: tuple[tuple[tuple[PatternElement, ...], Text], ...]


@dataclass
class Script:
    name: str
    greeting: tuple[str, ...]
    keywords: dict[str, Keyword]
    none: Keyword
    memory: MemoryRule | None = None
    tags: dict[str, frozenset[str]] = field(default_factory=dict)  # word -> its DLIST tags

    @classmethod
    def parse(cls, text: str, source: str = "<script>") -> "Script":
        return _Reader(source).script(read(text, source))

    @classmethod
    def load(cls, path: str | Path) -> "Script":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no ELIZA script at {path}; give the path of a .eliza file")
        return cls.parse(path.read_text(encoding="utf-8"), str(path))

    @classmethod
    def default(cls) -> "Script":
        """llmos's own script: the keeper of a lighthouse."""
        text = resources.files("llmos.classic.eliza").joinpath("scripts/llmos.eliza").read_text("utf-8")
        return cls.parse(text, "llmos.eliza")


def _element_text(e: PatternElement) -> str:
    if isinstance(e, Count):
        return str(e.n)
    if isinstance(e, Literal):
        return e.word
    if isinstance(e, AnyOf):
        return "(*" + " ".join(sorted(e.words)) + ")"
    return "(/" + " ".join(sorted(e.tags)) + ")"


# --- the reader --------------------------------------------------------------------

def _is_number(node: Node) -> bool:
    return isinstance(node, Atom) and node.text.isdigit()


class _Reader:
    def __init__(self, source: str):
        self.source = source

    def error(self, node: Node, message: str) -> ElizaScriptError:
        return ElizaScriptError(message, self.source, node.line, node.column)

    def script(self, forms: list[Node]) -> Script:
        if not forms or not isinstance(forms[0], SList):
            where = forms[0] if forms else Atom("", 1, 1)
            raise self.error(where, "a script starts with its greeting, a list of words such as "
                                    "(HELLO. WHAT IS ON YOUR MIND)")
        greeting = forms[0]
        for item in greeting.items:
            if not isinstance(item, Atom):
                raise self.error(item, "the greeting is a list of plain words; it holds a list here")
        rest = forms[1:]
        if rest and isinstance(rest[0], Atom) and rest[0].text.upper() == "START":
            rest = rest[1:]
        keywords: dict[str, Keyword] = {}
        none: Keyword | None = None
        memory_form: SList | None = None
        for i, form in enumerate(rest):
            if isinstance(form, Atom):
                raise self.error(form, f"expected a keyword list such as (WORD ((0) (REPLY))), "
                                       f"found the bare word {form.text!r}")
            if not form.items:  # `()` ends the script
                if i != len(rest) - 1:
                    raise self.error(rest[i + 1], "text after the end marker (); remove one or the other")
                break
            head = form.items[0]
            if not isinstance(head, Atom) or head.text.startswith("="):
                raise self.error(head, "a keyword list starts with its keyword, e.g. (MOTHER ...)")
            word = head.text.upper()
            if word == "MEMORY":
                if memory_form is not None:
                    raise self.error(form, "a script has one MEMORY list; this is a second one")
                memory_form = form
            elif word == "NONE":
                if none is not None:
                    raise self.error(form, "a script has one NONE list; this is a second one")
                none = self.keyword(form)
            else:
                if word in keywords:
                    k = keywords[word]
                    raise self.error(head, f"keyword {word} is defined twice (first at line {k.line}); "
                                           "merge the two lists")
                keywords[word] = self.keyword(form)
        if none is None:
            raise self.error(forms[-1], "the script has no NONE list, so ELIZA would have nothing to "
                                        "say when no keyword matches; add (NONE ((0) (PLEASE GO ON)))")
        memory = self.memory(memory_form, keywords) if memory_form is not None else None
        script = Script(self.source, tuple(a.text for a in greeting.items), keywords, none, memory)
        self.check(script)
        script.tags = {k.word: k.tags for k in keywords.values() if k.tags}
        return script

    def keyword(self, form: SList) -> Keyword:
        items, head = list(form.items), form.items[0]
        k = Keyword(head.text.upper(), line=head.line, column=head.column)
        i = 1
        if i < len(items) and isinstance(items[i], Atom) and items[i].text == "=":
            if i + 1 >= len(items) or not isinstance(items[i + 1], Atom) or _is_number(items[i + 1]):
                raise self.error(items[i], f"'=' after {k.word} must be followed by the word that "
                                           f"replaces it, e.g. ({k.word} = OTHERWORD ...)")
            k.substitute, i = items[i + 1].text.upper(), i + 2
        if i < len(items) and _is_number(items[i]):
            k.rank, i = int(items[i].text), i + 1
        if i < len(items) and isinstance(items[i], Atom) and items[i].text.upper() == "DLIST":
            if i + 1 >= len(items) or not isinstance(items[i + 1], SList):
                raise self.error(items[i], "DLIST must be followed by a list of tags, e.g. DLIST(/FAMILY)")
            k.tags, i = self.tags(items[i + 1]), i + 2
        rules: list[Rule] = []
        for item in items[i:]:
            if isinstance(item, Atom):
                raise self.error(item, f"unexpected word {item.text!r} in keyword {k.word}: after the "
                                       "keyword come '= WORD', a rank number, DLIST(...) and then rules")
            link = self.link(item)
            rules.append(link if link is not None else self.decomposition(item, k.word))
        k.rules = tuple(rules)
        return k

    def tags(self, node: SList) -> frozenset[str]:
        words = [a.text for a in node.items if isinstance(a, Atom)]
        if len(words) != len(node.items) or not words or not words[0].startswith("/"):
            raise self.error(node, "a tag list is (/TAG ...), e.g. DLIST(/NOUN FAMILY)")
        words[0] = words[0][1:]
        tags = frozenset(w.upper() for w in words if w)
        if not tags:
            raise self.error(node, "this tag list names no tag; write (/TAG)")
        return tags

    def link(self, node: SList) -> Link | None:
        """`(=KEY)` or `(= KEY)` as a Link; anything else None."""
        items = node.items
        if not items or not isinstance(items[0], Atom) or not items[0].text.startswith("="):
            return None
        words = [items[0].text[1:]] + [a.text for a in items[1:] if isinstance(a, Atom)]
        words = [w for w in words if w]
        if len(words) != 1 or len(items) != (1 if items[0].text != "=" else 2):
            raise self.error(node, "a link names exactly one keyword: (=KEYWORD)")
        return Link(words[0].upper(), node.line, node.column)

    def decomposition(self, node: SList, keyword: str) -> Decomposition:
        if not node.items or not isinstance(node.items[0], SList):
            raise self.error(node, f"a rule of {keyword} must be ((PATTERN) REPLY ...) or (=KEYWORD); "
                                   f"this one is {node}")
        pattern = self.pattern(node.items[0])
        if len(node.items) < 2:
            raise self.error(node, f"the decomposition {node.items[0]} of {keyword} has no reassembly "
                                   "rule after it; add at least one reply list")
        reassemblies = tuple(self.reassembly(r, len(pattern)) for r in node.items[1:])
        return Decomposition(pattern, reassemblies, node.line, node.column)

    def pattern(self, node: Node) -> tuple[PatternElement, ...]:
        if not isinstance(node, SList) or not node.items:
            raise self.error(node, "a decomposition pattern is a non-empty list such as (0 YOUR 0)")
        out: list[PatternElement] = []
        for item in node.items:
            if _is_number(item):
                out.append(Count(int(item.text)))
            elif isinstance(item, Atom):
                out.append(Literal(item.text.upper()))
            else:
                out.append(self.alternatives(item))
        return tuple(out)

    def alternatives(self, node: SList) -> AnyOf | Tagged:
        words = [a.text for a in node.items if isinstance(a, Atom)]
        if words and len(words) == len(node.items) and words[0][:1] == "/":
            return Tagged(self.tags(node))
        if words and len(words) == len(node.items) and words[0][:1] == "*":
            words[0] = words[0][1:]
            choices = frozenset(w.upper() for w in words if w)
            if choices:
                return AnyOf(choices)
        raise self.error(node, f"{node} is not a pattern element: use (*WORD WORD ...) for "
                               "alternatives or (/TAG) for a word class")

    def words(self, node: SList, parts: int, what: str) -> tuple[str | int, ...]:
        out: list[str | int] = []
        for item in node.items:
            if isinstance(item, SList):
                raise self.error(item, f"{what} is a flat list of words and numbers; it holds a list here")
            if item.text.isdigit():
                n = int(item.text)
                if not 1 <= n <= parts:
                    raise self.error(item, f"{what} uses part {n}, but its pattern has {parts} "
                                           f"part(s), numbered 1 to {parts}")
                out.append(n)
            else:
                out.append(item.text)
        return tuple(out)

    def reassembly(self, node: Node, parts: int) -> Reassembly:
        if not isinstance(node, SList):
            raise self.error(node, f"a reassembly rule is a list such as (TELL ME MORE); found {node}")
        link = self.link(node)
        if link is not None:
            return link
        items = node.items
        if len(items) == 1 and isinstance(items[0], Atom) and items[0].text.upper() == "NEWKEY":
            return NewKey()
        if items and isinstance(items[0], Atom) and items[0].text.upper() == "PRE":
            target = self.link(items[2]) if len(items) == 3 and isinstance(items[2], SList) else None
            if not isinstance(items[1] if len(items) > 1 else None, SList) or target is None:
                raise self.error(node, "PRE takes a text and a link: (PRE (I ARE 3) (=YOU))")
            return Pre(self.words(items[1], parts, "the PRE text"), target)
        return Text(self.words(node, parts, "this reassembly rule"))

    def memory(self, form: SList, keywords: dict[str, Keyword]) -> MemoryRule:
        items = form.items
        if len(items) < 3 or not isinstance(items[1], Atom):
            raise self.error(form, "MEMORY takes a keyword and its transformations: "
                                   "(MEMORY MY (0 YOUR 0 = EARLIER YOU SAID YOUR 3) ...)")
        key = items[1].text.upper()
        if key not in keywords or not keywords[key].rules:
            raise self.error(items[1], f"the MEMORY keyword {key} must also be an ordinary keyword "
                                       f"with rules; add ({key} ...) to the script")
        transformations = []
        for node in items[2:]:
            cut = [j for j, a in enumerate(getattr(node, "items", ())) if isinstance(a, Atom) and a.text == "="]
            if not isinstance(node, SList) or len(cut) != 1:
                raise self.error(node, "a memory transformation is (PATTERN = TEXT), "
                                       "e.g. (0 YOUR 0 = EARLIER YOU SAID YOUR 3)")
            j = cut[0]
            pattern = self.pattern(SList(node.items[:j], node.line, node.column))
            text = SList(node.items[j + 1:], node.line, node.column)
            transformations.append((pattern, Text(self.words(text, len(pattern), "this memory text"))))
        return MemoryRule(key, tuple(transformations))

    def check(self, script: Script) -> None:
        """Cross-references: every link lands on a keyword with rules; NONE always answers."""
        for k in [*script.keywords.values(), script.none]:
            for rule in k.rules:
                links = [rule] if isinstance(rule, Link) else [
                    r.link if isinstance(r, Pre) else r for r in rule.reassemblies]
                for link in links:
                    if isinstance(link, Link):
                        target = script.keywords.get(link.keyword)
                        if target is None or not target.rules:
                            what = "no keyword" if target is None else "a keyword without rules"
                            raise ElizaScriptError(
                                f"link (={link.keyword}) in {k.word} names {what}; define "
                                f"({link.keyword} ((0) ...)) or fix the name", self.source,
                                link.line, link.column)
        none = script.none
        catch_all = [r for r in none.rules if isinstance(r, Decomposition) and r.pattern == (Count(0),)]
        if not catch_all:
            raise ElizaScriptError("NONE needs a rule ((0) REPLY ...) so that it answers any text",
                                   self.source, none.line, none.column)
        for r in none.rules:
            if isinstance(r, Decomposition) and any(isinstance(x, NewKey) for x in r.reassemblies):
                raise ElizaScriptError("NONE cannot use (NEWKEY): when NONE speaks no keyword is left",
                                       self.source, r.line, r.column)
