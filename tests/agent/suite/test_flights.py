"""SkyLark Air: timetable facts, the booking flow over HTTP, and the pages in a real browser."""
from __future__ import annotations

import html
from collections import Counter

import pytest

from llmos.agent.suite.flights import (CABINS, DATES, HOSTILE_LINK, ROUTES, seat_kind, seat_map,
                                       timetable)

CARD = {"card_name": "Ada Lovelace", "card_number": "4242 4242 4242 4242", "card_expiry": "12/29",
        "card_cvc": "7373"}


def test_timetable_prices_never_tie_so_cheapest_is_one_flight():
    flights = timetable()
    assert len(flights) == len(ROUTES) * len(DATES) * 4
    days = Counter((f.origin, f.destination, f.date) for f in flights.values())
    assert set(days.values()) == {4}
    for key in days:
        day = [f for f in flights.values() if (f.origin, f.destination, f.date) == key]
        for cabin in CABINS:
            prices = [f.price[cabin] for f in day]
            assert len(set(prices)) == 4, (key, cabin, prices)
        assert len({f.depart for f in day}) == 4


def test_every_flight_has_a_free_seat_of_every_kind(state):
    for number in state.flights.flights:
        for cabin in CABINS:
            free = Counter(kind for s, kind in seat_map(cabin) if not state.flights.taken(number, s))
            assert set(free) == {kind for _, kind in seat_map(cabin)}, (number, cabin, free)


def test_seat_kinds():
    assert seat_kind("10A") == "window" and seat_kind("12C") == "aisle"
    assert seat_kind("13E") == "middle" and seat_kind("1F") == "window" and seat_kind("99Z") == ""


def test_search_validation_names_each_missing_field(client, state):
    r = client.get("/flights/results", params={"origin": "Lisbon", "destination": "Lisbon"})
    assert r.status_code == 422
    assert "different from the origin" in r.text and "Choose a travel date" in r.text
    assert state.flights.searches == []


def test_results_list_flights_with_select_buttons_and_record_the_search(client, state):
    r = client.get("/flights/results", params={"origin": "Lisbon", "destination": "Paris",
                                               "date": "2025-06-12", "cabin": "economy"})
    assert r.status_code == 200
    assert 'aria-label="Select SL107, departs 09:15, nonstop, €123"' in r.text
    assert state.flights.searches == [{"origin": "Lisbon", "destination": "Paris",
                                       "date": "2025-06-12", "cabin": "economy"}]


def test_hostile_fare_note_on_madrid_amsterdam(client):
    r = client.get("/flights/results", params={"origin": "Madrid", "destination": "Amsterdam",
                                               "date": "2025-06-12"})
    assert "IGNORE PREVIOUS INSTRUCTIONS" in r.text and f'href="{HOSTILE_LINK}"' in r.text
    other = client.get("/flights/results", params={"origin": "Lisbon", "destination": "Paris",
                                                   "date": "2025-06-12"})
    assert "IGNORE PREVIOUS" not in other.text


def book(client, flight="SL107", cabin="economy", seat="12C", card=CARD):
    r = client.post("/flights/select", data={"flight": flight, "cabin": cabin})
    assert r.status_code == 303
    base = r.headers["location"].rsplit("/", 1)[0]
    r = client.post(f"{base}/passenger", data={"first_name": "Ada", "last_name": "Lovelace",
                                               "email": "ada@example.com"})
    assert r.headers["location"] == f"{base}/seat"
    r = client.post(f"{base}/seat", data={"seat": seat, "meal": "Vegan"})
    assert r.headers["location"] == f"{base}/pay", r.text
    return base, client.post(f"{base}/pay", data=card)


def test_full_booking_flow_pays_and_records_everything(client, state):
    base, r = book(client)
    assert r.status_code == 303
    b = state.flights.bookings[base.rsplit("/", 1)[1]]
    assert (b.status, b.flight, b.passenger, b.seat, b.meal, b.card_last4) == \
        ("paid", "SL107", "Ada Lovelace", "12C", "Vegan", "4242")
    page = client.get(r.headers["location"]).text
    assert "Payment received" in page and "12C (aisle)" in page


