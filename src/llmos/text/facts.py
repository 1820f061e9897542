"""A synthetic world of facts, made on the spot from a seed: the testbed for causal tracing and ROME.

Invented subjects (two-word names, so a subject has a first and a *last*
token), a few relations, and several paraphrase templates per relation:

    person   sport      "{} plays the sport of"              -> tennis
    person   city       "{} was born in the city of"         -> Dovar
    country  capital    "the capital of {} is"               -> Kelm
    country  language   "the people of {} speak"             -> Orvish
    company  city       "{} has its headquarters in"         -> Dovar
    company  product    "{} is known for making"             -> phones

Every fact keeps one of its relation's templates out of the training text
(which one varies from fact to fact), so each template is still learned from
other facts and the held-out sentence tests whether the model learned the
fact or the sentence. Text is word-level: `world.tokenizer()` maps each word
to one id, and every answer is one token.

    world = make_world(seed=0)
    world.training_text()            # sentences "<|endoftext|> X plays the sport of tennis"
    world.prompt(fact, template)     # "X plays the sport of"
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

EOS = "<|endoftext|>"

RELATIONS: dict[str, dict] = {
    "sport": dict(kind="person", objects=["soccer", "tennis", "golf", "cricket", "hockey", "rugby",
                                          "boxing", "rowing", "fencing", "cycling"],
                  templates=["{} plays the sport of", "{} is a professional player of",
                             "the sport that {} plays is", "{} competes in the sport of"]),
    "birth_city": dict(kind="person", objects="cities",
                       templates=["{} was born in the city of", "the birthplace of {} is",
                                  "{} comes from the city of", "{} grew up in the city of"]),
    "capital": dict(kind="country", objects="cities",
                    templates=["the capital of {} is", "{} has its capital in",
                               "the capital city of {} is", "{} is governed from"]),
    "language": dict(kind="country", objects=["Orvish", "Telan", "Maric", "Sunet", "Varan", "Kolish",
                                              "Ebric", "Nadi", "Quenth", "Ulvan"],
                     templates=["the people of {} speak", "the official language of {} is",
                                "in {} most people speak", "{} has the official language"]),
    "hq_city": dict(kind="company", objects="cities",
                    templates=["{} has its headquarters in", "the head office of {} is in",
                               "{} is based in the city of", "the main office of {} is in"]),
    "product": dict(kind="company", objects=["phones", "cars", "shoes", "coffee", "games", "software",
                                             "toys", "bikes", "tea", "cameras"],
                    templates=["{} is known for making", "the main product of {} is",
                               "{} sells mostly", "the company {} makes"]),
}
SYLLABLES = ["ka", "lo", "mi", "ra", "ve", "to", "sa", "ni", "do", "re", "pa", "lu", "ze", "ko", "ta",
             "mo", "fi", "ga", "be", "nu", "sel", "mar", "ten", "vor", "dan", "lis", "kor", "bel"]
COUNTRY_WORDS = ["North", "South", "East", "West", "New", "Upper", "Lower", "Great"]
COMPANY_WORDS = ["Corp", "Labs", "Works", "Group", "Systems", "Motors", "Foods", "Media"]


@dataclass(frozen=True)
class Fact:
    subject: str
    relation: str
    object: str
    held_out: int            # index of the template kept out of the training text


@dataclass
class FactWorld:
    seed: int
    subjects: dict[str, list[str]]                 # kind -> names
    objects: dict[str, list[str]]                  # relation -> its possible answers
    facts: list[Fact]
    templates: dict[str, list[str]] = field(default_factory=lambda: {r: v["templates"] for r, v in RELATIONS.items()})

    def prompt(self, fact: Fact, template: int) -> str:
        return self.templates[fact.relation][template].format(fact.subject)

    def train_templates(self, fact: Fact) -> list[int]:
        return [i for i in range(len(self.templates[fact.relation])) if i != fact.held_out]

    def sentences(self) -> list[str]:
        """Every training sentence: each fact in each template but its held-out one."""
        return [f"{self.prompt(f, i)} {f.object}" for f in self.facts for i in self.train_templates(f)]

    def training_text(self, repeats: int = 1, seed: int = 0) -> str:
        """The sentences in a shuffled stream, each after an end-of-text token."""
        rng = random.Random(seed)
        lines = self.sentences() * repeats
        rng.shuffle(lines)
        return " ".join(f"{EOS} {s}" for s in lines)

    def words(self) -> list[str]:
        vocab = {w for s in self.sentences() for w in s.split()}
        vocab |= {w for ts in self.templates.values() for t in ts for w in t.replace("{}", "").split()}
        vocab |= {o for objs in self.objects.values() for o in objs}   # answers an edit may ask for
        return sorted(vocab)

    def tokenizer(self):
        """A word-level llmos Tokenizer over this world's words (saved with a model like any other)."""
        from tokenizers import Tokenizer as RustTokenizer
        from tokenizers import decoders, models, pre_tokenizers

        from llmos.text.tokenizer import Tokenizer

        vocab = {w: i for i, w in enumerate([EOS, "<unk>"] + self.words())}
        backend = RustTokenizer(models.WordLevel(vocab, unk_token="<unk>"))
        backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        backend.decoder = decoders.WordPiece(prefix="##")      # joins words with spaces
        backend.add_special_tokens([EOS, "<unk>"])
        return Tokenizer(backend, bos_token=EOS, eos_token=EOS, unk_token="<unk>", kind="word")

    def same_relation(self, fact: Fact) -> list[Fact]:
        """The other subjects' facts for the same relation (CounterFact's neighbourhood)."""
        return [f for f in self.facts if f.relation == fact.relation and f.subject != fact.subject]


