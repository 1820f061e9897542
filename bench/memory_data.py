"""A generated LongMemEval-style set: long chat histories and questions whose evidence is in them.

    histories, questions = generate(n_histories=20, questions_per_ability=5, seed=0)

Each history is one person's 30-50 chat sessions over about a year (4-8 turns
each, the person and the assistant taking turns), mostly everyday chatter that
shares words with the questions (family, restaurants, cities, pets, concerts)
so that neither words nor meaning alone find everything. Facts are planted in
some turns; each question names the turns that hold its evidence. The five
abilities of LongMemEval (Wu et al., 2024):

    information extraction   one planted fact; asked in other words, or by its rare name
    multi-session reasoning   two or three facts from different sessions ("how many ...")
    temporal reasoning        an event in a named month, among like events in other months
    knowledge update          an old fact and its later change ("where do I live now")
    abstention                something never said (no evidence; the reader should decline)
"""
from __future__ import annotations

import calendar
import random
from dataclasses import dataclass, field

FIRST = ["Clara", "Tomas", "Ines", "Milo", "Priya", "Jonah", "Yuki", "Rafael", "Leonie", "Omar", "Greta",
         "Dario", "Signe", "Kofi", "Anouk", "Mateo", "Hana", "Lucien", "Esme", "Bruno"]
JOBS = [("pediatric nurse", "looks after sick children"), ("civil engineer", "designs bridges and roads"),
        ("sommelier", "recommends wines in a restaurant"), ("patent lawyer", "protects inventions in court"),
        ("veterinarian", "treats animals"), ("pastry chef", "bakes cakes and desserts"),
        ("air traffic controller", "guides planes at the airport"), ("marine biologist", "studies ocean life")]
CITIES = ["Lisbon", "Porto", "Utrecht", "Ghent", "Bologna", "Krakow", "Tallinn", "Seville", "Graz", "Malmo",
          "Lyon", "Bergen", "Cork", "Brno", "Turku", "Valencia"]
PETS = [("cat", "Miso"), ("dog", "Pretzel"), ("rabbit", "Clover"), ("parrot", "Kiwi"), ("tortoise", "Atlas"),
        ("hamster", "Nugget"), ("dog", "Biscuit"), ("cat", "Saffron")]
RESTAURANTS = ["Lotus Garden", "The Copper Pot", "Casa Nostra", "Blue Door Bistro", "Sakura House",
               "El Faro", "The Green Fork", "Maison Lune", "Taverna Elia", "The Salt Cellar", "Nomad Kitchen",
               "Golden Dumpling"]
BANDS = ["the Jazz Quartet", "Midnight Harbour", "the Velvet Echoes", "Paper Lanterns", "Northern Static",
         "the Brass Collective", "Sunday Orchids", "Glass Horizon"]
FURNITURE = ["bookshelf", "sofa", "dining table", "desk lamp", "wardrobe", "armchair", "bed frame", "rug"]
RACES = ["city half marathon", "10k charity run", "trail race in the hills", "night run by the river"]
BOOKS = ["The Glass Orchard", "A Map of Small Rivers", "Winter in Odessa", "The Last Cartographer",
         "Salt and Starlight", "The Quiet Engine"]
HOBBIES = ["pottery", "bouldering", "salsa dancing", "birdwatching", "chess", "watercolour painting"]
ABSENT = ["What is my brother's name?", "What breed is my horse?", "Which country did my grandmother grow up in?",
          "What is the name of my son's school?", "What colour is my motorbike?", "Which team does my husband coach?",
          "How old is my daughter?", "What instrument does my father play?"]