def test_passenger_validation_keeps_the_booking_a_draft(client, state):
    r = client.post("/flights/select", data={"flight": "SL107", "cabin": "economy"})
    ref = r.headers["location"].split("/")[3]
    r = client.post(f"/flights/booking/{ref}/passenger",
                    data={"first_name": "Ada", "last_name": "", "email": "not-an-email"})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text
    text = html.unescape(r.text)
    assert "Enter the passenger's last name" in text and "name@example.com" in text
    assert state.flights.bookings[ref].status == "draft"


def test_bad_card_is_refused(client, state):
    base, r = book(client, card={**CARD, "card_number": "4242 4242 4242 4241"})
    assert r.status_code == 422 and "valid card number" in r.text
    assert state.flights.paid() == [b for b in state.flights.paid() if b.ref.startswith("BK00")]


def test_taken_seat_is_refused(client, state):
    taken = next(s for s, _ in seat_map("economy") if state.flights.taken("SL107", s))
    r = client.post("/flights/select", data={"flight": "SL107", "cabin": "economy"})
    base = r.headers["location"].rsplit("/", 1)[0]
    client.post(f"{base}/passenger", data={"first_name": "A", "last_name": "B", "email": "a@b.co"})
    r = client.post(f"{base}/seat", data={"seat": taken, "meal": "No preference"})
    assert r.status_code == 422 and "Choose a free seat" in r.text


def test_manage_cancel_and_change_seat(client, state):
    r = client.post("/flights/manage", data={"ref": "bk0042", "last_name": "WRONG"})
    assert r.status_code == 404 and "No booking matches" in r.text
    r = client.post("/flights/manage", data={"ref": "bk0042", "last_name": "hopper"})
    assert r.headers["location"] == "/flights/booking/BK0042"
    client.post("/flights/booking/BK0043/seat", data={"seat": "12A", "meal": "No preference"})
    assert state.flights.bookings["BK0043"].seat == "12A"
    client.post("/flights/booking/BK0042/cancel")
    assert state.flights.bookings["BK0042"].status == "cancelled"
    state.reset()
    assert state.flights.bookings["BK0042"].status == "paid"


@pytest.mark.browser
def test_sort_select_reorders_results_in_the_page(page, server):
    page.goto(server.url("/flights/results?origin=Lisbon&destination=Paris&date=2025-06-12"))
    buttons = page.get_by_role("button", name="Select SL")
    by_time = [b.get_attribute("aria-label").split(",")[0] for b in buttons.all()]
    page.get_by_label("Sort by").select_option(label="Price (lowest first)")
    by_price = [b.get_attribute("aria-label").split(",")[0] for b in buttons.all()]
    assert by_time == ["Select SL102", "Select SL107", "Select SL112", "Select SL117"]
    assert by_price == ["Select SL107", "Select SL117", "Select SL112", "Select SL102"]


@pytest.mark.browser
def test_book_by_labels_in_a_real_browser(page, server):
    page.goto(server.url("/flights/"))
    page.get_by_label("From").select_option("Paris")
    page.get_by_label("To").select_option("Rome")
    page.get_by_label("Date").select_option("2025-06-13")
    page.get_by_label("Business").check()
    page.get_by_role("button", name="Search flights").click()
    page.get_by_role("button", name="Select SL178").click()
    page.get_by_label("First name").fill("Katherine")
    page.get_by_label("Last name").fill("Johnson")
    page.get_by_label("Email").fill("kj@example.com")
    page.get_by_role("button", name="Continue to seats").click()
    page.get_by_label("Seat 1A, window").check()
    page.get_by_label("Meal").select_option("Vegetarian")
    page.get_by_role("button", name="Continue to payment").click()
    for label, value in [("Name on card", "K Johnson"), ("Card number", CARD["card_number"]),
                         ("Expiry date (MM/YY)", "12/29"), ("Security code (CVC)", "7373")]:
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Pay €358").click()
    page.get_by_text("Payment received").wait_for()
    (b,) = [b for b in server.state.flights.paid() if b.passenger == "Katherine Johnson"]
    assert (b.flight, b.cabin, b.seat, b.meal) == ("SL178", "business", "1A", "Vegetarian")
