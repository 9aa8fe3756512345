"""The gettext catalogues of everything a client reads: the gateway's problems and the
services' messages (English in ``gateway.i18n``) and the console's strings (English in
``gateway/console/static/i18n.js``, each under its key as context), one catalogue per language
(``<locale>/LC_MESSAGES/messages.po``), compiled to ``.mo`` at install.

A translator's round, with Babel (``babel.cfg`` beside this file says where the English is):

    .venv/bin/pybabel extract -F gateway/translations/babel.cfg -k N_ --no-location \
        -o gateway/translations/messages.pot .
    .venv/bin/pybabel update -i gateway/translations/messages.pot -d gateway/translations \
        --no-fuzzy-matching --ignore-obsolete
    (translate the new entries of the .po; tests/gateway/test_translations.py lists any left)
    make install      # compiles each .po newer than its .mo
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import read_mo

DIRECTORY = Path(__file__).parent
DOMAIN = "messages"
# The console's and the API's language tags, by the catalogue's locale.
LOCALES = {"zh-CN": "zh_CN"}
CONSOLE_CONTEXT = "console."
# A console string in i18n.js's English table: "key": "text" (the key quoted or bare).
_CONSOLE_ENTRY = re.compile(r'(?:"([\w.-]+)"|\b(\w+)):\s*"((?:[^"\\]|\\.)*)"')


def N_(message: str) -> str:
    """Mark an English message for extraction; it is translated where it is shown."""
    return message


class CatalogueMissing(RuntimeError):
    pass


@lru_cache(maxsize=None)
def catalogue(language: str) -> dict[tuple[str | None, str], str]:
    """``(context, English) -> translation`` of ``language`` from its compiled catalogue."""
    path = DIRECTORY / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        with path.open("rb") as compiled:
            messages = read_mo(compiled)
    except FileNotFoundError:
        raise CatalogueMissing(f"{path} is missing: compile the catalogues with `make install` "
                               "(pybabel compile -d gateway/translations).") from None
    return {(message.context, message.id): message.string
            for message in messages if message.id and message.string}


def console_strings(language: str) -> dict[str, str]:
    """The console's strings in ``language``, by key."""
    return {context[len(CONSOLE_CONTEXT):]: text
            for (context, _), text in catalogue(language).items()
            if context and context.startswith(CONSOLE_CONTEXT)}


def console_module() -> bytes:
    """The console's translations as the module it imports (``translations.js``)."""
    tables = {language: console_strings(language) for language in LOCALES}
    return (f"// Generated from gateway/translations (gettext): the console's strings by key.\n"
            f"export default {json.dumps(tables, ensure_ascii=False, sort_keys=True)};\n"
            ).encode()


def extract_console(fileobj, keywords, comment_tags, options):
    """Babel extractor: the English table of the console's ``i18n.js`` (``en: { ... }``),
    each string with its key as context."""
    text = fileobj.read().decode("utf-8")
    start = text.index("  en: {")
    end = text.index("\n  },", start)
    for match in _CONSOLE_ENTRY.finditer(text, start, end):
        key = match[1] or match[2]
        english = json.loads(f'"{match[3]}"')
        yield text.count("\n", 0, match.start()) + 1, "pgettext", (CONSOLE_CONTEXT + key,
                                                                     english), []
