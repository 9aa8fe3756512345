"""How names, phones and emails are compared: duplicate warnings, search and (soon) merge
use the same rules in every service."""
from __future__ import annotations

import re


def name(value: str) -> str:
    # casefold can lengthen a name ("ß" -> "ss"); the columns hold 200 characters.
    return re.sub(r"\s+", " ", value).strip().casefold()[:200]


def phone(value: str | None) -> str | None:
    """The digits of a phone number, or ``None`` when it has none."""
    digits = re.sub(r"\D", "", value or "")
    return digits or None


def email(value: str | None) -> str | None:
    return value.strip().lower() if value else None
