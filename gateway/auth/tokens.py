"""Access tokens (short-lived JWTs) and refresh tokens (opaque, rotated, revocable).

A login starts a refresh-token *family*. Each refresh spends the presented token and issues
the next one of the family; presenting a spent token again means it was stolen (or replayed),
so the whole family is revoked and both the thief's and the owner's tokens stop working. Every
access token names its family in ``sid`` and is refused once the family is revoked. A family
lives at most ``SESSION_LIFETIME`` from its login, however often it is refreshed; tokens
allow ``CLOCK_LEEWAY`` between gateway pods whose clocks differ slightly. A logout and a
reused token are recorded in the audit trail with the revocation they cause.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
import uuid
from collections.abc import Mapping
from types import MappingProxyType

import jwt
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from common.db import utcnow
from gateway import audit
from gateway.auth import callers
from gateway.errors import Unauthorized
from gateway.models import RefreshToken, User

ALGORITHM = "HS256"
AUDIENCE = "crm-api"
ISSUER = "crm-gateway"
ACCESS_TTL = dt.timedelta(minutes=15)
REFRESH_TTL = dt.timedelta(days=14)
SESSION_LIFETIME = dt.timedelta(days=30)  # then sign in again
CLOCK_LEEWAY = dt.timedelta(seconds=30)
REQUIRED_CLAIMS = ["exp", "iat", "aud", "iss", "jti", "sub", "sid"]
VERIFIED_TOKENS = "crm.verified_access_tokens"  # the app's extension: token -> its claims
VERIFIED_TOKENS_KEPT = 10_000  # per worker; past it the cache starts again
INVALID_REFRESH = "Invalid or expired refresh token."


def issue_access_token(user: User, family_id: uuid.UUID) -> str:
    now = utcnow()
    claims = {
        "sub": str(user.id),
        "role": user.role,
        "team_id": str(user.team_id) if user.team_id else None,
        "iat": now,
        "exp": now + ACCESS_TTL,
        "aud": AUDIENCE,
        "iss": ISSUER,
        "jti": uuid.uuid4().hex,
        "sid": str(family_id),
    }
    return jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm=ALGORITHM)


def decode_access_token(token: str) -> Mapping:
    """The verified claims; raises ``jwt.InvalidTokenError`` for anything not ours or expired.

    A client presents the same token on every request for its quarter of an hour, and
    checking it (the signature, and PyJWT's character-by-character check of its encoding)
    is most of a read's authentication. So a token verified once is remembered by the
    worker with its claims, exactly as presented, and is taken from there until it expires
    (with the same leeway); what it may do is checked on every request all the same
    (``gateway.auth.callers``: the user's state and session)."""
    verified = current_app.extensions.setdefault(VERIFIED_TOKENS, {})
    claims = verified.get(token)
    if claims is not None and time.time() < claims["exp"] + CLOCK_LEEWAY.total_seconds():
        return claims
    claims = jwt.decode(
        token,
        current_app.config["SECRET_KEY"],
        algorithms=[ALGORITHM],
        audience=AUDIENCE,
        issuer=ISSUER,
        leeway=CLOCK_LEEWAY,
        options={"require": REQUIRED_CLAIMS},
    )
    if len(verified) >= VERIFIED_TOKENS_KEPT:
        verified.clear()
    claims = verified[token] = MappingProxyType(claims)  # shared by requests: read-only
    return claims


def token_pair(db: Session, user: User, family_id: uuid.UUID | None = None) -> dict:
    """Issue a refresh token (starting a family when ``family_id`` is None) and an access
    token of the same family. The caller commits."""
    raw = secrets.token_urlsafe(32)
    token_id = uuid.uuid4()
    family_id = family_id or token_id
    now = utcnow()
    db.add(
        RefreshToken(
            id=token_id,
            token_hash=_digest(raw),
            family_id=family_id,
            user_id=user.id,
            issued_at=now,
            expires_at=now + REFRESH_TTL,
        )
    )
    return {
        "access_token": issue_access_token(user, family_id),
        "refresh_token": raw,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_TTL.total_seconds()),
    }


def rotate(db: Session, raw: str) -> dict:
    """Spend a refresh token for a new pair; a spent token revokes its family."""
    token = _find(db, raw)
    now = utcnow()
    if (token is None or token.revoked_at is not None or token.expires_at <= now
            or family_revoked(db, token.family_id, token.user_id)):
        raise Unauthorized(INVALID_REFRESH)
    spent = db.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    user = db.get(User, token.user_id)
    if spent.rowcount != 1 or not user.active:
        if spent.rowcount != 1:
            audit.record(db, "refresh.reused", actor=user, target=user,
                         details={"session_id": token.family_id})
        revoke_family(db, token.family_id)
        db.commit()
        raise Unauthorized(INVALID_REFRESH)
    pair = token_pair(db, user, token.family_id)
    db.commit()
    return pair


def revoke(db: Session, raw: str) -> None:
    """Revoke the family of a refresh token (logout); an unknown token changes nothing."""
    token = _find(db, raw)
    if token is not None:
        revoke_family(db, token.family_id)
        user = db.get(User, token.user_id)
        audit.record(db, "logout", actor=user, target=user, details={"session_id": token.family_id})
        db.commit()


def revoke_family(db: Session, family_id: uuid.UUID) -> None:
    _revoke_where(db, RefreshToken.family_id == family_id)
    callers.forget_session(family_id)


def revoke_user(db: Session, user_id: uuid.UUID) -> None:
    """Revoke every session of a user (password changed, account deactivated)."""
    _revoke_where(db, RefreshToken.user_id == user_id)
    callers.forget_user(user_id)


def _revoke_where(db: Session, condition) -> None:
    db.execute(
        sa.update(RefreshToken)
        .where(condition, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def family_revoked(db: Session, family_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether the family (found by primary key: its first token's id) no longer counts:
    revoked, or older than the session lifetime."""
    return session_left(db, family_id, user_id) <= 0


def session_left(db: Session, family_id: uuid.UUID, user_id: uuid.UUID) -> float:
    """Seconds the user's session (the family) still counts; 0 when it is revoked, over
    its lifetime, or not theirs."""
    first = db.get(RefreshToken, family_id)
    if first is None or first.user_id != user_id or first.revoked_at is not None:
        return 0.0
    return max((first.issued_at + SESSION_LIFETIME - utcnow()).total_seconds(), 0.0)


def _find(db: Session, raw: str) -> RefreshToken | None:
    return db.scalar(sa.select(RefreshToken).where(RefreshToken.token_hash == _digest(raw)))


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
