"""Civic Forms: the suite's multi-page forms (a library card application, two
online quizzes, a support ticket and a workshop registration).

They exercise what form-filling agents get wrong: validation errors to read and
fix, radios, checkboxes and selects, a field that appears only for one choice
(JavaScript), a full session to route around, and answers kept across pages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from llmos.agent.suite.web import EMAIL_RE, read_form, render

CARD_TYPES = ["Adult", "Student", "Senior"]
BRANCHES = ["Central", "Northside", "Riverside"]
INTERESTS = ["Fiction", "History", "Science", "Children's books"]
TOPICS = ["Delivery", "Damaged item", "Refund", "Other"]
PRIORITIES = ["Low", "Normal", "High"]
SESSIONS = {"Morning": "Morning workshop, 9:00", "Afternoon": "Afternoon workshop, 14:00",
            "Evening": "Evening workshop, 18:30"}
FULL_SESSIONS = {"Morning"}
SIZES = ["S", "M", "L", "XL"]
DIETS = ["Vegetarian", "Vegan", "Gluten-free"]
TODAY = date(2025, 6, 1)  # the suite's calendar is fixed so checks never drift


@dataclass(frozen=True)
class Question:
    id: str
    kind: str            # radio | select | checkbox | text
    prompt: str
    options: tuple = ()
    answer: tuple = ()   # correct option(s); for text, accepted answers (case-insensitive)

    def correct(self, given: list[str]) -> bool:
        if self.kind == "checkbox":
            return set(given) == set(self.answer)
        if self.kind == "text":
            text = given[0].strip().lower() if given else ""
            return text in {a.lower() for a in self.answer}
        return given[:1] == list(self.answer)


QUIZZES: dict[str, tuple[str, list[list[Question]]]] = {
    "geography": ("Geography quiz", [
        [Question("q1", "radio", "What is the capital of Portugal?",
                  ("Porto", "Lisbon", "Coimbra", "Faro"), ("Lisbon",)),
         Question("q2", "select", "Which river flows through Paris?",
                  ("Thames", "Danube", "Seine", "Tiber"), ("Seine",)),
         Question("q3", "checkbox", "Which of these countries border Spain? (choose all that apply)",
                  ("Portugal", "France", "Italy", "Andorra"), ("Portugal", "France", "Andorra"))],
        [Question("q4", "text", "What is the largest ocean on Earth?", (),
                  ("Pacific", "Pacific Ocean", "The Pacific", "The Pacific Ocean")),
         Question("q5", "radio", "On which continent is Egypt?",
                  ("Asia", "Africa", "Europe"), ("Africa",))],
    ]),
    "arithmetic": ("Arithmetic quiz", [
        [Question("q1", "text", "What is 7 × 8?", (), ("56",)),
         Question("q2", "radio", "Which number is prime?", ("21", "27", "29", "33"), ("29",)),
         Question("q3", "select", "What is 15% of 200?", ("15", "20", "30", "45"), ("30",)),
         Question("q4", "checkbox", "Which numbers are even? (choose all that apply)",
                  ("4", "9", "12", "15"), ("4", "12"))],
    ]),
}


class FormsState:
    """Drafts and submissions of one suite run."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.library_draft: dict = {}
        self.applications: list[dict] = []
        self.quiz_answers: dict[str, dict[str, list[str]]] = {}
        self.quiz_attempts: list[dict] = []
        self.tickets: list[dict] = []
        self.registrations: list[dict] = []


