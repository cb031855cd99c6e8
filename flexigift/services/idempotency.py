"""Idempotency keys: a retried money request gets its first outcome, never a second debit.

Inside the request's database transaction, :func:`claim` inserts the key
(``INSERT … ON CONFLICT DO NOTHING`` on its unique column) before anything
else is written. A concurrent first attempt with the same key therefore waits
on the database until the winner commits (PostgreSQL blocks on the unique
index; SQLite serialises write transactions), then finds the winner's record
and replays it. If the winner fails, its claim rolls back with everything
else, and the waiting attempt goes ahead on its own.
"""
from __future__ import annotations

import hashlib
from typing import Any

import orjson

from ..errors import ValidationFailed
from ..models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def fingerprint(method: str, path: str, command: dict[str, Any]) -> str:
    """A digest of the request: method, path and its validated (normalised) content."""
    document = orjson.dumps([method.upper(), path, command], option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(document).hexdigest()


def claim(key: str, print_: str) -> IdempotencyRecord | None:
    """Reserve ``key`` for this request; the earlier outcome if the key was used before.

    Raises 422 when the key was used for a different request.
    """
    inserted = (IdempotencyRecord.insert(key=key, fingerprint=print_)
                .on_conflict_ignore().as_rowcount().execute())
    if inserted:
        return None
    earlier = IdempotencyRecord.get(IdempotencyRecord.key == key)
    if earlier.fingerprint != print_:
        raise ValidationFailed.single(
            HEADER, f"The key {key!r} was already used for a different request; a retry must "
                    "repeat the first request exactly. Use a new key for a new request.")
    return earlier


def complete(key: str, status: int, entry_id: int) -> None:
    """Record the outcome (status and ledger entry) of the request that claimed ``key``."""
    (IdempotencyRecord.update(status=status, transaction=entry_id)
     .where(IdempotencyRecord.key == key).execute())