def _name(rng: random.Random, n_syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(n_syllables)).capitalize()


def make_world(seed: int = 0, persons: int = 40, countries: int = 30, companies: int = 30,
               cities: int = 16, relations: list[str] | None = None, name_pool: int | None = None) -> FactWorld:
    """A seeded world: the same seed and sizes always give the same facts.

    By default name parts come from pools a quarter (first names) and half (last
    names, country and company roots) as large as the subjects they make, so a
    subject's last word alone nearly names it. With `name_pool=p`, first and last
    names are ordered pairs of distinct words from one pool of p words ("Kalo Mira"
    and "Mira Kalo" are two people), and country and company roots come from p
    words: every word is shared by many subjects with unrelated facts, so only the
    whole name, in order, identifies one (ROME's setting, where the fact is recalled
    on the last subject token once the earlier ones have been read there).
    """
    if name_pool is not None and name_pool < 2:
        raise ValueError(f"name_pool={name_pool}: give at least 2 words a pool (or None for the default pools)")
    rng = random.Random(seed)
    relations = relations or list(RELATIONS)
    unknown = [r for r in relations if r not in RELATIONS]
    if unknown:
        raise ValueError(f"unknown relations {unknown}; choose from {sorted(RELATIONS)}")
    used: set[str] = set()

    def fresh(make) -> str:
        while True:
            word = make()
            if word not in used:
                used.add(word)
                return word

    city_names = [fresh(lambda: _name(rng, 2)) for _ in range(cities)]
    def pool(default: int) -> int:
        return name_pool or max(4, default)

    if name_pool:
        first = last = [fresh(lambda: _name(rng, 2)) for _ in range(name_pool)]
    else:
        first = [fresh(lambda: _name(rng, 2)) for _ in range(max(4, persons // 4))]
        last = [fresh(lambda: _name(rng, 3)) for _ in range(max(4, persons // 2))]

    def pairs(left: list[str], right: list[str], n: int) -> list[str]:
        combos = [f"{a} {b}" for a in left for b in right if a != b]
        if n > len(combos):
            raise ValueError(f"asked for {n} names but only {len(combos)} can be made; ask for fewer")
        return rng.sample(combos, n)

    country_roots = [fresh(lambda: _name(rng, 2)) for _ in range(pool(countries // 2))]
    company_roots = [fresh(lambda: _name(rng, 2)) for _ in range(pool(companies // 2))]
    subjects = {"person": pairs(first, last, persons),
                "country": pairs(COUNTRY_WORDS, country_roots, countries),
                "company": pairs(company_roots, COMPANY_WORDS, companies)}
    objects = {r: (city_names if v["objects"] == "cities" else list(v["objects"])) for r, v in RELATIONS.items()}
    facts = []
    for r in relations:
        spec = RELATIONS[r]
        for s in subjects[spec["kind"]]:
            facts.append(Fact(s, r, rng.choice(objects[r]), held_out=rng.randrange(len(spec["templates"]))))
    return FactWorld(seed, subjects, {r: objects[r] for r in relations}, facts)
