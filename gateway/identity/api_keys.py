"""The API-key use cases: admins make keys with scopes (the key is answered once, only its
hash is stored), list them and revoke them; making and revoking are audited (never the key)."""
from __future__ import annotations

from common.db import utcnow
from common.listing import PageQuerySchema
from common.uow import UnitOfWork
from common.validation import load
from gateway import audit
from gateway.auth.api_keys import PREFIX, key_hash, new_key
from gateway.identity import schemas as s
from gateway.identity.records import API_KEY, require_admin
from gateway.models import ApiKey


def list_keys(uow: UnitOfWork, query_args) -> dict:
    """Every key, revoked ones included; never the keys themselves."""
    require_admin(uow.actor)
    return API_KEY.page(uow, load(PageQuerySchema, query_args))


def create_key(uow: UnitOfWork, payload) -> dict:
    """A new key, answered with the key itself (``NewApiKeySchema``): this once, never again."""
    require_admin(uow.actor)
    data = load(s.ApiKeyInputSchema, payload)
    key = new_key()
    api_key = ApiKey(name=data["name"], scopes=sorted(set(data["scopes"])),
                     prefix=key[: len(PREFIX) + 6], key_hash=key_hash(key),
                     created_by=uow.actor.user_uuid)
    uow.session.add(api_key)
    uow.session.flush()
    answer = {**API_KEY.out.dump(api_key), "key": key}
    audit.record(uow.session, "api_key.created", actor=uow.actor, target=api_key,
                 details={"name": api_key.name, "scopes": api_key.scopes})
    uow.commit()
    return answer


def without_key(answer: dict) -> dict:
    """What a repeat of the same creation answers: the key's record, not the key (shown once;
    revoke it and make another if it was lost)."""
    return {**answer, "key": None}


def revoke_key(uow: UnitOfWork, key_id) -> None:
    """Revoke a key: it is refused from the next request on."""
    require_admin(uow.actor)
    api_key = API_KEY.find(uow, key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        audit.record(uow.session, "api_key.revoked", actor=uow.actor, target=api_key,
                     details={"name": api_key.name})
        uow.commit()
