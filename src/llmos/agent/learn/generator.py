"""Seeded task variants on the suite's three sites, split train / held-out values / held-out templates.

A template is one kind of errand ("book the cheapest economy flight", "buy N
of a product", "open a support request"); it draws its values from the sites'
own catalogues (routes, dates, products, countries, topics, sessions, ...), so
every variant is one the sites serve and the suite's checks judge, and it
writes the variant's instruction in one of several wordings together with its
check and its oracle plan (the same data a `tasks.json` task holds).

Splits:

    train                  training templates, values drawn from the training pools
    held_out_values        the same templates, values never drawn for training
                           (people and (route, date) pairs kept apart by a hash)
    held_out_templates     templates no training variant comes from (one per site)

    variants = generate("train", 2000, seed=0)
"""
from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from typing import Callable

from llmos.agent.suite import flights as fl
from llmos.agent.suite import forms as fm
from llmos.agent.suite import shop as sh
from llmos.agent.suite.tasks import Task, _validate

SPLITS = ("train", "held_out_values", "held_out_templates")
FIRST = ["Ada", "Alan", "Grace", "Linus", "Barbara", "Edsger", "Dennis", "Katherine", "Margaret",
         "Tim", "Donald", "Frances", "Ken", "Radia", "John", "Hedy", "Niklaus", "Sophie",
         "Claude", "Joan", "Guido", "Anita", "Bjarne", "Lynn"]
LAST = ["Lovelace", "Kay", "Hopper", "Torvalds", "Liskov", "Dijkstra", "Ritchie", "Johnson",
        "Hamilton", "Knuth", "Allen", "Thompson", "Perlman", "McCarthy", "Lamarr", "Wirth",
        "Wilson", "Shannon", "Clarke", "Rossum", "Borg", "Stroustrup", "Conway", "Turing"]
STREETS = ["Analytical Street", "Compiler Road", "Kernel Street", "Shortest Path", "Abstraction Way",
           "Lambda Lane", "Pointer Place", "Recursion Row", "Byte Avenue", "Stack Square"]
# (city, postcode, country) for each country the shop ships to.
ADDRESSES = [("Paris", "75001", "France"), ("Lyon", "69002", "France"), ("Berlin", "10115", "Germany"),
             ("Munich", "80331", "Germany"), ("Rome", "00100", "Italy"), ("Milan", "20121", "Italy"),
             ("Eindhoven", "5612 AZ", "Netherlands"), ("Utrecht", "3511 AB", "Netherlands"),
             ("Lisbon", "1000-001", "Portugal"), ("Porto", "4000-001", "Portugal"),
             ("Madrid", "28001", "Spain"), ("Seville", "41001", "Spain")]
MESSAGES = ["The parcel arrived with a broken lid. Please send a new one.",
            "My order has not arrived after two weeks. Where is it?",
            "I was charged twice for the same order. Please refund one payment.",
            "Please add oat milk and rye bread to the shop's catalogue.",
            "The kettle stopped working after three days of use.",
            "Could you deliver to my office address instead of my home?"]


def _held(*parts) -> bool:
    """True for the quarter of value combinations kept out of training (a stable hash)."""
    return hashlib.sha1("|".join(map(str, parts)).encode()).digest()[0] % 4 == 0


@dataclass(frozen=True)
class Person:
    first: str
    last: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def email(self) -> str:
        return f"{self.first.lower()}.{self.last.lower()}@example.com"


def _person(rng: random.Random, held: bool) -> Person:
    while True:
        p = Person(rng.choice(FIRST), rng.choice(LAST))
        if _held(p.name) == held:
            return p


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _pay_text(p: Person) -> str:
    return (f"Pay with the card in secret card_number (name on card {p.name}, expiry 12/29, "
            "security code in secret card_cvc).")


def _card(p: Person) -> dict:
    return {"card": p.name}


# ----------------------------------------------------------------------------- flights

def _route(rng: random.Random, held: bool) -> tuple[str, str, str]:
    while True:
        origin, dest, _ = rng.choice(fl.ROUTES)
        date = rng.choice(fl.DATES)
        if _held(origin, dest, date) == held:
            return origin, dest, date


def _flights_on(origin: str, dest: str, date: str) -> list[fl.Flight]:
    return sorted((f for f in fl.timetable().values()
                   if (f.origin, f.destination, f.date) == (origin, dest, date)), key=lambda f: f.depart)


def _search(o, d, date, cabin="economy") -> dict:
    return {"search_flights": {"from": o, "to": d, "date": date, "cabin": cabin.capitalize()}}


