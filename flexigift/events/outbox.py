"""The transactional outbox: an event is written in the same database transaction
as the change it announces, so a change that rolls back leaves no event and a
committed one always has its event. The deliveries each matching subscription
is owed are written with it (in event order, so the deliverer keeps that order).

Services call :func:`record_event` (or :func:`emit` with a row, whose
representation the kind's registered representer builds): one call, inside
their transaction.
"""
from __future__ import annotations

import datetime
import json
from typing import Any, Callable, Iterable, Sequence

import peewee

from representations.encoding import dumps, json_value

from ..db import is_postgres
from ..models import Delivery, Event, GiftCard, Hold, Transaction, Webhook, utcnow
from ..query.compiled import CompiledStatement
from ..services.actors import current_actor
from ..services.bulk import insert_rows
from .types import matches

#: kind → builds ``[(row id, plain-JSON representation, issuer id)]`` for rows or their ids.
Representer = Callable[[Sequence[Any]], list[tuple[int, dict[str, Any], int | None]]]
_representers: dict[str, Representer] = {}

_EVENT_FIELDS = (Event.type, Event.resource, Event.resource_id, Event.issuer_id, Event.representation,
                 Event.actor_name, Event.actor_role, Event.token_id, Event.date_created)
_DELIVERY_FIELDS = (Delivery.webhook, Delivery.event, Delivery.status, Delivery.attempts,
                    Delivery.next_attempt_at, Delivery.date_created, Delivery.date_modified)


def set_representer(kind: str, representer: Representer) -> None:
    """Have :func:`emit` build ``kind`` representations with ``representer`` (set at start-up)."""
    _representers[kind] = representer


def record_event(type: str, resource: tuple[str, int], representation: dict[str, Any], *,
                 issuer_id: int | None = None) -> int:
    """Write one event (``resource``: its kind and id) and the deliveries it is owed; its id.

    Call inside the transaction of the change. ``issuer_id``: the issuer whose event
    it is (an issuer's token and subscriptions see only theirs).
    """
    return record_events(type, [(resource[0], resource[1], representation, issuer_id)])[0]


def _event_rows(type: str, events: Iterable[tuple[str, int, dict[str, Any], int | None]],
                now: datetime.datetime) -> list[tuple]:
    """The columns (:data:`_EVENT_FIELDS`) of events of one type (kind, id, representation, issuer id)."""
    actor = current_actor()
    return [(type, kind, pk, issuer_id, dumps(json_value(representation)).decode(), actor.name,
             actor.role, actor.token_id, Event.date_created.db_value(now))
            for kind, pk, representation, issuer_id in events]


def record_events(type: str, events: Iterable[tuple[str, int, dict[str, Any], int | None]]) -> list[int]:
    """Several events of one type (kind, id, representation, issuer id), in bulk; their ids."""
    now = utcnow()
    rows = _event_rows(type, events, now)
    if not rows:
        return []
    if len(rows) == 1 and is_postgres():  # the event and the subscriptions in one round trip
        written = _EVENT_AND_SUBSCRIPTIONS.execute(**dict(zip(_EVENT_SLOTS, rows[0]))).fetchall()
        ids = [written[0][0]]
        subscriptions = [webhook for _, *webhook in written if webhook[0] is not None]
    else:
        ids = [pk for pk, in insert_rows(Event, _EVENT_FIELDS, rows, returning=(Event.id,))]
        subscriptions = _SUBSCRIPTIONS.execute().fetchall()
    _owe_deliveries(type, list(zip(ids, (row[3] for row in rows))), now, subscriptions)
    return ids


#: Every subscription and the event types it wants (read with each event: never cached, so a
#: subscription made by another process is owed the very next event).
_SUBSCRIPTIONS = CompiledStatement(lambda slot: Webhook.select(Webhook.id, Webhook.issuer_id, Webhook.event_types))
_EVENT_SLOTS = [field.name for field in _EVENT_FIELDS]


def _event_and_subscriptions(slot) -> peewee.Query:
    """PostgreSQL: insert one event and read every subscription, in one statement: its id
    beside each subscription (one row with no subscription when there is none)."""
    new_event = (Event.insert({field: slot(field.name) for field in _EVENT_FIELDS})
                 .returning(Event.id).cte("new_event", columns=("id",)))
    return (peewee.Select(from_list=[new_event],
                          columns=[new_event.c.id, Webhook.id, Webhook.issuer_id, Webhook.event_types])
            .join(Webhook, peewee.JOIN.LEFT_OUTER, on=peewee.SQL("TRUE")).with_cte(new_event))


_EVENT_AND_SUBSCRIPTIONS = CompiledStatement(_event_and_subscriptions)


