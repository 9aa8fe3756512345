"""English and Chinese for everything a client reads in an error.

Services raise errors with English messages and know nothing of the caller's language; the
gateway negotiates ``Accept-Language`` and translates problem titles, details and field
messages here. The English is in this module: the problem codes' titles and details, and the
messages (marshmallow's standard ones, the gateway's own, the services') as they are written,
with ``{0}``, ``{1}`` ... where they vary. The translations are in the gettext catalogues
(``gateway.translations``), with the console's: adding a message is a line here and an
entry in each ``.po``. A message with no entry passes through in English.
"""
from __future__ import annotations

import logging
import re

from gateway.translations import N_, catalogue

ENGLISH = "en"
CHINESE = "zh-CN"
LANGUAGES = (ENGLISH, CHINESE)
log = logging.getLogger(__name__)

# code -> (title, default detail), in English.
PROBLEMS: dict[str, tuple[str, str]] = {
    "bad_request": (N_("Bad request"), N_("The request could not be understood.")),
    "validation_failed": (N_("Validation failed"), N_("Some fields are invalid; see errors.")),
    "unauthorized": (N_("Unauthorized"), N_("Valid credentials are required.")),
    "forbidden": (N_("Forbidden"), N_("Your role may not do this action.")),
    "not_found": (N_("Not found"), N_("The resource does not exist.")),
    "method_not_allowed": (N_("Method not allowed"),
                          N_("This method is not allowed on this resource.")),
    "conflict": (N_("Conflict"), N_("The change conflicts with the current state.")),
    "duplicate": (N_("Duplicate"), N_("Records you may see match this one; see matches.")),
    "precondition_failed": (N_("Precondition failed"), N_("A business rule refuses this change.")),
    "payload_too_large": (N_("Payload too large"), N_("The request body is larger than 10 MiB.")),
    "unsupported_media_type": (N_("Unsupported media type"),
                              N_("The request body's media type is not supported.")),
    "rate_limited": (N_("Too many requests"), N_("Too many attempts; try again later.")),
    "internal_error": (N_("Internal error"),
                      N_("An unexpected error occurred; it has been logged.")),
    "service_unavailable": (N_("Service unavailable"),
                           N_("A service is not available; try again later.")),
    "gateway_timeout": (N_("Gateway timeout"), N_("A service did not answer in time.")),
    "outcome_unknown": (N_("Outcome unknown"),
                       N_("The request may or may not have been "
                          "applied; retrying it with the same Idempotency-Key is safe.")),
}