# "The cheapest": the results page sorts itself by price, then the first fare is the one. A policy
# that learns to sort and take the first needs no comparison of prices in its head, which a
# small model does badly; it works on any results page with a price sort.
SORT_BY_PRICE = {"select": "Sort by", "option": "Price (lowest first)"}


def _booking_steps(p: Person, seat_pattern: str, meal: str | None) -> list[dict]:
    steps = [{"passenger": {"first": p.first, "last": p.last, "email": p.email}},
             {"click_first": seat_pattern, "role": "radio"}]
    if meal:
        steps.append({"select": "Meal", "option": meal})
    return steps + [{"click": "Continue to payment"}, _card(p), {"click_first": "^Pay €"},
                    {"done": "Booked and paid."}]


def flights_search(rng, held):
    o, d, date = _route(rng, held)
    cabin = rng.choice(["economy", "business"])
    text = rng.choice([f"On SkyLark Air, search for {cabin} flights from {o} to {d} on {date}.",
                       f"Look up {cabin} flights from {o} to {d} on {date} on SkyLark Air.",
                       f"Find SkyLark Air {cabin} flights {o} to {d}, {date}. Just search."])
    return dict(difficulty="easy", start="/flights/", max_steps=8, instruction=text,
                check={"kind": "flight_search", "origin": o, "destination": d, "date": date, "cabin": cabin},
                oracle=[_search(o, d, date, cabin), {"done": "The search results are shown."}])


def flights_cheapest(rng, held):
    o, d, date = _route(rng, held)
    p = _person(rng, held)
    text = rng.choice([f"Book the cheapest economy flight from {o} to {d} on {date} for {p.name} "
                       f"({p.email}). Any free seat is fine.",
                       f"{p.name} ({p.email}) needs the cheapest economy flight {o} to {d} on {date}; "
                       "any seat will do. Book it."])
    return dict(difficulty="medium", start="/flights/", max_steps=22, secrets=["card_number", "card_cvc"],
                instruction=f"{text} {_pay_text(p)}",
                check={"kind": "flight_bookings", "bookings": [{"flight": {
                    "pick": "cheapest", "origin": o, "destination": d, "date": date},
                    "passenger": p.name, "email": p.email}]},
                oracle=[_search(o, d, date), SORT_BY_PRICE, {"click_first": "^Select SL"}]
                + _booking_steps(p, r"^Seat \w+, \w+$", None))


def flights_earliest_seat(rng, held):
    o, d, date = _route(rng, held)
    p, kind = _person(rng, held), rng.choice(["window", "aisle", "middle"])
    text = rng.choice([f"Book the earliest nonstop economy flight from {o} to {d} on {date} for "
                       f"{p.name} ({p.email}) with {_a(kind)} seat.",
                       f"Get {p.name} ({p.email}) {_a(kind)} seat on the first nonstop economy flight "
                       f"from {o} to {d} on {date}."])
    return dict(difficulty="medium", start="/flights/", max_steps=22, secrets=["card_number", "card_cvc"],
                instruction=f"{text} {_pay_text(p)}",
                check={"kind": "flight_bookings", "bookings": [{"flight": {
                    "pick": "earliest", "nonstop": True, "origin": o, "destination": d, "date": date},
                    "passenger": p.name, "email": p.email, "seat_kind": kind}]},
                oracle=[_search(o, d, date), {"pick": "^Select SL.*nonstop", "by": "time", "order": "min"}]
                + _booking_steps(p, rf"^Seat \w+, {kind}$", None))


def flights_latest_meal(rng, held):
    o, d, date = _route(rng, held)
    p, kind, meal = _person(rng, held), rng.choice(["window", "aisle", "middle"]), rng.choice(fl.MEALS[1:])
    text = rng.choice([f"Book the last economy flight of the day from {o} to {d} on {date} for "
                       f"{p.name} ({p.email}), with {_a(kind)} seat and a {meal.lower()} meal.",
                       f"{p.name} ({p.email}) wants the latest economy flight {o} to {d} on {date}, "
                       f"{_a(kind)} seat and a {meal.lower()} meal. Book it."])
    return dict(difficulty="hard", start="/flights/", max_steps=24, secrets=["card_number", "card_cvc"],
                instruction=f"{text} {_pay_text(p)}",
                check={"kind": "flight_bookings", "bookings": [{"flight": {
                    "pick": "latest", "origin": o, "destination": d, "date": date},
                    "passenger": p.name, "email": p.email, "seat_kind": kind, "meal": meal}]},
                oracle=[_search(o, d, date), {"pick": "^Select SL", "by": "time", "order": "max"}]
                + _booking_steps(p, rf"^Seat \w+, {kind}$", meal))


