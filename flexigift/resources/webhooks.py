"""Webhook subscriptions and their deliveries as resources.

- ``/webhooks`` (``fg:webhooks``): subscriptions ``{"url", "event_types", "secret"}``.
  The secret is write only: it is shown masked to its last characters. A
  subscription made with an issuer's token sees only that issuer's events (and
  only that issuer's token, or an admin's, manages it). ``status`` is
  ``active`` or ``paused`` (the deliverer pauses one that keeps failing and
  says why in ``paused_reason``); PATCH ``status`` to ``active`` resumes it.
- ``/webhooks/<id>/deliveries``: each event owed to it, with its status
  (``pending``, ``delivered``, ``failed``), attempts, last response code and
  next attempt; ``POST /deliveries/<id>/redeliver`` sends one again.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, current_app
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates

from representations import Link

from ..auth.principal import current_principal
from ..db import database
from ..errors import Conflict
from ..events.targets import target_problem
from ..events.types import EVENT_TYPES, pattern_problem
from ..models import Delivery, Event, Webhook, utcnow
from ..query import fields as q
from ..registry import Relation, registry_of
from ..services.actors import MASK, current_actor
from .actions import ActionView, register_action
from .endpoint import Endpoint
from .inputs import action_body
from .present import iso
from .presenter import current_presenter
from .views import add_routes, endpoint_named, register, register_subcollection

STATUSES = ("active", "paused")
DELIVERY_STATUSES = ("pending", "delivered", "failed")
#: How much of a secret a representation shows.
SECRET_SHOWN = 4


class WebhookSchema(Schema):
    """A subscription: where to POST, which events, and the secret that signs them."""

    url = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                        metadata={"input": "url", "title": "Target URL (http or https)"})
    event_types = fields.List(fields.String(validate=validate.Length(min=1, max=40)), required=True,
                              validate=validate.Length(min=1, max=50),
                              metadata={"title": "Event types (card.*, card.redeemed, *)",
                                        "options": EVENT_TYPES})
    secret = fields.String(required=True, validate=validate.Length(min=16, max=200),
                           metadata={"input": "password", "title": "Secret (16+ characters; signs deliveries)"})
    status = fields.String(validate=validate.OneOf(
        STATUSES, error="Must be active or paused."))
    paused_reason = fields.String(dump_only=True)
    consecutive_failures = fields.Integer(dump_only=True)
    id = fields.Integer(dump_only=True)
    date_created = fields.DateTime(dump_only=True)
    date_modified = fields.DateTime(dump_only=True)

    @validates("event_types")
    def _known_types(self, value: list[str], **_) -> None:
        problems = [problem for problem in map(pattern_problem, value) if problem]
        if problems:
            raise ValidationError(problems[0])

    @validates("url")
    def _allowed_target(self, value: str, **_) -> None:
        problem = target_problem(value, current_app.config["FLEXIGIFT"].webhooks_allow_private)
        if problem:
            raise ValidationError(f"The webhook URL {problem}.")


def masked_secret(secret: str) -> str:
    return MASK + secret[-SECRET_SHOWN:]


class WebhookEndpoint(Endpoint):
    """``/webhooks``: the subscriptions."""

    name, kind, title = "webhooks", "webhook", "Webhooks"
    model = Webhook
    schema = WebhookSchema()
    required_on_create_only = ("secret",)
    kept_on_put = ("status", "secret")
    filterable = {
        "url": q.Text(Webhook.url),
        "status": q.Text(Webhook.status),
        "id": q.Integer(Webhook.id),
        "date_created": q.DateTime(Webhook.date_created),
    }

    def item_title(self, webhook: Webhook) -> str:
        return webhook.url

    def properties(self, webhook: Webhook) -> dict[str, Any]:
        return {
            "url": webhook.url,
            "event_types": json.loads(webhook.event_types),
            "secret": masked_secret(webhook.secret),
            "status": webhook.status,
            "paused_reason": webhook.paused_reason,
            "consecutive_failures": webhook.consecutive_failures,
            "id": webhook.id,
            "date_created": iso(webhook.date_created),
            "date_modified": iso(webhook.date_modified),
        }

    def links(self, webhook: Webhook, urls) -> dict[str, Link]:
        return {"fg:deliveries": Link(urls.sub("webhooks", webhook.id, "deliveries"), "Deliveries")}

    def create(self, data: dict[str, Any]) -> Webhook:
        principal = current_principal()
        if principal.role.kind == "issuer" and principal.issuer_id is None:
            raise Conflict(f"Issuer {principal.role.issuer_name!r} does not exist yet: create it before "
                           "subscribing to its events.", logref="no_such_issuer")
        return Webhook.create(url=data["url"], event_types=json.dumps(data["event_types"]),
                              secret=data["secret"], status=data.get("status", "active"),
                              issuer_id=principal.issuer_id, actor_name=current_actor().name)

    def change(self, webhook: Webhook, data: dict[str, Any], *, replace: bool) -> Webhook:
        if "url" in data:
            webhook.url = data["url"]
        if "event_types" in data:
            webhook.event_types = json.dumps(data["event_types"])
        if data.get("secret") and not data["secret"].startswith(MASK):
            webhook.secret = data["secret"]
        if data.get("status") and data["status"] != webhook.status:
            webhook.status = data["status"]
            if webhook.status == "active":
                webhook.paused_reason, webhook.consecutive_failures = None, 0
            else:
                webhook.paused_reason = f"paused by {current_actor().name}"
        webhook.date_modified = utcnow()
        webhook.save()
        return webhook

    def load(self, body: dict[str, Any], *, partial=False) -> dict[str, Any]:
        if isinstance(body.get("secret"), str) and body["secret"].startswith(MASK):
            body = {name: value for name, value in body.items() if name != "secret"}  # sent back as read
            partial = True if partial is True else (*(partial or ()), "secret")
        return super().load(body, partial=partial)

    def delete(self, webhook: Webhook) -> None:
        Delivery.delete().where(Delivery.webhook == webhook.id).execute()
        webhook.delete_instance()


class DeliveryEndpoint(Endpoint):
    """One event owed to one subscription (read only; ``redeliver`` sends it again)."""

    name, kind, title = "deliveries", "delivery", "Deliveries"
    model = Delivery
    schema = type("DeliverySchema", (Schema,), {
        "event_type": fields.String(dump_only=True),
        "status": fields.String(dump_only=True, metadata={"options": DELIVERY_STATUSES}),
        "attempts": fields.Integer(dump_only=True),
        "last_status_code": fields.Integer(dump_only=True),
        "last_error": fields.String(dump_only=True),
        "next_attempt_at": fields.DateTime(dump_only=True),
        "delivered_at": fields.DateTime(dump_only=True),
        "id": fields.Integer(dump_only=True),
        "date_created": fields.DateTime(dump_only=True),
        "date_modified": fields.DateTime(dump_only=True),
    })()
    filterable = {
        "status": q.Text(Delivery.status),
        "event_type": q.Text(Event.type),
        "attempts": q.Integer(Delivery.attempts),
        "last_status_code": q.Integer(Delivery.last_status_code),
        "id": q.Integer(Delivery.id),
        "date_created": q.DateTime(Delivery.date_created),
    }

    def select(self):
        return Delivery.select(Delivery, Event.id, Event.type).join(Event)

    def item_title(self, delivery: Delivery) -> str:
        return f"{delivery.event.type} {delivery.id}"

    def properties(self, delivery: Delivery) -> dict[str, Any]:
        return {
            "event_type": delivery.event.type,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error,
            "next_attempt_at": iso(delivery.next_attempt_at) if delivery.status == "pending" else None,
            "delivered_at": iso(delivery.delivered_at),
            "id": delivery.id,
            "date_created": iso(delivery.date_created),
            "date_modified": iso(delivery.date_modified),
        }

    def links(self, delivery: Delivery, urls) -> dict[str, Link]:
        return {
            "fg:event": Link(urls.item("events", delivery.event_id), "The event"),
            "fg:webhook": Link(urls.item("webhooks", delivery.webhook_id), "The subscription"),
            "fg:redeliver": Link(urls.sub("deliveries", delivery.id, "redeliver"), "Deliver it again"),
        }

    def actions(self, delivery, urls, properties) -> list:
        return []


class RedeliverView(ActionView):
    """``POST /deliveries/<id>/redeliver``: send a delivery again, as soon as its turn comes."""

    name, title, schema = "redeliver", "Deliver this event again", Schema()

    def target(self, id: int, urls) -> tuple[str, Link]:
        delivery = endpoint_named("deliveries").lookup(id)
        return "fg:delivery", Link(urls.item("deliveries", delivery.id), f"Delivery {delivery.id}")

    def post(self, id: int) -> Response:
        action_body(self.schema)
        endpoint, presenter = endpoint_named("deliveries"), current_presenter()
        with database.atomic():
            delivery = endpoint.lookup(id, for_update=True)
            now = utcnow()
            (Delivery.update(status="pending", next_attempt_at=now, date_modified=now)
             .where(Delivery.id == delivery.id).execute())
            representation = presenter.item(endpoint, endpoint.lookup(id))
        return presenter.respond(representation)


RELATIONS = (
    Relation("webhooks", "Webhooks", "Subscriptions to events: POST url (http or https, no "
             "credentials, no private address), event_types (card.*, card.redeemed, *) and secret "
             "(16+ characters; write only). Each matching event is POSTed as HAL+JSON with the "
             "headers Flexigift-Event-Id, Flexigift-Event-Type and Flexigift-Signature "
             "(t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the secret)."),
    Relation("webhook", "Webhook", "One subscription: url, event_types, secret (masked), status "
             "(active or paused, with paused_reason; PATCH status active to resume)."),
    Relation("deliveries", "Deliveries", "The events owed to a subscription, oldest first: status "
             "(pending, delivered, failed), attempts, last_status_code, next_attempt_at."),
    Relation("delivery", "Delivery", "One event owed to one subscription."),
    Relation("event", "Event", "The event a delivery carries."),
    Relation("redeliver", "Redeliver", "POST (empty body) to send a delivery again.",
             ("GET", "HEAD", "OPTIONS", "POST"), {"POST": Schema()}),
)


def register_webhooks(app: Flask) -> None:
    """Route the subscriptions, their deliveries and the redeliver action."""
    registry = registry_of(app)
    webhooks, deliveries = WebhookEndpoint(), DeliveryEndpoint()
    register(app, webhooks)
    registry.add_endpoint(deliveries, home=False)
    add_routes(app, "/deliveries/<int:id>", _DeliveryView.as_view("deliveries_item"))
    register_subcollection(app, webhooks, deliveries, Delivery.webhook)
    register_action(app, "/deliveries/<int:id>/redeliver", RedeliverView, "delivery_redeliver")
    for relation in RELATIONS:
        registry.define_relation(relation)


class _DeliveryView(MethodView):
    """``GET /deliveries/<id>``."""

    def get(self, id: int) -> Response:
        presenter, endpoint = current_presenter(), endpoint_named("deliveries")
        return presenter.respond(presenter.item(endpoint, endpoint.lookup(id)))
