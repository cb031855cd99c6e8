"""Idempotency keys: a retried money request gets its first outcome, never a second debit.

Inside the request's database transaction, :func:`claim` inserts the key
(``INSERT … ON CONFLICT DO NOTHING`` on its unique column) before anything
else is written. A concurrent first attempt with the same key therefore waits
on the database until the winner commits (PostgreSQL blocks on the unique
index; SQLite serialises write transactions), then finds the winner's record
and replays it. If the winner fails, its claim rolls back with everything
else, and the waiting attempt goes ahead on its own.

A record is kept for a time to live (``FLEXIGIFT_IDEMPOTENCY_TTL``, 24 hours by
default). Past it, a request with the same key is a new request: :func:`claim`
replaces the expired record with its own. Expired records are pruned a few at
a time by each new record (:data:`PRUNE_PER_CLAIM`, so the table never grows
much past a TTL's worth of keys) and all at once by ``flexigift prune``
(:func:`prune`). A record younger than the TTL is never deleted, and deleting
one never touches the ledger entry, hold or order it points at.
"""
from __future__ import annotations

import datetime
import hashlib
from typing import Any

import orjson
import peewee

from ..db import database, is_postgres
from ..errors import ServiceUnavailable, ValidationFailed
from ..models import IdempotencyRecord, utcnow
from ..query.compiled import CompiledStatement

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: How long a key is remembered unless configured (``FLEXIGIFT_IDEMPOTENCY_TTL``).
DEFAULT_TTL = 86_400
#: How many expired records each new record prunes at most (bounded work on the write path).
PRUNE_PER_CLAIM = 3
#: How many expired records ``flexigift prune`` deletes per statement (short transactions).
PRUNE_BATCH = 5_000


def fingerprint(method: str, path: str, command: dict[str, Any]) -> str:
    """A digest of the request: method, path and its validated (normalised) content."""
    document = orjson.dumps([method.upper(), path, command], option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(document).hexdigest()


def cutoff(ttl: int, now: datetime.datetime | None = None) -> datetime.datetime:
    """Records made before this moment have expired."""
    return (now or utcnow()) - datetime.timedelta(seconds=ttl)


def claim(key: str, print_: str, ttl: int = DEFAULT_TTL) -> IdempotencyRecord | None:
    """Reserve ``key`` for this request; the earlier outcome if the key was used before
    (less than ``ttl`` seconds ago: an older use is forgotten, and this request is new).

    Raises 422 when the key was used for a different request.
    """
    now = utcnow()
    for _ in range(3):  # an expired record replaced, or pruned meanwhile: try again
        inserted = _CLAIM.execute(key=key, fingerprint=print_, now=now).rowcount
        if inserted:
            prune_some(ttl, now)
            return None
        earlier = IdempotencyRecord.get_or_none(IdempotencyRecord.key == key)
        if earlier is None:
            continue
        if earlier.date_created < cutoff(ttl, now):
            # Forgotten: this request is a new one. Of two such requests at once, the
            # second waits here for the first to commit, then replays its outcome.
            (IdempotencyRecord.delete()
             .where(IdempotencyRecord.id == earlier.id, IdempotencyRecord.date_created < cutoff(ttl, now))
             .execute())
            continue
        if earlier.fingerprint != print_:
            raise ValidationFailed.single(
                HEADER, f"The key {key!r} was already used for a different request; a retry must "
                        "repeat the first request exactly. Use a new key for a new request.")
        return earlier
    raise ServiceUnavailable(f"The {HEADER} {key!r} is being used by other requests right now; retry in "
                             "a few seconds.", HEADER, headers={"Retry-After": "2"}, logref="idempotency_busy")


# Every keyed request runs these: their SQL is written once per database.
_CLAIM = CompiledStatement(lambda slot: IdempotencyRecord.insert(
    key=slot("key"), fingerprint=slot("fingerprint"), date_created=slot("now")).on_conflict_ignore())


def _expired(slot) -> peewee.Select:
    """The ids of at most ``slot("limit")`` records made before ``slot("cutoff")``, oldest first."""
    oldest = (IdempotencyRecord.select(IdempotencyRecord.id)
              .where(IdempotencyRecord.date_created < slot("cutoff"))
              .order_by(IdempotencyRecord.date_created).limit(slot("limit")))
    if is_postgres(database.obj):
        # Rows another writer is pruning are left to it, rather than waited for.
        oldest = oldest.for_update(skip_locked=True)
    return oldest


_PRUNE = CompiledStatement(lambda slot: IdempotencyRecord.delete().where(IdempotencyRecord.id.in_(_expired(slot))))
_COMPLETE = CompiledStatement(lambda slot: IdempotencyRecord.update(
    status=slot("status"), transaction=slot("entry")).where(IdempotencyRecord.key == slot("key")))


def prune_some(ttl: int, now: datetime.datetime | None = None, limit: int = PRUNE_PER_CLAIM) -> int:
    """Delete at most ``limit`` expired records (in the caller's transaction); how many went."""
    return _PRUNE.execute(cutoff=cutoff(ttl, now), limit=limit).rowcount


def prune(ttl: int, now: datetime.datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete every record older than ``ttl`` seconds, a batch per transaction; how many went.

    Only the records go: the ledger entries, holds and orders they point at stay.
    """
    now = now or utcnow()
    deleted = 0
    while True:
        with database.atomic():
            count = prune_some(ttl, now, batch)
        deleted += count
        if count < batch:
            return deleted


def complete(key: str, status: int, entry_id: int) -> None:
    """Record the outcome (status and ledger entry) of the request that claimed ``key``."""
    _COMPLETE.execute(status=status, entry=entry_id, key=key)
