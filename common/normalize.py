"""How names, phones and emails are compared: duplicate detection, search and merge use the
same rules in every service (the customers' contacts and sales' leads store these keys in
indexed columns, so a comparison is a query)."""
from __future__ import annotations

import re
import unicodedata


def name(value: str) -> str:
    # casefold can lengthen a name ("ß" -> "ss"); the columns hold 200 characters.
    return re.sub(r"\s+", " ", value).strip().casefold()[:200]


# Country calling codes are prefix-free (ITU-T E.164): these are the ones of one and two
# digits; every other code has three.
_SHORT_COUNTRY_CODES = frozenset({
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44",
    "45", "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
    "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95",
    "98",
})


def _country_code_length(digits: str) -> int:
    for length in (1, 2):
        if digits[:length] in _SHORT_COUNTRY_CODES:
            return length
    return 3


def phone(value: str | None) -> str | None:
    """A phone number as compared: its digits, the country code optional. A number written
    with an international prefix (``+`` or ``00``) loses it and its country code, and any
    number its leading (trunk) zeros: ``+86 138 0000 1111``, ``0086 13800001111`` and
    ``138-0000-1111`` are all ``13800001111``; ``+86 10 1234 5678`` and ``010 1234 5678``
    are ``1012345678``. ``None`` when it has no digits. (A country code written without
    ``+`` or ``00`` cannot be told from the number, and stays.)"""
    text = (value or "").strip()
    digits = re.sub(r"\D", "", text)
    international = text.startswith("+")
    if international or digits.startswith("00"):
        digits = digits if international else digits[2:]
        digits = digits[_country_code_length(digits):]
    return digits.lstrip("0") or None


# What a search text must look like to be read as a phone number: digits with the signs people
# write numbers with (full-width ones, from a Chinese keyboard, read as their ASCII forms), and
# enough digits once normalised that it is not a house number or a year's end.
_PHONE_SHAPED = re.compile(r"\+?[0-9\s().-]+")
_SEARCH_PHONE_MIN_DIGITS = 4


def phone_in_search(text: str) -> str | None:
    """The phone key a search text asks for, or ``None`` when the text is not a phone number:
    ``"5555-0100"`` searches phones for ``55550100``; ``"Globex 2026"`` or ``"+86 10"`` (two
    digits once the country code goes) search no phone (read as a number, any name with a
    digit in it would find every contact whose phone holds it)."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not _PHONE_SHAPED.fullmatch(text):
        return None
    key = phone(text)
    return key if key and len(key) >= _SEARCH_PHONE_MIN_DIGITS else None


def email(value: str | None) -> str | None:
    return value.strip().lower() if value else None


# What a company's name may end with that does not tell it from another: its legal form.
# Chinese suffixes are matched at the end of the name, the others as whole words.
COMPANY_SUFFIXES_CJK = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
COMPANY_SUFFIXES = frozenset({
    "co", "company", "corp", "corporation", "inc", "incorporated", "llc", "ltd", "limited",
    "plc", "gmbh", "group",
})


def name_key(value: str | None) -> str:
    """A company's (or person's) name as duplicates are found by: case, full or half width
    (NFKC), spaces, punctuation and a trailing legal form ignored, so ``ACME Co., Ltd.``,
    ``Ａｃｍｅ`` and ``acme 有限公司`` are all ``acme``. A name that is nothing but a legal
    form keeps it (``公司`` stays ``公司``); one of punctuation only is ``""``."""
    text = unicodedata.normalize("NFKC", value or "").casefold()
    words = [word for word in re.split(r"[\W_]+", text) if word]
    kept = list(words)
    while kept:
        last = kept[-1]
        if last in COMPANY_SUFFIXES:
            kept.pop()
            continue
        suffix = next((item for item in COMPANY_SUFFIXES_CJK
                       if last.endswith(item)), None)
        if suffix is None:
            break
        if last == suffix:
            kept.pop()
        else:
            kept[-1] = last[:-len(suffix)]
    return "".join(kept or words)[:200]
