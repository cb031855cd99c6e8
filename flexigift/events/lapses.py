"""Events of time passing: ``hold.lapsed`` when a hold's deadline passes and
``card.expired`` when a card's expiry day does.

No request changes a row when that happens (a hold past its deadline is shown
``lapsed``, a card past its day ``expired``, without a job having to touch
them), so the deliverer announces them: each sweep writes the events of what
has lapsed or expired and was not announced yet. What was announced is read off
the event log itself, so a sweep repeated, interrupted or run by several
deliverers announces each lapse once (on PostgreSQL, sweeps take turns under a
transaction-level advisory lock; SQLite serialises write transactions).

A card's expiry is announced once per expiry day: a card whose expiry is
extended and which then expires again is announced again. A card set to a past
expiry day by a ``PATCH`` is announced by that change (``card.expired``), not
again here.
"""
from __future__ import annotations

import datetime

import peewee

from ..db import is_postgres
from ..models import Event, GiftCard, Hold, utcnow
from ..services.cards import ACTIVE, today_utc
from . import outbox

#: The advisory lock key PostgreSQL sweeps take turns under ("fglapses").
_LOCK_KEY = 0x66676C6170736573
#: At most this many of each kind announced per sweep (the next sweep goes on).
BATCH = 500


def _announced(type: str, resource: str, pk_column, since=None) -> peewee.Expression:
    events = Event.select(Event.id).where((Event.type == type) & (Event.resource == resource)
                                          & (Event.resource_id == pk_column))
    if since is not None:
        events = events.where(Event.date_created >= since)
    return peewee.fn.EXISTS(events)


def _day_after_expiry(database: peewee.Database) -> peewee.Node:
    """SQL: the start of the day after the card's expiry day (the moment it expired)."""
    if is_postgres(database):
        return GiftCard.expiry_date + peewee.SQL("INTERVAL '1 day'")
    return peewee.fn.date(GiftCard.expiry_date, "+1 day")


def lapsed_holds(now: datetime.datetime, limit: int = BATCH) -> list[int]:
    """Active holds past their deadline whose lapse was not announced."""
    query = (Hold.select(Hold.id)
             .where((Hold.status == "active") & (Hold.deadline <= now)
                    & ~_announced("hold.lapsed", "hold", Hold.id))
             .order_by(Hold.id).limit(limit))
    return [pk for pk, in query.tuples()]


def expired_cards(database: peewee.Database, today: datetime.date, limit: int = BATCH) -> list[int]:
    """Active cards past their expiry day whose expiry (that day's) was not announced."""
    query = (GiftCard.select(GiftCard.id)
             .where((GiftCard.status == ACTIVE) & GiftCard.expiry_date.is_null(False)
                    & (GiftCard.expiry_date < today)
                    & ~_announced("card.expired", "gift_card", GiftCard.id, _day_after_expiry(database)))
             .order_by(GiftCard.id).limit(limit))
    return [pk for pk, in query.tuples()]


def announce(database: peewee.Database, limit: int = BATCH) -> int:
    """Write the events of holds that lapsed and cards that expired since the last sweep;
    how many. Needs the app's representers (``create_app`` registers them)."""
    with database.connection_context(), database.atomic():
        if is_postgres(database):
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        holds = lapsed_holds(utcnow(), limit)
        cards = expired_cards(database, today_utc(), limit)
        outbox.emit_many("hold.lapsed", "hold", holds)
        outbox.emit_many("card.expired", "gift_card", cards)
    return len(holds) + len(cards)
