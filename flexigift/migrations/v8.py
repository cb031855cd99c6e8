"""Version 8: the event log (a transactional outbox), webhook subscriptions and
their deliveries. Frozen as shipped.

- ``event``: one change that matters, written in the transaction of the change:
  its type (``card.redeemed``), the resource it is about, the issuer whose
  event it is (for issuer tokens and their subscriptions), the actor, and the
  resource's plain-JSON representation at that moment.
- ``webhook``: a subscription (target URL, event type patterns, secret).
- ``delivery``: one event owed to one subscription, with its attempts.
"""
from __future__ import annotations

import datetime

import peewee

from ..db import database


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class _Base(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Event(_Base):
    id = peewee.AutoField()
    type = peewee.CharField(max_length=40)
    resource = peewee.CharField(max_length=20)
    resource_id = peewee.IntegerField()
    issuer_id = peewee.IntegerField(null=True)
    representation = peewee.TextField()
    actor_name = peewee.CharField(max_length=100, null=True)
    actor_role = peewee.CharField(max_length=60, null=True)
    token_id = peewee.IntegerField(null=True)
    date_created = peewee.DateTimeField(default=_now, index=True)

    class Meta:
        table_name = "event"
        indexes = ((("type", "id"), False), (("resource", "resource_id", "id"), False),
                   (("issuer_id", "id"), False))


class Webhook(_Base):
    id = peewee.AutoField()
    url = peewee.CharField(max_length=2000)
    event_types = peewee.TextField()
    secret = peewee.CharField(max_length=200)
    issuer_id = peewee.IntegerField(null=True, index=True)
    status = peewee.CharField(max_length=10, default="active")
    paused_reason = peewee.CharField(max_length=300, null=True)
    consecutive_failures = peewee.IntegerField(default=0)
    actor_name = peewee.CharField(max_length=100, null=True)
    date_created = peewee.DateTimeField(default=_now)
    date_modified = peewee.DateTimeField(default=_now)

    class Meta:
        table_name = "webhook"


class Delivery(_Base):
    id = peewee.AutoField()
    webhook = peewee.ForeignKeyField(Webhook, on_delete="CASCADE")
    event = peewee.ForeignKeyField(Event, on_delete="RESTRICT")
    status = peewee.CharField(max_length=10, default="pending")
    attempts = peewee.IntegerField(default=0)
    last_status_code = peewee.IntegerField(null=True)
    last_error = peewee.CharField(max_length=300, null=True)
    next_attempt_at = peewee.DateTimeField(default=_now)
    delivered_at = peewee.DateTimeField(null=True)
    date_created = peewee.DateTimeField(default=_now)
    date_modified = peewee.DateTimeField(default=_now)

    class Meta:
        table_name = "delivery"
        indexes = ((("status", "next_attempt_at"), False), (("webhook", "status", "id"), False))


MODELS = [Event, Webhook, Delivery]


def apply(db: peewee.Database) -> None:
    db.create_tables(MODELS)
