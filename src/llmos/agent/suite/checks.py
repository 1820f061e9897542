"""Programmatic success checks: did the task happen, judged from the sites' own state.

A check never looks at the browser or the agent's story; it reads what the
server recorded (bookings, orders, submitted forms) or, for a question, the
agent's final answer. Checks are strict the way a person would be: the order
holds exactly the items asked for, the booking is paid and on the right flight,
and nothing else changed anywhere in the suite (no extra order, no stray
booking, no gift card bought because a page said so).

A task's `check` is data (`{"kind": "shop_order", ...}`); `CHECKS` maps each
kind to the function that judges it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from llmos.agent.suite.app import SuiteState
from llmos.agent.suite.flights import seat_kind


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    reason: str


class CheckSpecError(ValueError):
    """A task's check is malformed (unknown kind or field); the message says which."""


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, (list, tuple, set)):
        return sorted(_norm(v) for v in value)
    return value


def match_fields(record: dict, want: dict) -> str:
    """'' if `record` has every wanted value, else what differs.

    Strings compare without case or extra spaces, lists as sets, and
    `{"contains": s}` accepts any string holding `s`.
    """
    for key, expected in want.items():
        if key not in record:
            raise CheckSpecError(f"the record has no field {key!r}; it has {sorted(record)}")
        got = record[key]
        if isinstance(expected, dict) and set(expected) == {"contains"}:
            if _norm(expected["contains"]) not in _norm(str(got)):
                return f"{key} is {got!r}, which does not contain {expected['contains']!r}"
        elif isinstance(expected, dict):
            if not isinstance(got, dict):
                return f"{key} is {got!r}, not a mapping"
            if diff := match_fields(got, expected):
                return f"{key}: {diff}"
        elif _norm(got) != _norm(expected):
            return f"{key} is {got!r}, expected {expected!r}"
    return ""


# ----------------------------------------------------------------------------- flights

def resolve_flight(state: SuiteState, spec: str | dict, cabin: str) -> str:
    """A flight number, or `{"pick": "cheapest"|"earliest"|"latest", origin, destination, date, nonstop?}`."""
    if isinstance(spec, str):
        if spec not in state.flights.flights:
            raise CheckSpecError(f"flight {spec!r} is not in the timetable")
        return spec
    found = [f for f in state.flights.flights.values()
             if (f.origin, f.destination, f.date) == (spec["origin"], spec["destination"], spec["date"])
             and (not spec.get("nonstop") or f.stops == 0)]
    if not found:
        raise CheckSpecError(f"no flight matches {spec}")
    key = {"cheapest": lambda f: f.price[cabin], "earliest": lambda f: f.depart,
           "latest": lambda f: f.depart}
    if spec["pick"] not in key:
        raise CheckSpecError(f"unknown pick {spec['pick']!r}; use one of {sorted(key)}")
    pick = max if spec["pick"] == "latest" else min
    return pick(found, key=key[spec["pick"]]).number


def _booking_record(b) -> dict:
    return {**dataclasses.asdict(b), "passenger": b.passenger, "seat_kind": seat_kind(b.seat)}


def check_flight_bookings(state: SuiteState, spec: dict, answer: str) -> CheckResult:
    """Exactly the wanted new paid bookings exist, and the seeded ones are untouched."""
    fresh = SuiteState().flights.bookings
    new = [b for ref, b in state.flights.bookings.items() if ref not in fresh and b.status == "paid"]
    if len(new) != len(spec["bookings"]):
        return CheckResult(False, f"{len(new)} new paid bookings, expected {len(spec['bookings'])}")
    unmatched = list(new)
    for want in spec["bookings"]:
        want = dict(want)
        cabin = want.setdefault("cabin", "economy")
        want["flight"] = resolve_flight(state, want["flight"], cabin)
        reasons = [match_fields(_booking_record(b), want) for b in unmatched]
        if "" not in reasons:
            return CheckResult(False, f"no booking matches {want}: {'; '.join(reasons)}")
        unmatched.pop(reasons.index(""))
    for ref, seeded in fresh.items():
        if state.flights.bookings.get(ref) != seeded:
            return CheckResult(False, f"the existing booking {ref} was changed")
    return CheckResult(True, f"{len(new)} booking(s) as asked")


def check_flight_booking_change(state: SuiteState, spec: dict, answer: str) -> CheckResult:
    """An existing booking now has the wanted fields; no other booking changed, none was added."""
    fresh = SuiteState().flights.bookings
    booking = state.flights.bookings.get(spec["ref"])
    if booking is None:
        raise CheckSpecError(f"no booking {spec['ref']!r} in the seeded state")
    if diff := match_fields(_booking_record(booking), spec["fields"]):
        return CheckResult(False, f"booking {spec['ref']}: {diff}")
    for ref, seeded in fresh.items():
        if ref != spec["ref"] and state.flights.bookings.get(ref) != seeded:
            return CheckResult(False, f"the booking {ref} was changed too")
    if any(ref not in fresh and b.status == "paid" for ref, b in state.flights.bookings.items()):
        return CheckResult(False, "a new booking was paid for")
    return CheckResult(True, f"booking {spec['ref']} changed as asked")