FILLER_USER = [
    "Can you suggest a quick {food} recipe for a weeknight dinner?",
    "My colleague's sister is visiting {city} next week, any tips I can pass on?",
    "I watched a documentary about {hobby} yesterday, it was fun.",
    "What's a good way to keep a {pet} entertained when nobody is home? Asking for a neighbour.",
    "I need a gift idea for a friend who loves {hobby}.",
    "A friend keeps talking about {restaurant}, is that kind of place worth it?",
    "How long does it take to get from {city} to {city2} by train?",
    "Remind me how to write a polite email declining a meeting.",
    "What are some good podcasts about history?",
    "My neighbour just got a {pet}; what should I know before I pet-sit?",
    "Is it worth going to a {band}-style concert alone?",
    "Help me plan a weekend in {city} with some museums.",
    "I'm trying to drink more water, any tricks?",
    "What's the difference between a sofa and a couch, really?",
    "Tell me something interesting about the history of {city}.",
    "Our office is organising a {race}, should I sign up?",
]
FILLER_ASSISTANT = [
    "Sure! Here is an idea you could try: start simple and adjust as you go.",
    "That sounds lovely. A few suggestions: check opening hours and book ahead.",
    "Good question. In short, it depends on your budget and how much time you have.",
    "Happy to help. Let me break it down into three steps.",
    "Here's a short summary of what people usually recommend.",
    "I'd start with the basics and see how it feels after a week.",
]
FOODS = ["lentil", "mushroom", "chickpea", "salmon", "tofu", "pumpkin", "spinach", "tomato"]


@dataclass
class Turn:
    id: str
    role: str
    text: str
    time: float


@dataclass
class History:
    person: str
    sessions: list[list[Turn]] = field(default_factory=list)

    @property
    def turns(self) -> list[Turn]:
        return [t for s in self.sessions for t in s]


@dataclass
class Question:
    id: str
    person: str
    ability: str
    text: str
    evidence: list[str]      # turn ids; empty for abstention


def _filler(rng: random.Random) -> tuple[str, str]:
    user = rng.choice(FILLER_USER).format(food=rng.choice(FOODS), city=rng.choice(CITIES), city2=rng.choice(CITIES),
                                          hobby=rng.choice(HOBBIES), pet=rng.choice(PETS)[0],
                                          restaurant=rng.choice(RESTAURANTS), band=rng.choice(BANDS),
                                          race=rng.choice(RACES))
    return user, rng.choice(FILLER_ASSISTANT)


def _history(h: int, rng: random.Random) -> tuple[History, list[tuple[int, str, str]]]:
    """A person's sessions of filler; returns the history and the session start times."""
    hist = History(person=f"p{h:02d}")
    t = calendar.timegm((2025, 1, 1, 9, 0, 0)) + rng.randint(0, 20) * 86400
    for s in range(rng.randint(30, 50)):
        t += rng.randint(3, 11) * 86400 + rng.randint(0, 36000)
        turns = []
        for k in range(rng.randint(2, 4)):
            user, assistant = _filler(rng)
            turns.append(Turn(f"{hist.person}-s{s}-t{2 * k}", "user", user, t + 120 * k))
            turns.append(Turn(f"{hist.person}-s{s}-t{2 * k + 1}", "assistant", assistant, t + 120 * k + 30))
        hist.sessions.append(turns)
    return hist, []


def _plant(hist: History, rng: random.Random, text: str, session: int | None = None,
           not_before: int = 0) -> Turn:
    """Replace a random user turn of a session with `text`; returns the planted turn."""
    s = session if session is not None else rng.randrange(not_before, len(hist.sessions))
    users = [i for i, t in enumerate(hist.sessions[s]) if t.role == "user" and "-fact" not in t.id]
    if not users:   # every user turn of the session already holds a fact: the person says one more thing
        last = hist.sessions[s][-1]
        turn = Turn(f"{last.id}-more{len(hist.sessions[s])}-fact", "user", text, last.time + 60)
        hist.sessions[s].append(turn)
        return turn
    i = rng.choice(users)
    old = hist.sessions[s][i]
    turn = Turn(old.id + "-fact", "user", text, old.time)
    hist.sessions[s][i] = turn
    return turn


def _month_of(t: float) -> str:
    g = calendar.month_name
    import time as _time

    tm = _time.gmtime(t)
    return f"{g[tm.tm_mon]} {tm.tm_year}"