# -- an event written by the statement of the change it announces (PostgreSQL) ---------
class PendingEvent:
    """The event ``type`` about ``row`` (a ``kind`` resource), represented before the row is
    written, for a statement that writes both (:func:`insert_event_after`); then
    :meth:`written` owes its deliveries. The row must be as it will be written."""

    def __init__(self, type: str, kind: str, row: Any):
        self.type, self.now = type, utcnow()
        [(pk, representation, issuer_id)] = _representers[kind]([row])
        self.issuer_id = issuer_id
        row = _event_rows(type, [(kind, pk, representation, issuer_id)], self.now)[0]
        self.values = {f"event_{name}": value for name, value in zip(_EVENT_SLOTS, row)}

    def written(self, event_id: int, subscriptions: list[tuple[int, int | None, str]]) -> None:
        """The statement wrote the event (``event_id``) and read ``subscriptions`` (id,
        issuer id, event types): the deliveries it is owed."""
        _owe_deliveries(self.type, [(event_id, self.issuer_id)], self.now, subscriptions)


def insert_event_after(source: peewee.CTE, slot, cast: Callable[[peewee.Field, peewee.Node], peewee.Node],
                       ) -> peewee.CTE:
    """PostgreSQL: a CTE that inserts the event of :class:`PendingEvent`'s values (in slots
    named ``event_`` and the event's field, each given its column's type by ``cast``) once for
    each row of ``source`` (none when the change it announces wrote nothing), returning its id."""
    values = peewee.Select(from_list=[source],
                           columns=[cast(field, slot(f"event_{field.name}")) for field in _EVENT_FIELDS])
    return Event.insert_from(values, list(_EVENT_FIELDS)).returning(Event.id).cte("new_event", columns=("id",))


def with_subscriptions(new_event: peewee.CTE, *columns: peewee.Node) -> peewee.Select:
    """A select of ``columns`` beside the new event's id and every subscription (id, issuer
    id, event types; one row with none when there is no subscription): never cached, as
    :data:`_SUBSCRIPTIONS`."""
    return (peewee.Select(from_list=[new_event],
                          columns=[new_event.c.id, *columns, Webhook.id, Webhook.issuer_id, Webhook.event_types])
            .join(Webhook, peewee.JOIN.LEFT_OUTER, on=peewee.SQL("TRUE")))


def _owe_deliveries(type: str, events: list[tuple[int, int | None]], now,
                    webhooks: list[tuple[int, int | None, str]]) -> None:
    """A pending delivery of each event to every subscription (of ``webhooks``: id, issuer
    id, event types) that wants it and may see it."""
    subscriptions = [(pk, issuer_id) for pk, issuer_id, patterns in webhooks
                     if any(matches(pattern, type) for pattern in json.loads(patterns))]
    if not subscriptions:
        return
    stamp = Delivery.date_created.db_value(now)
    rows = [(webhook, event, "pending", 0, stamp, stamp, stamp)
            for event, event_issuer in events
            for webhook, webhook_issuer in subscriptions
            if webhook_issuer is None or webhook_issuer == event_issuer]
    if rows:
        insert_rows(Delivery, _DELIVERY_FIELDS, rows)


def emit(type: str, kind: str, row: Any) -> int:
    """Write the event ``type`` about ``row`` (or its id), a ``kind`` resource, as it is now."""
    return emit_many(type, kind, [row])[0]


def emit_many(type: str, kind: str, rows: Sequence[Any]) -> list[int]:
    """The same event about several rows (or ids) of one kind, as they are now."""
    if not rows:
        return []
    represented = _representers[kind](rows)
    return record_events(type, [(kind, pk, representation, issuer_id)
                                for pk, representation, issuer_id in represented])


def issuer_of(kind: str, row: Any) -> int | None:
    """The issuer whose event a change of ``row`` is (``None``: no issuer's, an admin's)."""
    if kind in ("gift_card", "product"):
        return row.issuer_id
    if kind == "issuer":
        return row.id
    if kind in ("transaction", "hold"):
        return GiftCard.select(GiftCard.issuer).where(GiftCard.id == row.gift_card_id).scalar()
    if kind == "order":  # its cards' issuer; an order paid with several issuers' cards is no one issuer's
        paid_with = (Hold.select(Hold.gift_card).where(Hold.order == row.id)
                     | Transaction.select(Transaction.gift_card).where(Transaction.order == row.id))
        issuers = {pk for pk, in GiftCard.select(GiftCard.issuer).distinct()
                   .where(GiftCard.id.in_(paid_with)).tuples()}
        return issuers.pop() if len(issuers) == 1 else None
    return None