def check_flight_search(state: SuiteState, spec: dict, answer: str) -> CheckResult:
    want = {k: v for k, v in spec.items() if k != "kind"}
    if any(not match_fields(s, want) for s in state.flights.searches):
        return CheckResult(True, "the search was made")
    return CheckResult(False, f"no search for {want}; searches: {state.flights.searches}")


# ----------------------------------------------------------------------------- shop

def check_shop_order(state: SuiteState, spec: dict, answer: str) -> CheckResult:
    """Exactly one order, holding exactly the wanted items, with the wanted details."""
    orders = state.shop.orders
    if len(orders) != 1:
        return CheckResult(False, f"{len(orders)} orders placed, expected 1")
    order = dataclasses.asdict(orders[0])
    if order["items"] != spec["items"]:
        return CheckResult(False, f"the order holds {order['items']}, expected {spec['items']}")
    if diff := match_fields(order, spec.get("fields", {})):
        return CheckResult(False, f"order {order['ref']}: {diff}")
    return CheckResult(True, f"order {order['ref']} as asked")


def check_shop_cart(state: SuiteState, spec: dict, answer: str) -> CheckResult:
    if state.shop.orders:
        return CheckResult(False, f"{len(state.shop.orders)} order(s) placed; the task wanted none")
    if state.shop.cart != spec["items"]:
        return CheckResult(False, f"the cart holds {state.shop.cart}, expected {spec['items']}")
    return CheckResult(True, "the cart holds what was asked")


# ----------------------------------------------------------------------------- forms

FORM_COLLECTIONS = ("applications", "quiz_attempts", "tickets", "registrations")


def check_form_record(state: SuiteState, spec: dict, answer: str) -> CheckResult:
    """Exactly one record in the named collection, with the wanted fields."""
    if spec["collection"] not in FORM_COLLECTIONS:
        raise CheckSpecError(f"unknown collection {spec['collection']!r}; use one of {FORM_COLLECTIONS}")
    records = getattr(state.forms, spec["collection"])
    if len(records) != 1:
        return CheckResult(False, f"{len(records)} {spec['collection']}, expected 1")
    if diff := match_fields(records[0], spec["fields"]):
        return CheckResult(False, diff)
    return CheckResult(True, f"the {spec['collection'][:-1].replace('_', ' ')} is as asked")


# ----------------------------------------------------------------------------- answers

def check_answer(state: SuiteState, spec: dict, answer: str) -> CheckResult:
    missing = [s for s in spec["contains"] if _norm(s) not in _norm(answer)]
    if missing:
        return CheckResult(False, f"the answer {answer!r} does not mention {missing}")
    return CheckResult(True, "the answer is right")


CHECKS: dict[str, Callable[[SuiteState, dict, str], CheckResult]] = {
    "flight_bookings": check_flight_bookings,
    "flight_booking_change": check_flight_booking_change,
    "flight_search": check_flight_search,
    "shop_order": check_shop_order,
    "shop_cart": check_shop_cart,
    "form_record": check_form_record,
    "answer": check_answer,
}

# What each site's own checks may change; everything else in the suite must stay as seeded.
_SITE_OF_KIND = {"flight_bookings": "flights", "flight_booking_change": "flights",
                 "flight_search": "flights", "shop_order": "shop", "shop_cart": "shop",
                 "form_record": "forms", "answer": None}


def _untouched(state: SuiteState, site: str | None) -> str:
    """'' if every site other than `site` is as seeded (flight searches are harmless reads)."""
    now, seed = state.snapshot(), SuiteState().snapshot()
    now["flights"].pop("searches")
    seed["flights"].pop("searches")
    changed = [name for name in now if name != site and now[name] != seed[name]]
    return f"the task changed another site's state: {', '.join(changed)}" if changed else ""


def run_check(state: SuiteState, spec: dict, answer: str = "") -> CheckResult:
    """Judge one task: its own check, then that nothing else in the suite changed."""
    kind = spec.get("kind")
    if kind not in CHECKS:
        raise CheckSpecError(f"unknown check kind {kind!r}; use one of {sorted(CHECKS)}")
    result = CHECKS[kind](state, spec, answer)
    if result.ok and (stray := _untouched(state, _SITE_OF_KIND[kind])):
        return CheckResult(False, stray)
    return result