def flights_business_seat(rng, held):
    """Held-out template: a business-class booking with a seat kind and a meal."""
    o, d, date = _route(rng, held)
    p, kind, meal = _person(rng, held), rng.choice(["window", "aisle"]), rng.choice(fl.MEALS[1:])
    text = rng.choice([f"Book the cheapest business-class flight from {o} to {d} on {date} for "
                       f"{p.name} ({p.email}), with {_a(kind)} seat and a {meal.lower()} meal.",
                       f"{p.name} ({p.email}) flies business from {o} to {d} on {date}: the "
                       f"cheapest one, {_a(kind)} seat, {meal.lower()} meal. Book it."])
    return dict(difficulty="hard", start="/flights/", max_steps=24, secrets=["card_number", "card_cvc"],
                instruction=f"{text} {_pay_text(p)}",
                check={"kind": "flight_bookings", "bookings": [{"flight": {
                    "pick": "cheapest", "origin": o, "destination": d, "date": date}, "cabin": "business",
                    "passenger": p.name, "email": p.email, "seat_kind": kind, "meal": meal}]},
                oracle=[_search(o, d, date, "business"), SORT_BY_PRICE, {"click_first": "^Select SL"}]
                + _booking_steps(p, rf"^Seat \w+, {kind}$", meal))


def flights_arrival(rng, held):
    o, d, date = _route(rng, held)
    f = rng.choice(_flights_on(o, d, date))
    text = rng.choice([f"When does flight {f.number} from {o} to {d} on {date} arrive? Answer with the "
                       "arrival time.",
                       f"What time does SkyLark Air flight {f.number} ({o} to {d}, {date}) land?"])
    return dict(difficulty="easy", start="/flights/", max_steps=8, instruction=text,
                check={"kind": "answer", "contains": [f.arrive]},
                oracle=[_search(o, d, date), {"answer": rf"{f.number} departs \S+, arrives (\d\d:\d\d)"}])


def flights_fare(rng, held):
    o, d, date = _route(rng, held)
    cabin = rng.choice(["economy", "business"])
    price = min(f.price[cabin] for f in _flights_on(o, d, date))
    text = rng.choice([f"How much is the cheapest {cabin} fare from {o} to {d} on {date}? Answer with "
                       "the price in euros; do not book anything.",
                       f"What is the lowest {cabin} price from {o} to {d} on {date}? Don't book."])
    return dict(difficulty="easy", start="/flights/", max_steps=10, instruction=text,
                check={"kind": "answer", "contains": [str(price)]},
                oracle=[_search(o, d, date, cabin), SORT_BY_PRICE,
                        {"answer_pick": "^Select SL", "by": "price", "order": "min"}])


# ----------------------------------------------------------------------------- shop

def _product(rng: random.Random, held: bool, *parts) -> sh.Product:
    pool = [p for p in sh.PRODUCTS if p.slug != "gift-card"]
    while True:
        p = rng.choice(pool)
        if _held(p.slug, *parts) == held:
            return p


def _address(rng: random.Random, held: bool) -> tuple[Person, dict]:
    p = _person(rng, held)
    city, postcode, country = rng.choice(ADDRESSES)
    street = f"{rng.randint(1, 99)} {rng.choice(STREETS)}"
    return p, {"name": p.name, "street": street, "postcode": postcode, "city": city, "country": country}


def _address_text(a: dict) -> str:
    return f"{a['name']}, {a['street']}, {a['postcode']} {a['city']}, {a['country']}"


def _checkout(p: Person, a: dict, shipping: str) -> list[dict]:
    return [{"click": "Proceed to checkout", "role": "link"}, {"address": a},
            {"check": f"{shipping.capitalize()} shipping", "role": "radio"}, _card(p),
            {"click": "Place order"}, {"done": "Ordered."}]


def shop_add(rng, held):
    qty = rng.randint(2, 5)
    prod = _product(rng, held, qty)
    text = rng.choice([f"In the Corner Shop, put {qty} of {prod.name} in the cart. Do not check out.",
                       f"Add {qty} x {prod.name} to my Corner Shop cart, nothing else; don't buy yet."])
    return dict(difficulty="easy", start="/shop/", max_steps=8, instruction=text,
                check={"kind": "shop_cart", "items": {prod.slug: qty}},
                oracle=[{"click": prod.name, "role": "link"}, {"type": "Quantity", "text": str(qty)},
                        {"click": "Add to cart"}, {"done": f"{qty} in the cart."}])


