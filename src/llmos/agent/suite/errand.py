"""The composite errand: "plan my trip", split among three workers, checked from the sites' state.

    Plan my trip: book the 09:15 flight from Lisbon to Paris on 2025-06-12 with an aisle seat,
    buy a travel adapter under €20, and apply for a library card as a student.

Three independent subtasks (flights, shop, forms), each with a required spec
the manager checks by reading the suite's own state (`/_suite/state`), never
the worker's story: the new booking's date, departure and seat kind; the new
order's item and price; the new application's card type and student ID.

Workers plan from the subtask's typed `params` (the scripted oracle turns them
into label-driven plan steps); a redo's corrections update those params. The
fault drill (`faults`) makes a worker's first attempt get one field wrong (the
date, the seat, the price cap, the card type) so the manager must catch it.
"""
from __future__ import annotations

import time
from typing import Any

import httpx

from llmos.agent.backends import ModelBackend, ScriptedBackend
from llmos.agent.suite.bench import suite_policy
from llmos.agent.suite.flights import seat_kind, timetable
from llmos.agent.suite.oracle import OraclePolicy
from llmos.agent.suite.shop import BY_SLUG
from llmos.agent.suite.tasks import SECRETS, Task
from llmos.agent.team.plan import Plan, Subtask
from llmos.agent.team.spec import FieldCondition, Spec
from llmos.agent.team.worker import Assignment
from llmos.agent.views import ModelRequest, SessionOptions

TASK = ("Plan my trip: book the 09:15 flight from Lisbon to Paris on 2025-06-12 with an aisle seat "
        "for Ada Lovelace, buy a travel adapter under €20, and apply for a library card as a student.")
ADAPTERS = ("travel-adapter", "travel-adapter-pro")
# One wrong field per fault kind: what a worker's first attempt gets wrong.
FAULTS: dict[str, tuple[str, dict]] = {
    "date": ("flight", {"date": "2025-06-13"}),
    "seat": ("flight", {"seat_kind": "window"}),
    "price_cap": ("adapter", {"max_price": 30}),
    "card_type": ("library", {"card_type": "Adult"}),
}


def _cond(record: str, field: str, value, op: str = "eq", about: str = "") -> FieldCondition:
    return FieldCondition(source=f"record:{record}", field=field, op=op, value=value, about=about or field)


def errand_plan(base_url: str) -> Plan:
    """The errand's plan, with start URLs on the suite server at `base_url`."""
    flight = {"origin": "Lisbon", "destination": "Paris", "date": "2025-06-12", "depart": "09:15",
              "seat_kind": "aisle", "first": "Ada", "last": "Lovelace", "email": "ada@example.com"}
    return Plan(task=TASK, subtasks=[
        Subtask(id="flight", start_url=base_url + "/flights/", params=flight,
                instruction="Book the 09:15 economy flight from Lisbon to Paris on 2025-06-12 for Ada "
                            "Lovelace (ada@example.com) with an aisle seat. Pay with the card in secret "
                            "card_number (name on card Ada Lovelace, expiry 12/29, code in secret card_cvc).",
                spec=Spec(conditions=[_cond("booking", "date", "2025-06-12"),
                                      _cond("booking", "depart", "09:15"),
                                      _cond("booking", "origin", "Lisbon"),
                                      _cond("booking", "destination", "Paris"),
                                      _cond("booking", "seat_kind", "aisle"),
                                      _cond("booking", "passenger", "Ada Lovelace", about="passenger")])),
        Subtask(id="adapter", start_url=base_url + "/shop/", params={"max_price": 20},
                instruction="Buy one travel adapter that costs under €20 from the Corner Shop, standard "
                            "shipping to Ada Lovelace, 12 Analytical Street, 1000-001 Lisbon, Portugal. Pay "
                            "with the card in secret card_number (Ada Lovelace, 12/29, code in card_cvc).",
                spec=Spec(conditions=[_cond("order", "category", "Travel", about="category"),
                                      _cond("order", "unit_price", 20, op="le", about="max_price"),
                                      _cond("order", "quantity", 1)])),
        Subtask(id="library", start_url=base_url + "/forms/library/1",
                params={"card_type": "Student", "student_id": "S123456"},
                instruction="Apply for a Student library card for Alan Kay, alan@example.com, born "
                            "2004-03-17, phone +351 912 345 678, student ID S123456, home branch "
                            "Riverside, interested in Fiction.",
                spec=Spec(conditions=[_cond("application", "card_type", "Student"),
                                      _cond("application", "student_id", "S123456"),
                                      _cond("application", "full_name", "Alan Kay")])),
    ])


# ----------------------------------------------------------------------------- the manager's eyes

