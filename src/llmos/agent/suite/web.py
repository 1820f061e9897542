"""What every suite site shares: templates, form parsing and small validators.

The sites are plain server-rendered HTML (Jinja2 templates under `templates/`)
so that what a browser agent sees is what a person sees: real forms, real
labels, POST-redirect-GET. Form bodies are parsed here with the standard
library, which keeps the suite free of a multipart dependency (no site uploads
files).
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC_DIR = Path(__file__).parent / "static"

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


class Form:
    """A parsed `application/x-www-form-urlencoded` body: one value or all values per name."""

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0].strip() if values else default

    def getlist(self, name: str) -> list[str]:
        return [v.strip() for v in self.fields.get(name, [])]


async def read_form(request: Request) -> Form:
    body = (await request.body()).decode("utf-8", errors="replace")
    return Form(parse_qs(body, keep_blank_values=True))


def render(request: Request, name: str, status_code: int = 200, **context) -> object:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)


def luhn_ok(number: str) -> bool:
    """The card-number checksum every real checkout applies (ISO/IEC 7812-1)."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 12 or len(digits) != len(re.sub(r"[\s-]", "", number)):
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_errors(name: str, number: str, expiry: str, cvc: str) -> dict[str, str]:
    """Validation messages for a card form, keyed by field name (empty when valid)."""
    errors: dict[str, str] = {}
    if not name:
        errors["card_name"] = "Enter the name shown on the card."
    if not luhn_ok(number):
        errors["card_number"] = "Enter a valid card number."
    if not re.fullmatch(r"(0[1-9]|1[0-2])/\d{2}", expiry):
        errors["card_expiry"] = "Enter the expiry date as MM/YY."
    if not re.fullmatch(r"\d{3,4}", cvc):
        errors["card_cvc"] = "Enter the 3 or 4 digit security code."
    return errors


def last4(number: str) -> str:
    return re.sub(r"\D", "", number)[-4:]


def euros(cents: int) -> str:
    """Money is kept in integer cents (no float rounding); shown as €12.50."""
    return f"€{cents // 100}.{cents % 100:02d}"


TEMPLATES.env.filters["euros"] = euros
