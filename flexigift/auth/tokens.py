"""API tokens: made by the command line, shown once, stored only as a hash.

A token is ``fg_`` and 43 characters of a URL-safe random string (256 bits),
so a SHA-256 of it is a safe one-way fingerprint (no slow hash is needed for a
secret that cannot be guessed). Tokens live in the database beside the data,
so every server process sees a revocation with the next request.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import peewee

from ..db import database
from ..models import ApiToken, Issuer, utcnow
from ..query.compiled import TemplateSelect
from .roles import ISSUER, Role

PREFIX = "fg_"
#: How stale ``last_used_at`` may get before a request refreshes it (a write per
#: request would cost more than the request).
LAST_USED_RESOLUTION = 60  # seconds


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(secret: str) -> bool:
    return secret.startswith(PREFIX) and 16 <= len(secret) <= 200 and secret.isascii()


@dataclass(frozen=True)
class Holder:
    """An active token as a request sees it: who it is, and its issuer's row id."""

    id: int
    name: str
    role: Role
    issuer_id: int | None


def create(name: str, role: Role) -> tuple[ApiToken, str]:
    """A new token (the row, and the secret to show once)."""
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.create(name=name, role=role.kind, issuer_name=role.issuer_name,
                          token_hash=token_hash(secret), prefix=secret[:8])
    return row, secret


def listing() -> list[ApiToken]:
    return list(ApiToken.select().order_by(ApiToken.id))


class UnknownToken(LookupError):
    """No token, or more than one, answers to a name."""


def revoke(name_or_id: str) -> ApiToken:
    """Revoke the token with this id, or the one active token with this name."""
    query = ApiToken.select().where(ApiToken.revoked_at.is_null())
    if name_or_id.isdigit():
        found = list(ApiToken.select().where(ApiToken.id == int(name_or_id)))
    else:
        found = list(query.where(ApiToken.name == name_or_id))
    if len(found) != 1:
        raise UnknownToken(f"{len(found)} active tokens are named {name_or_id!r}; revoke one by its id"
                           if found else f"no active token is named {name_or_id!r}")
    token = found[0]
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        token.save()
    return token


def role_of(token: ApiToken) -> Role:
    return Role(token.role, token.issuer_name) if token.role == ISSUER else Role(token.role)


#: An active token by its hash, with its issuer's id (for an issuer token): one query.
_ACTIVE = TemplateSelect(lambda hole: (
    ApiToken.select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.issuer_name,
                    ApiToken.token_hash, ApiToken.last_used_at, Issuer.id)
    .join(Issuer, peewee.JOIN.LEFT_OUTER, on=(Issuer.name == ApiToken.issuer_name))
    .where(ApiToken.token_hash == hole, ApiToken.revoked_at.is_null())), raw=True)


def holder_of(secret: str) -> Holder | None:
    """The active token ``secret`` is, or ``None`` (unknown or revoked)."""
    if not looks_like_token(secret):
        return None
    digest = token_hash(secret)
    rows = _ACTIVE.fill(database.obj.param, [digest])
    if not rows:
        return None
    id, name, kind, issuer_name, stored_hash, last_used, issuer_id = rows[0]
    if not hmac.compare_digest(stored_hash, digest):
        return None
    _touch(id, last_used)
    role = Role(kind, issuer_name) if kind == ISSUER else Role(kind)
    return Holder(id, name, role, issuer_id)


def _touch(id: int, last_used) -> None:
    now = utcnow()
    if isinstance(last_used, str):  # SQLite hands raw rows back as text
        last_used = ApiToken.last_used_at.python_value(last_used)
    if last_used is None or (now - last_used).total_seconds() > LAST_USED_RESOLUTION:
        ApiToken.update(last_used_at=now).where(ApiToken.id == id).execute()
