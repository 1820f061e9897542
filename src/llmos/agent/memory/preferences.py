"""Explicit preferences: typed, taken from what the person says, and matched to choices on a page.

    extract("I'm vegetarian and always take an aisle seat.")
      -> [Statement(key="diet", value="vegetarian", ...), Statement(key="seat", value="aisle", ...)]

Each `Statement` has a key from `TYPES` (allergies and avoided brands are
sets, so their key carries the value: "allergy:peanuts"), the value, the
sentence it came from, and a confidence: a hedged sentence ("maybe", "I think",
"sometimes") gives 0.5, under `SURE`, and the agent asks the person before it
relies on it. `matches` tells whether a page choice (a meal option, a seat
label) applies a preference, so the step's message can name it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

TYPES = ("diet", "allergy", "seat", "meal", "cabin", "budget", "avoid_brand", "brand", "address",
         "home_city", "name", "email", "shipping")
SETS = ("allergy", "avoid_brand")      # a person may hold several at once
SURE = 0.8                             # below this the agent asks before acting on a preference
HEDGES = re.compile(r"\b(maybe|perhaps|i think|i guess|sometimes|not sure|might|probably|depends)\b", re.I)
DIETS = "vegetarian|vegan|pescatarian|gluten-free|kosher|halal"
SENTENCE = re.compile(r"(?<=[.!?;])\s+|\s+(?:and|but)\s+(?=i\b|i'm\b|my\b)", re.I)

_RULES: list[tuple[str, re.Pattern]] = [
    ("diet", re.compile(rf"\bi(?:'m| am)\s+(?:a\s+|strictly\s+)?({DIETS})\b", re.I)),
    ("diet", re.compile(rf"\b({DIETS})\s+(?:food|meals?|diet)\b", re.I)),
    ("allergy", re.compile(r"\ballergic to ([a-z][a-z ,-]*?)(?=[.;!]|$)", re.I)),
    ("seat", re.compile(r"\b(aisle|window|middle)\s+seats?\b", re.I)),
    ("cabin", re.compile(r"\b(?:fly|travel|book)\s+(?:only\s+)?(business|economy)\b", re.I)),
    ("budget", re.compile(r"\b(?:budget (?:is|of)|spend (?:at most|no more than|under)|at most)\s*"
                          r"(?:€|eur\s*|\$)?\s*(\d+(?:\.\d+)?)", re.I)),
    ("avoid_brand", re.compile(r"\b(?:never|don't|do not)\s+(?:buy|want|order)\s+(?:anything\s+(?:from|by)\s+)?"
                               r"([A-Z][\w&'-]+)", re.I)),
    ("email", re.compile(r"\bmy e-?mail(?: address)? is\s+(\S+@\S+?)(?=[.,;]?\s|[.,;]?$)", re.I)),
    ("name", re.compile(r"\bmy name is\s+([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)", re.I)),
    ("shipping", re.compile(r"\b(express|standard)\s+shipping\b", re.I)),
]
# "my (new) address is 12 Rua Augusta, 1100-053 Lisbon, Portugal" / "I moved to <address>"
ADDRESS = re.compile(r"\b(?:my (?:new |home |shipping )?address is|i(?:'ve| have)? moved to|i now live at|"
                     r"i live at)\s+(?P<street>[^,]+\d[^,]*|\d[^,]+),\s*(?P<postcode>[\w-]*\d[\w-]*)\s+"
                     r"(?P<city>[A-Za-z][A-Za-z .'-]*?),\s*(?P<country>[A-Za-z][A-Za-z .'-]*?)\s*(?:[.!;]|$)", re.I)
CITY = re.compile(r"\b(?i:i(?:'ve| have)? moved to|i live in|i'm living in|i now live in)\s+"
                  r"([A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)(?=[.,;!]|\s|$)")


@dataclass(frozen=True)
class Statement:
    key: str          # a TYPES entry, or "allergy:peanuts" for set-valued types
    value: str        # plain text, or JSON for an address
    text: str         # the fact in words, as memory keeps it
    said: str         # the sentence it came from
    confidence: float

    @property
    def type(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def sure(self) -> bool:
        return self.confidence >= SURE


def describe(key: str, value: str) -> str:
    """A preference in words, the way memory shows it."""
    kind = key.split(":", 1)[0]
    if kind == "address":
        a = json.loads(value)
        return f"home address: {a['street']}, {a['postcode']} {a['city']}, {a['country']}"
    words = {"diet": "diet: {v}", "allergy": "allergic to {v}", "seat": "prefers {v} seats",
             "meal": "meal: {v}", "cabin": "flies {v}", "budget": "budget at most {v}",
             "avoid_brand": "never buy {v}", "brand": "prefers the brand {v}", "home_city": "lives in {v}",
             "name": "name: {v}", "email": "email: {v}", "shipping": "prefers {v} shipping"}
    return words.get(kind, kind + ": {v}").format(v=value)


def _statement(key: str, value: str, sentence: str) -> Statement:
    conf = 0.5 if HEDGES.search(sentence) else 0.95
    return Statement(key, value, describe(key, value), sentence.strip(), conf)


def extract(text: str) -> list[Statement]:
    """The typed preferences and facts stated in `text` (the person's own words)."""
    out: list[Statement] = []
    for sentence in SENTENCE.split(text):
        m = ADDRESS.search(sentence)
        if m:
            addr = {k: " ".join(v.split()) for k, v in m.groupdict().items()}
            out.append(_statement("address", json.dumps(addr, sort_keys=True), sentence))
            out.append(_statement("home_city", addr["city"], sentence))
        elif (c := CITY.search(sentence)) is not None:
            out.append(_statement("home_city", c.group(1), sentence))
        for key, pattern in _RULES:
            for hit in pattern.finditer(sentence):
                value = hit.group(1).strip()
                value = value if key in ("name", "email", "avoid_brand") else value.lower()
                if key == "allergy":   # "allergic to peanuts, shellfish and soy"
                    for v in filter(None, (x.strip() for x in re.split(r",|\band\b", value))):
                        out.append(_statement(f"allergy:{v}", v, sentence))
                elif key in SETS:
                    out.append(_statement(f"{key}:{value.lower()}", value, sentence))
                else:
                    out.append(_statement(key, value, sentence))
    seen, unique = set(), []
    for s in out:
        if s.key not in seen:
            seen.add(s.key)
            unique.append(s)
    return unique


def matches(key: str, value: str, choice: str) -> bool:
    """Does picking `choice` (an option's or element's text) apply the preference `key = value`?"""
    kind = key.split(":", 1)[0]
    choice_n = " ".join(choice.lower().split())
    if kind in ("diet", "meal", "seat", "cabin", "shipping", "brand"):
        return re.search(rf"\b{re.escape(value.lower())}\b", choice_n) is not None
    if kind == "address":
        return json.loads(value)["street"].lower() == choice_n
    if kind in ("name", "email", "home_city"):
        return value.lower() == choice_n
    return False
