"""The event log as resources: ``/events`` and ``/events/<id>`` (read only), a
collection like the others (filters on type, with wildcards: ``type=card.*``;
on resource, resource_id and time; paging; every media type).

An event names its type (``card.redeemed``), the resource it is about, who made
the change and, as ``representation``, the resource's plain-JSON
representation at that moment. Events are immutable: PUT, PATCH and DELETE
answer 405.

This module also gives the event outbox its representers: how a row of each
kind is represented (the same properties its resource shows, codes whole).
"""
from __future__ import annotations

from typing import Any, Sequence

from flask import Flask, Response
from flask.views import MethodView
from marshmallow import Schema, fields

from representations import Link

from .. import events
from ..events.types import EVENT_TYPES
from ..models import Event, GiftCard, Transaction
from ..query import fields as q
from ..registry import Relation, registry_of
from .endpoint import Endpoint
from .history import COLLECTIONS
from .present import iso, json_object
from .presenter import current_presenter
from .views import add_routes, collection_page, endpoint_named, state_of


class EventSchema(Schema):
    """One event; every field is read only."""

    type = fields.String(dump_only=True, metadata={"options": EVENT_TYPES})
    resource = fields.String(dump_only=True)
    resource_id = fields.Integer(dump_only=True)
    representation = fields.Dict(dump_only=True)
    actor = fields.Dict(dump_only=True)
    id = fields.Integer(dump_only=True)
    date_created = fields.DateTime(dump_only=True)
    date_modified = fields.DateTime(dump_only=True)


#: kind of resource → its collection (ledger entries too).
RESOURCE_COLLECTIONS = {**COLLECTIONS, "transaction": "transactions", "hold": "holds", "order": "orders"}


class EventEndpoint(Endpoint):
    """One event of the log (read only)."""

    name, kind, title = "events", "event", "Events"
    model = Event
    schema = EventSchema()
    filterable = {
        "type": q.Text(Event.type),
        "resource": q.Text(Event.resource),
        "resource_id": q.Integer(Event.resource_id),
        "actor_name": q.Text(Event.actor_name),
        "actor_role": q.Text(Event.actor_role),
        "id": q.Integer(Event.id),
        "date_created": q.DateTime(Event.date_created),
    }

    def item_title(self, event: Event) -> str:
        return f"{event.type} {event.id}"

    def properties(self, event: Event) -> dict[str, Any]:
        created = iso(event.date_created)
        return {
            "type": event.type,
            "resource": event.resource,
            "resource_id": event.resource_id,
            "representation": json_object(event.representation),
            "actor": None if event.actor_name is None else {"name": event.actor_name,
                                                            "role": event.actor_role},
            "id": event.id,
            "date_created": created,
            "date_modified": created,  # events are never modified
        }

    def links(self, event: Event, urls) -> dict[str, Link]:
        collection = RESOURCE_COLLECTIONS.get(event.resource)
        if collection is None or event.type.endswith(".deleted"):
            return {}
        return {f"fg:{event.resource}": Link(urls.item(collection, event.resource_id),
                                             f"The {event.resource.replace('_', ' ')}")}

    def actions(self, event, urls, properties) -> list:
        return []


class EventView(MethodView):
    """``GET /events/<id>``."""

    def get(self, id: int) -> Response:
        presenter, endpoint = current_presenter(), endpoint_named(EventEndpoint.name)
        return presenter.respond(presenter.item(endpoint, endpoint.lookup(id)))


class EventsView(MethodView):
    """``GET /events``: the whole log, oldest first."""

    def get(self) -> Response:
        return collection_page(endpoint_named(EventEndpoint.name))


RELATIONS = (
    Relation("events", "Events", "The event log (read only): every change that matters (a card "
             "issued, redeemed, disabled…), with its type, the resource, the actor and the "
             "resource's representation at that moment. GET lists them, oldest first, with limit, "
             "offset, filters (type=card.* and the like), order and fields."),
    Relation("event", "Event", "One event: type (<resource>.<past-tense verb>), resource, "
             "resource_id, actor, representation. Never updated or deleted."),
)


#: Rows read per query when representing many (a query holds at most 65,535 parameters on PostgreSQL).
REPRESENT_CHUNK = 10_000


def _representer(endpoint: Endpoint):
    def represent(ids: Sequence[int]) -> list[tuple[int, dict[str, Any], int | None]]:
        ids = list(ids)
        rows = [row for start in range(0, len(ids), REPRESENT_CHUNK)
                for row in endpoint.rows_where(endpoint.model.id, ids[start:start + REPRESENT_CHUNK])]
        return [(row.id, state_of(endpoint, row), events.issuer_of(endpoint.kind, row)) for row in rows]
    return represent


def _entry_representer(endpoint: Endpoint):
    """Ledger entries as the ledger writes them (rows, not yet read back): their cards'
    currency and issuer as the ledger gave them, or else read in one query."""
    def represent(entries: Sequence[Any]) -> list[tuple[int, dict[str, Any], int | None]]:
        if not isinstance(entries[0], Transaction):
            return _representer(endpoint)(entries)
        cards = {}
        for entry in entries:
            known = entry.__rel__.get("gift_card")
            if known is not None and known.currency_code and known.__data__.get("issuer") is not None:
                cards[entry.gift_card_id] = known
        missing = {entry.gift_card_id for entry in entries} - cards.keys()
        if missing:
            cards.update((card.id, card) for card in GiftCard.select(
                GiftCard.id, GiftCard.currency_code, GiftCard.issuer).where(GiftCard.id.in_(sorted(missing))))
        represented = []
        for entry in entries:
            card = cards[entry.gift_card_id]
            entry.gift_card = card
            represented.append((entry.id, state_of(endpoint, entry), card.issuer_id))
        return represented
    return represent


def register_events(app: Flask, represented: Sequence[Endpoint]) -> None:
    """Route the event log; have the outbox represent rows as ``represented`` endpoints do."""
    registry = registry_of(app)
    registry.add_endpoint(EventEndpoint())
    add_routes(app, "/events", EventsView.as_view("events_collection"))
    add_routes(app, "/events/<int:id>", EventView.as_view("events_item"))
    for endpoint in represented:
        events.set_representer(endpoint.kind, (_entry_representer if endpoint.kind == "transaction"
                                               else _representer)(endpoint))
    for relation in RELATIONS:
        registry.define_relation(relation)
