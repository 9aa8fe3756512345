"""API keys for other systems: how a key is made and stored, and the scopes one may hold.

A key is ``crm_`` and 43 random URL-safe characters; only its SHA-256 is kept (a key has far
more entropy than a password, so a fast hash is the right one: a lookup per request).
"""
from __future__ import annotations

import hashlib
import secrets

PREFIX = "crm_"
# The resources another system may be given, each as <resource>:read and <resource>:write.
RESOURCES = ("customers", "contacts", "activities", "leads", "deals", "products", "pipeline",
             "quotes", "contracts", "webhooks", "imports")
SCOPES = tuple(f"{resource}:{access}" for resource in RESOURCES for access in ("read", "write"))


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