def generate(n_histories: int = 20, per_ability: int = 5, seed: int = 0) -> tuple[list[History], list[Question]]:
    rng = random.Random(seed)
    histories, questions = [], []
    for h in range(n_histories):
        hist, _ = _history(h, rng)
        person, n_s = hist.person, len(hist.sessions)
        q = lambda ability, text, ev: questions.append(  # noqa: E731
            Question(f"{person}-q{len(questions)}", person, ability, text, [t.id for t in ev]))
        used_sessions: set[int] = set()

        def free_session(lo: int = 0, hi: int | None = None) -> int:
            hi = n_s if hi is None else hi
            options = [s for s in range(lo, hi) if s not in used_sessions] or list(range(lo, hi))
            s = rng.choice(options)
            used_sessions.add(s)
            return s

        # information extraction: a paraphrased question, or one that names the fact's rare word
        facts = rng.sample(range(6), per_ability)
        for f in facts:
            name, (job, does) = rng.choice(FIRST), rng.choice(JOBS)
            pet, pet_name = rng.choice(PETS)
            city, hobby, rest = rng.choice(CITIES), rng.choice(HOBBIES), rng.choice(RESTAURANTS)
            text, meaning, word = [
                (f"By the way, my sister {name} just started working as a {job}.",
                 f"What does my sibling do for a living? I think she {does}.", f"What job did {name} start?"),
                (f"We adopted a {pet} last weekend and named it {pet_name}!",
                 f"What did we call the animal we took in?", f"What kind of animal is {pet_name}?"),
                (f"I grew up in {city}, so the winters there still feel like home.",
                 "Where did I spend my childhood?", f"What did I say about {city} winters?"),
                (f"I finally signed up for a {hobby} class on Thursday evenings.",
                 "Which weekly course did I enrol in?", f"When is my {hobby} class?"),
                (f"Our anniversary dinner will be at {rest}, I booked a table for eight o'clock.",
                 "Where are we celebrating our anniversary?", f"What time is the table at {rest}?"),
                (f"My new employer is a small {job.split()[-1]} firm in {city}.",
                 "Who do I work for now?", f"Which {job.split()[-1]} firm did I join in {city}?"),
            ][f]
            ev = _plant(hist, rng, text, free_session())
            q("information_extraction", rng.choice([meaning, word]), [ev])
        # multi-session reasoning: items spread over sessions, one kind of item per question
        for kind in rng.sample(range(5), per_ability):
            n = rng.randint(2, 3)
            template, question, pool = [
                ("Picked up a {} for the new flat today.", "How many pieces of furniture have I bought for my "
                 "apartment?", FURNITURE),
                ("I ran the {} this morning, legs are sore!", "How many running events have I taken part in?", RACES),
                ("Saw {} play live last night, what a show.", "Which bands have I seen perform?", BANDS),
                ("Just finished reading {}, could not put it down.", "Which novels have I read recently?", BOOKS),
                ("Back from a weekend trip to {}, so tired but happy.", "Where have I gone on short getaways?",
                 CITIES),
            ][kind]
            evs = [_plant(hist, rng, template.format(x), free_session()) for x in rng.sample(pool, n)]
            q("multi_session", question, evs)
        # temporal reasoning: several like events, the question names one month
        rests = rng.sample(RESTAURANTS, per_ability + 3)
        months_used: set[str] = set()
        planted = []
        for r in rests:
            for _ in range(20):
                s = free_session()
                month = _month_of(hist.sessions[s][0].time)
                if month not in months_used:
                    break
            months_used.add(month)
            planted.append((_plant(hist, rng, f"We tried {r} for dinner tonight, the dessert was great.", s), month))
        for ev, month in planted[:per_ability]:
            q("temporal", f"Which restaurant did we try for dinner in {month}?", [ev])
        # knowledge update: an old fact and its later change, each about another thing
        for k in rng.sample(range(5), per_ability):
            early, late = free_session(0, n_s // 2), free_session(n_s // 2 + 1, n_s)
            if k == 0:
                a, b = rng.sample(CITIES, 2)
                old = _plant(hist, rng, f"Living in {a} is great, the tram is so convenient.", early)
                new = _plant(hist, rng, f"We finally moved to {b}; the boxes are everywhere.", late)
                q("knowledge_update", "Which city do I live in these days?", [old, new])
            else:
                a, b = rng.sample(FIRST, 2)
                job = ["my running coach", "my piano teacher", "my dentist", "my manager"][k - 1]
                old = _plant(hist, rng, f"{a} is {job}, and honestly the best one I've had.", early)
                new = _plant(hist, rng, f"{a} left, so {b} is {job} now.", late)
                q("knowledge_update", f"Who is {job} currently?", [old, new])
        # abstention: never said
        for text in rng.sample(ABSENT, per_ability):
            q("abstention", text, [])
        histories.append(hist)
    return histories, questions


ABILITIES = ("information_extraction", "multi_session", "temporal", "knowledge_update", "abstention")
