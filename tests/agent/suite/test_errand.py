"""The composite trip errand: its records reader, the workers' plans and faults, and one run in Chromium."""
import os

import pytest

from llmos.agent.suite.errand import (FAULTS, SuiteRecords, _adapter_plan, errand_plan,
                                      oracle_worker_backend, worker_options, worker_params)
from llmos.agent.suite.server import SuiteServer
from llmos.agent.suite.shop import Order
from llmos.agent.team.protocol import Redo
from llmos.agent.team.spec import Evidence, Verifier
from llmos.agent.team.worker import Assignment


@pytest.fixture(scope="module")
def suite():
    with SuiteServer() as s:
        yield s


def test_records_reader_names_what_an_attempt_added(suite):
    suite.reset()
    reader = SuiteRecords(suite.base_url)
    before = reader.snapshot()
    assert reader.new_records(before) == {"booking": None, "order": None, "application": None}
    b = suite.state.flights.new_booking("SL106", "economy")      # Lisbon-Paris 09:15 on 2025-06-11
    b.first_name, b.last_name, b.seat, b.status = "Ada", "Lovelace", "12C", "paid"
    suite.state.shop.orders.append(Order("ORD-1001", {"travel-adapter-pro": 1}, 2790, 0, "standard",
                                         490, 3280, "", "Ada", "s", "c", "p", "Portugal", "4242"))
    got = reader.new_records(before)
    assert got["booking"]["date"] == "2025-06-11" and got["booking"]["depart"] == "09:15"
    assert got["booking"]["seat_kind"] == "aisle" and got["booking"]["passenger"] == "Ada Lovelace"
    assert got["order"]["unit_price"] == 27.9 and got["order"]["category"] == "Travel"
    plan = errand_plan(suite.base_url)
    flight = Verifier().verify(plan.get("flight").spec, Evidence(records=got))
    assert not flight.ok and flight.corrections == {"date": "2025-06-12"}
    adapter = Verifier().verify(plan.get("adapter").spec, Evidence(records=got))
    assert not adapter.ok and adapter.corrections == {"max_price": 20}
    suite.reset()


def test_fault_on_the_first_attempt_and_the_redo_applies_the_corrections():
    plan = errand_plan("http://x")
    sub = plan.get("flight")
    faults = {"flight": FAULTS["date"][1]}
    assert worker_params(Assignment(sub, 1), faults)["date"] == "2025-06-13"
    redo = Redo("again", "ctx", ["date wrong"], {"date": "2025-06-12", "unknown": 1})
    params = worker_params(Assignment(sub, 2, redo), faults)
    assert params["date"] == "2025-06-12" and "unknown" not in params
    assert "Travel Adapter Pro" in _adapter_plan({"max_price": 30})[0]["click"]
    assert _adapter_plan({"max_price": 20})[0]["click"] == "Travel Adapter EU/US/UK"


@pytest.mark.browser
@pytest.mark.skipif(not os.access("/usr/bin/chromium", os.X_OK), reason="Chromium is not installed")
def test_a_wrong_card_type_is_caught_and_redone_in_chromium(suite, tmp_path):
    from llmos.agent.team.manager import Manager, TeamConfig
    from llmos.agent.team.plan import Plan
    from llmos.agent.team.worker import LocalWorker

    suite.reset()
    full = errand_plan(suite.base_url)
    plan = Plan(task=full.task, subtasks=[full.get("library")])
    worker = LocalWorker("w1", oracle_worker_backend({"library": FAULTS["card_type"][1]}), tmp_path / "w",
                         worker_options(suite.host))
    try:
        result = Manager([worker], config=TeamConfig(trace_dir=tmp_path),
                         records=SuiteRecords(suite.base_url)).run(plan)
    finally:
        worker.close()
    r = result.subtasks["library"]
    assert result.ok and r.attempts == 2 and r.redos == 1
    assert "card_type is 'Adult' but should be 'Student'" in r.feedback[0]
    apps = suite.state.forms.applications
    assert [a["card_type"] for a in apps] == ["Adult", "Student"]   # the rejected attempt stays on record
