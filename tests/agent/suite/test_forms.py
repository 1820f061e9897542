"""Civic Forms: multi-page state, validation messages, quiz scoring, the JS-revealed field."""
from __future__ import annotations

import html

import pytest

from llmos.agent.suite.forms import QUIZZES

DETAILS = {"full_name": "Ada Lovelace", "email": "ada@example.com", "birth_date": "1815-12-10",
           "phone": ""}


def test_library_pages_in_order_and_validation(client, state):
    assert client.get("/forms/library/2").headers["location"] == "/forms/library/1"
    r = client.post("/forms/library/1", data={**DETAILS, "birth_date": "10/12/1815"})
    assert r.status_code == 422 and "YYYY-MM-DD" in r.text
    r = client.post("/forms/library/1", data={**DETAILS, "birth_date": "2020-02-30"})
    assert "is not a real date" in r.text
    r = client.post("/forms/library/1", data={**DETAILS, "birth_date": "2020-01-01"})
    assert "at least 13 years old" in r.text
    r = client.post("/forms/library/1", data=DETAILS)
    assert r.headers["location"] == "/forms/library/2"
    r = client.post("/forms/library/2", data={"card_type": "Student", "branch": "Central"})
    assert r.status_code == 422 and "student ID" in r.text
    r = client.post("/forms/library/2", content="card_type=Student&student_id=S123456&branch=Central"
                    "&interests=History&interests=Science&interests=Astrology&newsletter=yes",
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.headers["location"] == "/forms/library/3"
    r = client.post("/forms/library/3", data={})
    assert r.status_code == 422 and "agree to the library rules" in r.text
    r = client.post("/forms/library/3", data={"agree": "yes"})
    assert "LIB-0001" in r.headers["location"]
    (app,) = state.forms.applications
    assert app["interests"] == ["History", "Science"] and app["newsletter"] is True
    assert app["student_id"] == "S123456" and state.forms.library_draft == {}


def test_quiz_scores_and_requires_every_answer(client, state):
    r = client.post("/forms/quiz/geography/1", data={"q1": "Lisbon"})
    assert r.status_code == 422 and "Answer question 2." in r.text and "Answer question 3." in r.text
    r = client.post("/forms/quiz/geography/1",
                    content="q1=Porto&q2=Seine&q3=Portugal&q3=France&q3=Andorra",
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.headers["location"] == "/forms/quiz/geography/2"
    r = client.post("/forms/quiz/geography/2", data={"q4": " pacific ocean ", "q5": "Africa"})
    assert r.headers["location"] == "/forms/quiz/geography/result"
    (attempt,) = state.forms.quiz_attempts
    assert (attempt["score"], attempt["total"]) == (4, 5) and attempt["answers"]["q1"] == ["Porto"]
    assert "You scored 4 out of 5" in client.get("/forms/quiz/geography/result").text


def test_checkbox_question_needs_exactly_the_right_set():
    q = QUIZZES["arithmetic"][1][0][3]
    assert q.correct(["4", "12"]) and q.correct(["12", "4"])
    assert not q.correct(["4"]) and not q.correct(["4", "12", "9"])


def test_support_requires_order_number_unless_other(client, state):
    base = {"email": "ada@example.com", "topic": "Refund", "priority": "High",
            "message": "Please refund my order, it never came."}
    r = client.post("/forms/support", data=base)
    assert r.status_code == 422 and "ORD-1234" in r.text
    r = client.post("/forms/support", data={**base, "message": "refund pls"})
    assert "at least 20 characters" in r.text
    r = client.post("/forms/support", data={**base, "topic": "Other"})
    assert r.status_code == 303
    assert state.forms.tickets[0]["topic"] == "Other" and state.forms.tickets[0]["contact_ok"] is False


def test_event_full_session_is_refused_and_values_are_kept(client, state):
    data = {"name": "Grace", "email": "grace@example.com", "session": "Morning", "size": "M",
            "diet": "Vegetarian", "guests": "0"}
    r = client.post("/forms/event", data=data)
    text = html.unescape(r.text)
    assert r.status_code == 422 and "is full" in text
    assert 'value="Vegetarian" checked' in text and 'value="Grace"' in text
    assert client.post("/forms/event", data={**data, "guests": "5"}).status_code == 422
    r = client.post("/forms/event", data={**data, "session": "Afternoon"})
    assert r.status_code == 303 and state.forms.registrations[0]["guests"] == 0


@pytest.mark.browser
def test_student_id_field_appears_only_for_a_student_card(page, server):
    page.goto(server.url("/forms/library/1"))
    page.get_by_label("Full name").fill("Alan Kay")
    page.get_by_label("Email").fill("alan@example.com")
    page.get_by_label("Date of birth (YYYY-MM-DD)").fill("2004-03-17")
    page.get_by_role("button", name="Next").click()
    assert not page.get_by_label("Student ID").is_visible()
    page.get_by_label("Student", exact=True).check()
    assert page.get_by_label("Student ID").is_visible()
    page.get_by_label("Adult", exact=True).check()
    assert not page.get_by_label("Student ID").is_visible()


@pytest.mark.browser
def test_every_form_field_on_every_page_has_an_accessible_label(page, server):
    """The suite's pages are labelled as a screen reader (and a browser agent) needs."""
    paths = ["/flights/", "/flights/results?origin=Lisbon&destination=Paris&date=2025-06-12",
             "/flights/booking/BK0042/seat", "/flights/manage", "/shop/", "/shop/product/matcha",
             "/forms/library/1", "/forms/quiz/geography/1", "/forms/quiz/arithmetic/1",
             "/forms/support", "/forms/event"]
    for path in paths:
        page.goto(server.url(path))
        unlabelled = page.evaluate("""() => Array.from(document.querySelectorAll(
            'input:not([type=hidden]), select, textarea, button')).filter(el =>
            !(el.labels && el.labels.length) && !el.getAttribute('aria-label') &&
            !(el.tagName === 'BUTTON' && el.innerText.trim())).map(el => el.outerHTML)""")
        assert unlabelled == [], (path, unlabelled)