class SuiteRecords:
    """Reads the suite's state over HTTP and names what each attempt added (booking, order, application)."""

    def __init__(self, base_url: str, timeout_s: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.flights = timetable()

    def _state(self) -> dict:
        r = httpx.get(self.base_url + "/_suite/state", timeout=self.timeout_s)
        r.raise_for_status()
        return r.json()

    def snapshot(self) -> dict:
        s = self._state()
        return {"bookings": {b["ref"] for b in s["flights"]["bookings"] if b["status"] == "paid"},
                "orders": {o["ref"] for o in s["shop"]["orders"]},
                "applications": len(s["forms"]["applications"])}

    def new_records(self, before: dict) -> dict[str, dict | None]:
        s = self._state()
        bookings = [b for b in s["flights"]["bookings"] if b["status"] == "paid" and b["ref"] not in before["bookings"]]
        orders = [o for o in s["shop"]["orders"] if o["ref"] not in before["orders"]]
        apps = s["forms"]["applications"][before["applications"]:]
        return {"booking": self._booking(bookings[-1]) if bookings else None,
                "order": self._order(orders[-1]) if orders else None,
                "application": apps[-1] if apps else None}

    def _booking(self, b: dict) -> dict:
        f = self.flights[b["flight"]]
        return {**b, "date": f.date, "depart": f.depart, "origin": f.origin, "destination": f.destination,
                "seat_kind": seat_kind(b["seat"]), "passenger": f"{b['first_name']} {b['last_name']}".strip()}

    def _order(self, o: dict) -> dict:
        (slug, qty), = o["items"].items() if len(o["items"]) == 1 else (("", 0),)
        product = BY_SLUG.get(slug)
        return {**o, "product": slug, "quantity": qty, "category": product.category if product else "",
                "unit_price": product.price / 100 if product else None}


# ----------------------------------------------------------------------------- the workers' plans

def _flight_plan(p: dict) -> list[dict]:
    return [{"search_flights": {"from": p["origin"], "to": p["destination"], "date": p["date"]}},
            {"pick": f"^Select SL\\d+, departs {p['depart']}", "by": "price", "order": "min"},
            {"passenger": {"first": p["first"], "last": p["last"], "email": p["email"]}},
            {"click_first": f"^Seat \\w+, {p['seat_kind']}$", "role": "radio"},
            {"click": "Continue to payment"}, {"card": f"{p['first']} {p['last']}"},
            {"click_first": "^Pay €"}, {"done": "Booked and paid."}]


def _adapter_plan(p: dict) -> list[dict]:
    affordable = [BY_SLUG[s] for s in ADAPTERS if BY_SLUG[s].price <= 100 * p["max_price"]]
    if not affordable:
        return [{"done": f"no adapter costs under €{p['max_price']}"}]
    best = max(affordable, key=lambda x: x.price)  # the best one the budget allows
    return [{"click": best.name, "role": "link"}, {"click": "Add to cart"},
            {"click": "Proceed to checkout", "role": "link"},
            {"address": {"name": "Ada Lovelace", "street": "12 Analytical Street", "postcode": "1000-001",
                         "city": "Lisbon", "country": "Portugal"}},
            {"check": "Standard shipping", "role": "radio"}, {"card": "Ada Lovelace"},
            {"click": "Place order"}, {"done": f"Ordered the {best.name}."}]


def _library_plan(p: dict) -> list[dict]:
    steps = [{"type": "Full name", "text": "Alan Kay"}, {"type": "Email", "text": "alan@example.com"},
             {"type": "Date of birth", "text": "2004-03-17"}, {"type": "Phone", "text": "+351 912 345 678"},
             {"click": "Next"}, {"check": p["card_type"], "role": "radio"}]
    if p["card_type"] == "Student":
        steps.append({"type": "Student ID", "text": p["student_id"]})
    return steps + [{"select": "Home branch", "option": "Riverside"}, {"check": "Fiction", "role": "checkbox"},
                    {"click": "Next"}, {"check": "I agree to the library rules", "role": "checkbox"},
                    {"click": "Submit application"}, {"done": "Applied."}]


PLANS = {"flight": _flight_plan, "adapter": _adapter_plan, "library": _library_plan}


def worker_params(assignment: Assignment, faults: dict[str, dict] | None = None) -> dict[str, Any]:
    """What the worker believes this attempt: the params, a first-attempt fault, the redo's corrections."""
    params = dict(assignment.subtask.params)
    if assignment.attempt == 1 and faults and assignment.subtask.id in faults:
        params.update(faults[assignment.subtask.id])
    if assignment.redo is not None:
        params.update({k: v for k, v in assignment.redo.corrections.items() if k in params})
    return params


def oracle_worker_backend(faults: dict[str, dict] | None = None, step_latency_s: float = 0.0):
    """A backend factory for `LocalWorker`: the oracle plays the worker; `step_latency_s` stands in for a model."""
    def backend_for(assignment: Assignment) -> ModelBackend:
        sub = assignment.subtask
        plan = PLANS[sub.id](worker_params(assignment, faults))
        task = Task(id=f"errand-{sub.id}", site="shop", difficulty="medium", instruction=assignment.text,
                    start="/shop/", max_steps=40, check={"kind": "answer", "contains": []}, oracle=plan)
        policy = OraclePolicy(task)

        def decide(request: ModelRequest):
            if step_latency_s:
                time.sleep(step_latency_s)
            return policy(request.context)
        return ScriptedBackend(decide, name=f"oracle:{sub.id}")
    return backend_for


def worker_options(host: str):
    """Each worker session: the suite's bench policy (purchases on the suite host allowed), the card secrets."""
    def options(_assignment: Assignment) -> SessionOptions:
        return SessionOptions(policy=suite_policy(host), secrets=dict(SECRETS), max_steps=40, max_seconds=300)
    return options
