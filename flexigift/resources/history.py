"""The audit trail as resources: ``/changes`` and ``/changes/<id>``, and each
resource's history (``fg:history``: ``/gift_cards/<id>/history`` and the like),
a collection like the others, oldest first.

A change names its resource, its action (created, updated, deleted, disabled,
enabled, extended: an expired card's expiry date moved on, linked, unlinked),
who made it (``actor``: the token's name and
role) and what changed (``changes``: ``{property: [before, after]}``). Money
moves are in the ledger (``fg:transactions``), whose entries carry their actor.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask.views import MethodView
from marshmallow import Schema, fields

from representations import Link

from ..models import Change
from ..query import fields as q
from ..registry import Relation, registry_of
from ..services.actors import shown_code
from .endpoint import Endpoint
from .present import iso, json_object
from .presenter import current_presenter
from .views import add_routes, collection_page, endpoint_named, register_subcollection

ACTIONS = ("created", "updated", "deleted", "disabled", "enabled", "extended", "linked", "unlinked")
#: kind of resource → its collection (for the link to it).
COLLECTIONS = {"user": "users", "gift_card": "gift_cards", "product": "products", "issuer": "issuers"}
#: Changed properties that hold card codes, by kind of resource.
CODES = {"gift_card": ("card_id",), "user": ("gift_cards",)}


class ChangeSchema(Schema):
    """One change; every field is read only."""

    resource = fields.String(dump_only=True, metadata={"options": tuple(COLLECTIONS)})
    resource_id = fields.Integer(dump_only=True)
    action = fields.String(dump_only=True, metadata={"options": ACTIONS})
    changes = fields.Dict(dump_only=True)
    actor = fields.Dict(dump_only=True)
    id = fields.Integer(dump_only=True)
    date_created = fields.DateTime(dump_only=True)
    date_modified = fields.DateTime(dump_only=True)


def _masked(value: Any) -> Any:
    if isinstance(value, list):
        return [shown_code(item) if isinstance(item, str) else item for item in value]
    return shown_code(value) if isinstance(value, str) else value


class ChangeEndpoint(Endpoint):
    """One entry of the audit trail (read only)."""

    name, kind, title = "changes", "change", "Changes"
    model = Change
    schema = ChangeSchema()
    # Derived from the schema's fields on the model's columns; declared: the actor's
    # columns (the property ``actor`` is an object).
    filterable = q.derived_filters(schema, Change, actor_name=q.Text(Change.actor_name),
                                   actor_role=q.Text(Change.actor_role),
                                   date_modified=q.DateTime(Change.date_created))  # never modified

    def item_title(self, change: Change) -> str:
        return f"{change.action} {change.resource} {change.resource_id}"

    def properties(self, change: Change) -> dict[str, Any]:
        created = iso(change.date_created)
        changed = json_object(change.changes) or {}
        for name in CODES.get(change.resource, ()):
            if name in changed:
                changed[name] = [_masked(value) for value in changed[name]]
        return {
            "resource": change.resource,
            "resource_id": change.resource_id,
            "action": change.action,
            "changes": changed,
            "actor": None if change.actor_name is None else {"name": change.actor_name,
                                                             "role": change.actor_role},
            "id": change.id,
            "date_created": created,
            "date_modified": created,  # changes are never modified
        }

    def links(self, change: Change, urls) -> dict[str, Link]:
        collection = COLLECTIONS.get(change.resource)
        if collection is None or change.action == "deleted":
            return {}
        return {f"fg:{change.resource}": Link(urls.item(collection, change.resource_id),
                                              f"The {change.resource.replace('_', ' ')}")}

    def actions(self, change, urls, properties) -> list:
        return []


class ChangeView(MethodView):
    """``GET /changes/<id>``."""

    def get(self, id: int) -> Response:
        presenter, endpoint = current_presenter(), endpoint_named(ChangeEndpoint.name)
        return presenter.respond(presenter.item(endpoint, endpoint.lookup(id)))


class ChangesView(MethodView):
    """``GET /changes``: the whole audit trail."""

    def get(self) -> Response:
        return collection_page(endpoint_named(ChangeEndpoint.name))


def _history_link(collection: str):
    def provider(obj, urls) -> dict[str, Link]:
        return {"fg:history": Link(urls.sub(collection, obj.id, "history"), "History of changes")}
    return provider


RELATIONS = (
    Relation("changes", "Changes", "The audit trail (read only): every change of a user, card, "
             "product or issuer, with its action, its actor (the token's name and role) and what "
             "changed. GET lists them, with limit, offset, filters, order and fields."),
    Relation("change", "Change", "One change: resource, resource_id, action (created, updated, "
             "deleted, disabled, enabled, extended, linked, unlinked), actor, changes ({property: [before, "
             "after]}). Never updated or deleted."),
    Relation("history", "History", "The changes of one resource, oldest first (its money moves "
             "are in its transactions)."),
)


def register_history(app: Flask, endpoint: ChangeEndpoint, parents: dict[Endpoint, str]) -> None:
    """Route the audit trail, and each parent's history (``parents``: endpoint → kind)."""
    registry = registry_of(app)
    registry.add_endpoint(endpoint)
    add_routes(app, "/changes", ChangesView.as_view("changes_collection"))
    add_routes(app, "/changes/<int:id>", ChangeView.as_view("changes_item"))
    for parent, kind in parents.items():
        register_subcollection(app, parent, endpoint, name="history",
                               scope=lambda owner, kind=kind: (Change.resource == kind)
                               & (Change.resource_id == owner.id))
        registry.add_links(kind, "history", _history_link(parent.name))
    for relation in RELATIONS:
        registry.define_relation(relation)
