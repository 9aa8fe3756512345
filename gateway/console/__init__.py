"""The web console: one page at ``/`` and its assets under ``/console/``, all from this folder
(no build step, no CDN, no Node.js to run it). It is a client of the public REST API only,
signed in with the cookie session of ``gateway.auth.cookies``.

Every asset URL carries a hash of what is served (``?v=``), and a module's imports are
rewritten to carry their own, so the hash of a module covers everything it imports. An
answer to the URL of the current content may then be cached for a year: a returning browser
fetches nothing but the page, and a change anywhere gives every module that leads to it a
new URL. The page preloads every module the first screen imports, so no screen waits on
more than two round trips before its data.
"""
from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import re
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request, url_for

from gateway import translations

STATIC = Path(__file__).parent / "static"
# The module of the console's translations, made from the gettext catalogues.
TRANSLATIONS = "translations.js"
# The modules the page imports, preloaded together with it (app.js imports the others).
MODULES = ("app.js", "api.js", "i18n.js", TRANSLATIONS, "ui.js", "screens.js", "duplicates.js",
           "history.js", "pipeline.js", "deal.js", "reports.js", "admin.js", "setup.js",
           "webhooks.js", "audit.js", "leads.js", "imports.js", "inbox.js",
           "vendor/htm-3.1.1/preact-standalone.module.js")
IMMUTABLE = "public, max-age=31536000, immutable"
RELATIVE_IMPORT = re.compile(r"""(\bfrom\s*["'])(\.{1,2}/[^"'?]+)(["'])""")

bp = Blueprint("console", __name__, template_folder="templates")


# Every file there is, by its path from STATIC (and the translations): nothing else is ever
# read, whatever the URL spells (``./``, ``..``, a NUL), and the caches below hold one entry
# per file at most.
FILES = {path.relative_to(STATIC).as_posix(): path
         for path in STATIC.rglob("*") if path.is_file()} | {TRANSLATIONS: None}


@lru_cache(maxsize=None)
def _served(filename: str) -> bytes:
    if filename == TRANSLATIONS:
        return translations.console_module()
    path = FILES[filename]
    if not filename.endswith(".js"):
        return path.read_bytes()

    def versioned(match: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(filename), match[2]))
        return f"{match[1]}{match[2]}?v={content_hash(target)}{match[3]}"

    return RELATIVE_IMPORT.sub(versioned, path.read_text(encoding="utf-8")).encode()


def served(filename: str) -> bytes:
    """The file as served: a module's relative imports carry their content hashes."""
    if filename not in FILES:
        raise FileNotFoundError(filename)
    return _served(filename)


@lru_cache(maxsize=None)
def _content_hash(filename: str) -> str:
    return hashlib.sha256(_served(filename)).hexdigest()[:12]


def content_hash(filename: str) -> str:
    if filename not in FILES:
        raise FileNotFoundError(filename)
    return _content_hash(filename)


def asset_url(filename: str) -> str:
    return url_for("console.asset", filename=filename, v=content_hash(filename))


@bp.get("/")
def index():
    """The console's page (every screen is drawn in it by the scripts)."""
    answer = Response(render_template("console.html", asset_url=asset_url, modules=MODULES))
    answer.headers["Cache-Control"] = "no-cache"  # it names the current assets
    return answer


@bp.get("/console/<path:filename>")
def asset(filename: str):
    try:
        body = served(filename)
    except FileNotFoundError:
        abort(404)
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if mimetype in ("text/javascript", "application/javascript", "text/css"):
        mimetype += "; charset=utf-8"
    answer = Response(body, content_type=mimetype)
    if request.args.get("v") == content_hash(filename):
        answer.headers["Cache-Control"] = IMMUTABLE
    else:
        answer.headers["Cache-Control"] = "no-cache"
        answer.add_etag()
        answer.make_conditional(request)
    return answer