# The services' and the gateway's messages as they write them, ``{0}``, ``{1}`` ... where a
# message varies (matched in full, each part as short as it can be).
MESSAGES: list[str] = [
    # marshmallow
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Field may not be null."),
    N_("Invalid input type."),
    N_("Invalid type."),
    N_("Invalid value."),
    N_("Not a valid email address."),
    N_("Not a valid URL."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Must not contain NUL characters."),
    N_("Must be between the years 1900 and 2999."),
    N_("Not a valid UUID."),
    N_("Not a valid datetime."),
    N_("Not a valid aware datetime."),
    N_("Not a valid naive datetime."),
    N_("Not a valid date."),
    N_("Not a valid time."),
    N_("Not a valid period of time."),
    N_("Not a valid boolean."),
    N_("Not a valid list."),
    N_("Not a valid tuple."),
    N_("Not a valid mapping type."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("String does not match expected pattern."),
    N_("Must be one of: {0}; a lead is converted with POST /leads/{id}/convert."),
    N_("Must be one of: {0}."),
    N_("Longer than maximum length {0}."),
    N_("Shorter than minimum length {0}."),
    N_("Length must be between {0} and {1}."),
    N_("Length must be {0}."),
    N_("Must be greater than or equal to {0} and less than or equal to {1}."),
    N_("Must be greater than {0} and less than or equal to {1}."),
    N_("Must be greater than or equal to {0}."),
    N_("Must be less than or equal to {0}."),
    N_("Must be greater than {0}."),
    N_("Must be less than {0}."),
    # the platform (common/)
    N_("Invalid input."),
    N_("Invalid sort."),
    N_("Unknown sort field {0}; use one of: {1}."),
    N_("The record was changed by someone else at the same time; reload it."),
    # the services
    N_("Must not be blank."),
    N_("Must not be after {0}."),
    N_("No {0} with id {1}."),
    N_("Custom field {0} must be a single value."),
    N_("Custom field {0} is longer than 1000 characters."),
    N_("Not a valid phone number: use digits, spaces, ()-. and an optional +."),
    N_("Your role may read customers but not change them."),
    N_("Customers you may see have the same name, email or phone; see matches, or send "
       "allow_duplicate: true to create it all the same."),
    N_("Leads or customers you may see have the same company, email or phone; see matches, or "
       "send allow_duplicate: true to create it all the same."),
    N_("Give at least one of name, email and phone."),
    N_("Must be another customer than the one kept."),
    N_("Sales users own the customers they create; ask a manager to reassign."),
    N_("You may only assign customers to your own team."),
    # notifications
    N_("The URL resolves to a loopback, link-local or private address."),
    N_("The URL's host does not resolve."),
    N_("Only a pending reminder you set by hand can be changed."),
    N_("The reminder is already {0}."),
    N_("Reminders and notifications belong to a user; sign in as one."),
    N_("Only admins and API keys manage webhooks."),
    N_("This API key may not receive {0}: a key hears only events its read scopes cover, and "
       "never user or reminder events."),
    N_("The record was changed by someone else (version {0}); reload it and apply your change "
       "again."),
    # sales
    N_("Your role may read sales records but not change them."),
    N_("You may only assign leads to your own team."),
    N_("You may only assign deals to your own team."),
    N_("You may only give records to members of your own team."),
    N_("No active user has this id."),
    N_("{0} The request may or may not have been applied; retrying it with the same "
       "Idempotency-Key is safe."),
    N_("The broker connection broke during the call."),
    N_("The request expired before the {0} service could run it; it was not run."),
    N_("This Idempotency-Key was already used for another request; use a new key for a new "
       "request."),
    N_("Up to 128 printable ASCII characters without spaces, such as a UUID."),
    N_("The lead's owner can no longer be given its customer (inactive, or in another team "
       "now); reassign the lead first."),
    N_("Your role may read leads but not change them."),
    N_("Your role may read deals but not change them."),
    N_("Your role may read contracts but not change them."),
    N_("You may only assign contracts to your own team."),
    N_("Sales users own the contracts they create; ask a manager to reassign."),
    N_("A lead has no region object: send country, province and city as top-level fields, as "
       "for a customer."),
    N_("The total would be larger than {0}; split it into several deals."),
    N_("Sales users own the leads they create; ask a manager to reassign."),
    N_("Sales users own the deals they create; ask a manager to reassign."),
    N_("Only an admin may change this."),
    N_("Only an admin or a manager may change the product catalogue."),
    N_("Only an admin or the team's manager may set its assignment rule."),
    N_("A product with this SKU already exists."),
    N_("Not a valid SKU: up to 64 letters, digits and ._- characters."),
    N_("Not a valid currency: use a three-letter ISO 4217 code such as CNY."),
    N_("Not a valid stage key: lower-case letters, digits and _, starting with a letter."),
    N_("Stage keys must be unique."),
    N_("The stages won and lost are required."),
    N_("Stages in use by deals cannot be removed: {0}."),
    N_("Unknown stage {0}; use one of: {1}."),
    N_("Required by the region strategy."),
    N_("No active product has this id."),
    N_("Required: the product is priced in {0}, the deal in {1}."),
    N_("With lines, the amount is their sum after discount; leave it out."),
    N_("No customer you may see has this id."),
    N_("A deal is won only with an amount greater than zero."),
    N_("Required when the stage is lost."),
    N_("The lines and amount of a won or lost deal are frozen; move it back to an open stage "
       "first."),
    N_("The deal is already in stage {0}."),
    N_("The lead is already converted."),
    N_("A converted lead cannot be changed."),
    N_("A disqualified lead cannot be converted; requalify it first."),
    N_("A quote is made from the deal's lines; the deal has none."),
    N_("A lost deal cannot be quoted."),
    N_("Must not be in the past."),
    N_("The quote expired on {0}."),
    N_("Only a draft quote's tax rate and validity can change."),
    N_("A {0} quote cannot become {1}."),
    N_("A contract is made from a won deal."),
    N_("Must be the deal's customer."),
    N_("A terminated contract cannot be changed."),
    N_("Must not be before start_date."),
    N_("Required when there is no deal_id."),
    # imports (common.importing, common.import_jobs, the services' imports)
    N_("The file is larger than {0} MB, the import limit (CRM_IMPORT_MAX_MB); split it into "
       "smaller files."),
    N_("An .xls file (Excel 97-2003) cannot be read; save it as .xlsx or as CSV."),
    N_("The file has no header row: it is empty."),
    N_("The file holds NUL characters: it is not a CSV text file (UTF-16 needs its byte-order "
       "mark); save it as CSV UTF-8 or XLSX."),
    N_("The file is not text in UTF-8, UTF-16 (with its byte-order mark) or GB18030/GBK; save "
       "it as CSV UTF-8 or XLSX."),
    N_("The CSV cannot be read at line {0} ({1}); check the quotes around it."),
    N_("The file is not a readable XLSX workbook ({0}); save it again as .xlsx or as CSV."),
    N_("The header names the column {0} twice (columns {1} and {2}); rename or remove one."),
    N_("{0} is not a column of the file."),
    N_("{0} is not a field to import; use one of: {1}."),
    N_("The columns {0} and {1} both fill {2}; keep one, or map one elsewhere with mapping."),
    N_("No column for {0} ({1} / {2}), which every row needs; name a column so, or map one to "
       "it with mapping."),
    N_("Not a JSON object: write it as {\"key\": \"value\", ...}."),
    N_("The row has {0} cells where the header has {1}: a delimiter is missing, or a value "
       "holds one without quotes."),
    N_("The import was interrupted {0} times (its service stopped or failed); the rows not "
       "imported are failed: import them again from errors.csv."),
    N_("The import stopped on an unexpected error ({0}); the rows not imported are failed: "
       "import them again from errors.csv."),
    N_("{0} of {1} rows are invalid, so nothing was imported (atomic): fix them (errors.csv) "
       "and import the file again."),
    N_("A dry run: nothing was stored; the counts are what an import would do."),
    N_("A dry run: nothing was stored. {0} of {1} rows are invalid, so an atomic import would "
       "import nothing."),
    N_("{0} of {1} rows were not imported; errors.csv holds them, ready to fix and import again."),
    N_("This service imports {0}."),
    N_("The import has all its rows already."),
    N_("The file has {0} rows; {1} arrived."),
    N_("The row matches {0} customers you may see; update them one by one, or merge them first."),
    N_("The row matches {0} leads you may see; update them one by one, or import it with "
       "on_duplicate create."),
    N_("Not a file: send it as a file part of multipart/form-data."),
    N_("This API key does not have the scope {0}."),
    # the gateway's own
    N_("Not ready: {0}."),
    N_("The request body is not valid JSON."),
    N_("Invalid username or password."),
    N_("Authentication required."),
    N_("Invalid or expired token."),
    N_("Invalid or expired refresh token."),
    N_("Missing or wrong X-CSRF-Token header: send the value of the crm_csrf cookie with it."),
    N_("Required, unless the session is in the crm_refresh cookie (sign in with session: cookie)."),
    N_("Your role may not do this action."),
    N_("Too many failed login attempts; try again in {0} seconds."),
    N_("Too many requests; try again in {0} seconds."),
    N_("Signing in is not possible right now; try again later."),
    N_("User not found."),
    N_("Team not found."),
    N_("Already taken."),
    N_("Unknown time zone."),
    N_("Required as a body field or an If-Match header."),
    N_("Not a valid date and time: use ISO 8601, such as 2026-01-31T09:00:00Z."),
    N_("The {0} service is not available."),
    N_("The {0} service did not answer in time."),
    N_("The broker is not reachable."),

]

_PLACEHOLDER = re.compile(r"\{(\d+)\}")


def _pattern(message: str) -> re.Pattern:
    """A message with placeholders as the expression its instances match in full."""
    parts = _PLACEHOLDER.split(message)
    return re.compile("".join(re.escape(part) if index % 2 == 0 else "(.+?)"
                              for index, part in enumerate(parts)))


_PATTERNS = [(_pattern(message), message) for message in MESSAGES]


def negotiate(accept_languages) -> str:
    """The best of :data:`LANGUAGES` for werkzeug's parsed ``Accept-Language``.

    Any ``zh*`` tag means Chinese; anything else, or nothing, English.
    """
    for tag, quality in accept_languages:
        if quality <= 0:
            continue
        tag = tag.lower()
        if tag.startswith("zh"):
            return CHINESE
        if tag.startswith("en") or tag == "*":
            return ENGLISH
    return ENGLISH


def problem_text(code: str, language: str) -> tuple[str, str]:
    """``(title, default detail)`` of a problem code."""
    title, detail = PROBLEMS.get(code) or PROBLEMS["internal_error"]
    return _translation(title, language) or title, _translation(detail, language) or detail


def translate(message: str, language: str) -> str:
    if language == ENGLISH:
        return message
    for pattern, english in _PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            template = _translation(english, language)
            try:
                return template.format(*match.groups()) if template else message
            except (IndexError, KeyError, ValueError):  # a translation's braces gone wrong
                log.error("the %s translation of %r does not format; answered in English",
                          language, english)
                return message
    return message


def _translation(english: str, language: str) -> str | None:
    """``english`` in ``language``, its placeholders kept; ``None`` when it has none."""
    return None if language == ENGLISH else catalogue(language).get((None, english))


def translate_errors(errors: dict, language: str) -> dict:
    return {field: [translate(m, language) for m in messages] for field, messages in errors.items()}