def _birth_date_error(text: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return "Enter the date of birth as YYYY-MM-DD, for example 1990-04-23."
    try:
        born = date.fromisoformat(text)
    except ValueError:
        return f"{text} is not a real date."
    if (TODAY - born).days < 13 * 365:
        return "Applicants must be at least 13 years old."
    return ""


def router(state: FormsState) -> APIRouter:
    api = APIRouter(prefix="/forms")

    @api.get("/")
    async def index(request: Request):
        return render(request, "forms/index.html", quizzes=QUIZZES)

    # ------------------------------------------------------------------ library card
    @api.api_route("/library/1", methods=["GET", "POST"])
    async def library_details(request: Request):
        draft, errors = state.library_draft, {}
        if request.method == "POST":
            form = await read_form(request)
            for key in ("full_name", "email", "birth_date", "phone"):
                draft[key] = form.get(key)
            if not draft["full_name"]:
                errors["full_name"] = "Enter your full name."
            if not EMAIL_RE.match(draft["email"]):
                errors["email"] = "Enter an email address like name@example.com."
            if msg := _birth_date_error(draft["birth_date"]):
                errors["birth_date"] = msg
            if draft["phone"] and not re.fullmatch(r"\+?[\d ]{6,20}", draft["phone"]):
                errors["phone"] = "Enter a phone number using digits, spaces and an optional +."
            draft["page1_ok"] = not errors
            if not errors:
                return RedirectResponse("/forms/library/2", 303)
        return render(request, "forms/library_1.html", 422 if errors else 200, d=draft,
                      errors=errors)

    @api.api_route("/library/2", methods=["GET", "POST"])
    async def library_choices(request: Request):
        draft, errors = state.library_draft, {}
        if not draft.get("page1_ok"):
            return RedirectResponse("/forms/library/1", 303)
        if request.method == "POST":
            form = await read_form(request)
            draft.update(card_type=form.get("card_type"), branch=form.get("branch"),
                         interests=[i for i in form.getlist("interests") if i in INTERESTS],
                         newsletter=form.get("newsletter") == "yes",
                         student_id=form.get("student_id"))
            if draft["card_type"] not in CARD_TYPES:
                errors["card_type"] = "Choose a card type."
            if draft["branch"] not in BRANCHES:
                errors["branch"] = "Choose your home branch."
            if draft["card_type"] == "Student" and not re.fullmatch(r"S\d{6}", draft["student_id"]):
                errors["student_id"] = "Enter your student ID: S followed by six digits."
            if draft["card_type"] != "Student":
                draft["student_id"] = ""
            draft["page2_ok"] = not errors
            if not errors:
                return RedirectResponse("/forms/library/3", 303)
        return render(request, "forms/library_2.html", 422 if errors else 200, d=draft,
                      errors=errors, card_types=CARD_TYPES, branches=BRANCHES, interests=INTERESTS)

    @api.api_route("/library/3", methods=["GET", "POST"])
    async def library_review(request: Request):
        draft, error = state.library_draft, ""
        if not (draft.get("page1_ok") and draft.get("page2_ok")):
            return RedirectResponse("/forms/library/1", 303)
        if request.method == "POST":
            if (await read_form(request)).get("agree") == "yes":
                number = f"LIB-{len(state.applications) + 1:04d}"
                fields = {k: v for k, v in draft.items() if not k.endswith("_ok")}
                state.applications.append({"number": number, **fields})
                state.library_draft = {}
                return RedirectResponse(f"/forms/done?what=Library+card+application&ref={number}", 303)
            error = "You must agree to the library rules to apply."
        return render(request, "forms/library_3.html", 422 if error else 200, d=draft, error=error)

    # ------------------------------------------------------------------ quizzes
    # Declared before the page route, which would otherwise claim "result" as a page number.
    @api.get("/quiz/{name}/result")
    async def quiz_result(request: Request, name: str):
        attempts = [a for a in state.quiz_attempts if a["quiz"] == name]
        if not attempts:
            return RedirectResponse(f"/forms/quiz/{name}/1", 303)
        return render(request, "forms/quiz_result.html", title=QUIZZES[name][0], a=attempts[-1])

    @api.api_route("/quiz/{name}/{page}", methods=["GET", "POST"])
    async def quiz(request: Request, name: str, page: int):
        if name not in QUIZZES or not 1 <= page <= len(QUIZZES[name][1]):
            return render(request, "forms/message.html", 404, title="No such quiz page",
                          message="Start a quiz from the list of forms.")
        title, pages = QUIZZES[name]
        answers, errors = state.quiz_answers.setdefault(name, {}), {}
        if request.method == "POST":
            form = await read_form(request)
            for q in pages[page - 1]:
                answers[q.id] = [v for v in form.getlist(q.id) if v]
                if not answers[q.id]:
                    errors[q.id] = f"Answer question {q.id[1:]}."
            if not errors:
                if page < len(pages):
                    return RedirectResponse(f"/forms/quiz/{name}/{page + 1}", 303)
                questions = [q for p in pages for q in p]
                score = sum(q.correct(answers.get(q.id, [])) for q in questions)
                state.quiz_attempts.append({"quiz": name, "answers": dict(answers),
                                            "score": score, "total": len(questions)})
                state.quiz_answers.pop(name)
                return RedirectResponse(f"/forms/quiz/{name}/result", 303)
        return render(request, "forms/quiz.html", 422 if errors else 200, title=title,
                      questions=pages[page - 1], page=page, pages=len(pages), answers=answers,
                      errors=errors)

    # ------------------------------------------------------------------ support ticket
    @api.api_route("/support", methods=["GET", "POST"])
    async def support(request: Request):
        form, errors = {"priority": "Normal"}, {}
        if request.method == "POST":
            data = await read_form(request)
            form = {k: data.get(k) for k in ("email", "topic", "order_number", "priority",
                                               "message")}
            form["contact_ok"] = data.get("contact_ok") == "yes"
            if not EMAIL_RE.match(form["email"]):
                errors["email"] = "Enter an email address like name@example.com."
            if form["topic"] not in TOPICS:
                errors["topic"] = "Choose what your request is about."
            if form["topic"] != "Other" and not re.fullmatch(r"ORD-\d{4}", form["order_number"]):
                errors["order_number"] = "Enter the order number, like ORD-1234."
            if form["priority"] not in PRIORITIES:
                errors["priority"] = "Choose a priority."
            if len(form["message"]) < 20:
                errors["message"] = "Describe the problem in at least 20 characters."
            if not errors:
                ref = f"T-{len(state.tickets) + 1:03d}"
                state.tickets.append({"ref": ref, **form})
                return RedirectResponse(f"/forms/done?what=Support+request&ref={ref}", 303)
        return render(request, "forms/support.html", 422 if errors else 200, form=form,
                      errors=errors, topics=TOPICS, priorities=PRIORITIES)

    # ------------------------------------------------------------------ workshop registration
    @api.api_route("/event", methods=["GET", "POST"])
    async def event(request: Request):
        form, errors = {"guests": "0"}, {}
        if request.method == "POST":
            data = await read_form(request)
            form = {k: data.get(k) for k in ("name", "email", "session", "size", "guests")}
            form["diet"] = [d for d in data.getlist("diet") if d in DIETS]
            if not form["name"]:
                errors["name"] = "Enter your name."
            if not EMAIL_RE.match(form["email"]):
                errors["email"] = "Enter an email address like name@example.com."
            if form["session"] not in SESSIONS:
                errors["session"] = "Choose a session."
            elif form["session"] in FULL_SESSIONS:
                errors["session"] = (f"The {SESSIONS[form['session']].lower()} is full. "
                                     "Choose another session.")
            if form["size"] not in SIZES:
                errors["size"] = "Choose a T-shirt size."
            if form["guests"] not in ("0", "1", "2"):
                errors["guests"] = "Bring at most 2 guests."
            if not errors:
                ref = f"R-{len(state.registrations) + 1:03d}"
                state.registrations.append({"ref": ref, **form, "guests": int(form["guests"])})
                return RedirectResponse(f"/forms/done?what=Workshop+registration&ref={ref}", 303)
        return render(request, "forms/event.html", 422 if errors else 200, form=form,
                      errors=errors, sessions=SESSIONS, sizes=SIZES, diets=DIETS)

    @api.get("/done")
    async def done(request: Request, what: str = "Form", ref: str = ""):
        return render(request, "forms/message.html", title=f"{what} received",
                      message=f"Thank you. Your reference is {ref}.")

    return api
