"""The keys every server process shares: for signing CSRF tokens and for keying
ETags. Made at random when the schema is created and kept in the database, so
processes on several hosts agree without configuration; ``FLEXIGIFT_SECRET_KEY``
replaces them all (each purpose gets its own key derived from it).
"""
from __future__ import annotations

import hashlib
import hmac

import peewee

from ..models import ServerSecret

PURPOSES = ("csrf", "etag")


def load(db: peewee.Database, secret_key: str | None) -> dict[str, bytes]:
    """purpose → key."""
    if secret_key:
        return {purpose: hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()
                for purpose in PURPOSES}
    with db.connection_context():
        stored = {row.purpose: row.secret for row in ServerSecret.select()}
    return {purpose: bytes.fromhex(stored[purpose]) for purpose in PURPOSES}
