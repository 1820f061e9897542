"""One web app serving the whole suite: each site under its own path prefix.

`/flights/`, `/shop/` and `/forms/` are the sites; `/_suite/state` (GET) shows
their server-side state as JSON and `/_suite/reset` (POST) restores the seeded
state, so tools outside this process can check and replay tasks too.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from llmos.agent.suite import flights, forms, shop
from llmos.agent.suite.web import STATIC_DIR, render


class SuiteState:
    """The server-side state of every site, in memory, for one suite run."""

    def __init__(self):
        self.flights = flights.FlightsState()
        self.shop = shop.ShopState()
        self.forms = forms.FormsState()

    def reset(self) -> None:
        self.flights.reset()
        self.shop.reset()
        self.forms.reset()

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of what tasks change (the timetable and catalogue are fixed)."""
        return {
            "flights": {"searches": list(self.flights.searches),
                        "bookings": [dataclasses.asdict(b) for b in self.flights.bookings.values()]},
            "shop": {"cart": dict(self.shop.cart), "coupon": self.shop.coupon,
                     "orders": [dataclasses.asdict(o) for o in self.shop.orders]},
            "forms": {"applications": list(self.forms.applications),
                      "quiz_attempts": list(self.forms.quiz_attempts),
                      "tickets": list(self.forms.tickets),
                      "registrations": list(self.forms.registrations)},
        }


SITES = [("/flights/", "SkyLark Air", "book flights"),
         ("/shop/", "Corner Shop", "coffee, tea and kitchen things"),
         ("/forms/", "Civic Forms", "library card, quizzes, support, workshop")]


def create_suite_app(state: SuiteState | None = None) -> FastAPI:
    state = state or SuiteState()
    app = FastAPI(title="llmos web task suite", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.suite = state
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(flights.router(state.flights))
    app.include_router(shop.router(state.shop))
    app.include_router(forms.router(state.forms))

    @app.get("/")
    async def index(request: Request):
        return render(request, "index.html", sites=SITES)

    @app.get("/_suite/state")
    async def suite_state():
        return state.snapshot()

    @app.post("/_suite/reset")
    async def suite_reset():
        state.reset()
        return {"reset": True}

    return app