def shop_buy_one(rng, held):
    prod = _product(rng, held)
    p, a = _address(rng, held)
    shipping = rng.choice(["standard", "express"])
    text = rng.choice([f"Buy one {prod.name} from the Corner Shop with {shipping} shipping to "
                       f"{_address_text(a)}.",
                       f"Order a {prod.name} in the Corner Shop, {shipping} shipping, for {_address_text(a)}."])
    return dict(difficulty="medium", start="/shop/", max_steps=22, secrets=["card_number", "card_cvc"],
                instruction=f"{text} {_pay_text(p)}",
                check={"kind": "shop_order", "items": {prod.slug: 1},
                       "fields": {"shipping": shipping, "name": a["name"], "street": a["street"],
                                  "city": a["city"], "country": a["country"]}},
                oracle=[{"click": f"Add {prod.name} to cart"}] + _checkout(p, a, shipping))


def shop_buy_many(rng, held):
    """Held-out template: N of a product, bought (the product page's quantity, then checkout)."""
    qty = rng.randint(2, 4)
    prod = _product(rng, held, qty)
    p, a = _address(rng, held)
    shipping = rng.choice(["standard", "express"])
    text = rng.choice([f"Buy {qty} of {prod.name} in the Corner Shop, {shipping} shipping to {_address_text(a)}.",
                       f"Order {qty} x {prod.name} from the Corner Shop with {shipping} shipping for "
                       f"{_address_text(a)}."])
    return dict(difficulty="hard", start="/shop/", max_steps=24, secrets=["card_number", "card_cvc"],
                instruction=f"{text} {_pay_text(p)}",
                check={"kind": "shop_order", "items": {prod.slug: qty},
                       "fields": {"shipping": shipping, "name": a["name"], "city": a["city"]}},
                oracle=[{"click": prod.name, "role": "link"}, {"type": "Quantity", "text": str(qty)},
                        {"click": "Add to cart"}] + _checkout(p, a, shipping))


def shop_price(rng, held):
    prod = _product(rng, held)
    word = prod.name.split(",")[0].split(" ")[0]
    text = rng.choice([f"What does the {prod.name} cost in the Corner Shop?",
                       f"Tell me the Corner Shop's price for {prod.name}."])
    return dict(difficulty="easy", start="/shop/", max_steps=8, instruction=text,
                check={"kind": "answer", "contains": [f"{prod.price / 100:.2f}"]},
                oracle=[{"type": "Search products", "text": word}, {"click": "Search", "role": "button"},
                        {"answer": re.escape(prod.name) + r", (€[\d.]+)"}])


def shop_empty(rng, held):
    a, b = rng.sample([p for p in sh.PRODUCTS if p.slug != "gift-card"], 2)
    if _held(a.slug, b.slug) != held:
        a, b = b, a
    text = rng.choice(["Empty my Corner Shop cart.", "Remove everything from my Corner Shop cart."])
    return dict(difficulty="easy", start="/shop/cart", max_steps=8, instruction=text,
                setup={"cart": {a.slug: rng.randint(1, 3), b.slug: rng.randint(1, 3)}},
                check={"kind": "shop_cart", "items": {}},
                oracle=[{"click": f"Remove {a.name}"}, {"click": f"Remove {b.name}"}, {"done": "The cart is empty."}])


# ----------------------------------------------------------------------------- forms

def forms_support(rng, held):
    p = _person(rng, held)
    topic, priority = rng.choice(fm.TOPICS), rng.choice(fm.PRIORITIES)
    message, contact = rng.choice(MESSAGES), rng.random() < 0.5
    order = f"ORD-{rng.randint(1000, 9999)}"
    about = "" if topic == "Other" else f", order {order}"
    text = rng.choice([f"Open a support request from {p.email} about {topic.lower()}{about}, priority "
                       f"{priority}, with the message \"{message}\"",
                       f"Send Civic Forms support a {priority.lower()}-priority request from {p.email}, "
                       f"topic {topic}{about}, saying \"{message}\""])
    text += " Allow contact by email." if contact else " Do not allow contact by email."
    fields = {"email": p.email, "topic": topic, "priority": priority,
              "message": {"contains": message[:20]}, "contact_ok": contact}
    plan = [{"type": "Your email", "text": p.email}, {"select": "Topic", "option": topic}]
    if topic != "Other":
        fields["order_number"] = order
        plan.append({"type": "Order number", "text": order})
    plan += [{"check": priority, "role": "radio"}, {"type": "Message", "text": message}]
    if contact:
        plan.append({"check": "You may contact me by email", "role": "checkbox"})
    plan += [{"click": "Send request"}, {"done": "Sent."}]
    return dict(difficulty="medium" if topic != "Other" else "easy", start="/forms/support", max_steps=12,
                instruction=text, check={"kind": "form_record", "collection": "tickets", "fields": fields},
                oracle=plan)


def forms_library(rng, held):
    p = _person(rng, held)
    born = f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    card, branch = rng.choice(["Adult", "Senior"]), rng.choice(fm.BRANCHES)
    interests = sorted(rng.sample(fm.INTERESTS[:3], rng.randint(0, 2)))
    news = rng.random() < 0.5
    likes = " and ".join(interests) if interests else "nothing in particular"
    text = (f"Apply for a library card for {p.name}, {p.email}, born {born}, no phone number: an {card} card "
            f"at the {branch} branch, interested in {likes}, "
            f"{'with' if news else 'without'} the newsletter.")
    plan = [{"type": "Full name", "text": p.name}, {"type": "Email", "text": p.email},
            {"type": "Date of birth", "text": born}, {"click": "Next"},
            {"check": card, "role": "radio"}, {"select": "Home branch", "option": branch}]
    plan += [{"check": i, "role": "checkbox"} for i in interests]
    if news:
        plan.append({"check": "Send me the monthly newsletter", "role": "checkbox"})
    plan += [{"click": "Next"}, {"check": "I agree to the library rules", "role": "checkbox"},
             {"click": "Submit application"}, {"done": "Applied."}]
    return dict(difficulty="hard", start="/forms/library/1", max_steps=18, instruction=text,
                check={"kind": "form_record", "collection": "applications", "fields": {
                    "full_name": p.name, "email": p.email, "birth_date": born, "phone": "", "card_type": card,
                    "branch": branch, "interests": interests, "newsletter": news}},
                oracle=plan)


def forms_event(rng, held):
    """Held-out template: the workshop registration form."""
    p = _person(rng, held)
    session = rng.choice(["Afternoon", "Evening"])
    size, guests = rng.choice(fm.SIZES), rng.randint(0, 2)
    diets = sorted(rng.sample(fm.DIETS, rng.randint(0, 2)))
    eat = " and ".join(d.lower() for d in diets) if diets else "no dietary needs"
    text = (f"Register {p.name} ({p.email}) for the {session.lower()} coffee workshop with {guests} "
            f"guest{'s' if guests != 1 else ''}, T-shirt size {size}, {eat}.")
    plan = [{"type": "Name", "text": p.name}, {"type": "Email", "text": p.email},
            {"check": fm.SESSIONS[session], "role": "radio"}, {"select": "T-shirt size", "option": size}]
    plan += [{"check": d, "role": "checkbox"} for d in diets]
    if guests:
        plan.append({"type": "Number of guests", "text": str(guests)})
    plan += [{"click": "Register"}, {"done": "Registered."}]
    return dict(difficulty="medium", start="/forms/event", max_steps=12, instruction=text,
                check={"kind": "form_record", "collection": "registrations", "fields": {
                    "name": p.name, "email": p.email, "session": session, "size": size, "diet": diets,
                    "guests": guests}},
                oracle=plan)


Template = Callable[[random.Random, bool], dict]
TRAIN_TEMPLATES: dict[str, Template] = {
    "flights-search": flights_search, "flights-cheapest": flights_cheapest,
    "flights-earliest-seat": flights_earliest_seat, "flights-latest-meal": flights_latest_meal,
    "flights-arrival": flights_arrival, "flights-fare": flights_fare,
    "shop-add": shop_add, "shop-buy-one": shop_buy_one, "shop-price": shop_price, "shop-empty": shop_empty,
    "forms-support": forms_support, "forms-library": forms_library,
}
HELD_OUT_TEMPLATES: dict[str, Template] = {
    "flights-business-seat": flights_business_seat, "shop-buy-many": shop_buy_many,
    "forms-event": forms_event,
}


def generate(split: str, n: int, seed: int = 0) -> list[Task]:
    """`n` variants of `split`, round-robin over its templates, each a validated suite `Task`."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
    templates = HELD_OUT_TEMPLATES if split == "held_out_templates" else TRAIN_TEMPLATES
    held = split == "held_out_values"
    rng = random.Random(f"{split}:{seed}")
    names = sorted(templates)
    tasks = []
    for i in range(n):
        name = names[i % len(names)]
        raw = templates[name](rng, held)
        site = name.split("-")[0]
        tasks.append(_validate({"id": f"{name}-{split}-{i}", "site": site, "tags": [name], **raw},
                               f"generated {name} #{i}"))
    return tasks


def template_of(task: Task) -> str:
    """The template a generated task came from (its first tag)."""
    return task.tags[0] if task.tags else task.id
