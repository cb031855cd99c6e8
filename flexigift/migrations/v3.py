"""Version 3: API tokens, card grants, rate counters, server secrets, the audit
trail (``change``), and the actor of every ledger entry. Frozen as shipped.
"""
from __future__ import annotations

import secrets

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from ..db import database
from ..models import utcnow
from .v1 import GiftCard


class ApiToken(peewee.Model):
    id = peewee.AutoField()
    name = peewee.CharField(max_length=100)
    role = peewee.CharField(max_length=10)
    issuer_name = peewee.CharField(max_length=50, null=True, index=True)
    token_hash = peewee.CharField(max_length=64, unique=True)
    prefix = peewee.CharField(max_length=12)
    date_created = peewee.DateTimeField(default=utcnow)
    last_used_at = peewee.DateTimeField(null=True)
    revoked_at = peewee.DateTimeField(null=True)

    class Meta:
        database = database
        table_name = "api_token"


class CardGrant(peewee.Model):
    token = peewee.ForeignKeyField(ApiToken, on_delete="CASCADE")
    gift_card = peewee.ForeignKeyField(GiftCard, on_delete="CASCADE")
    expires_at = peewee.DateTimeField()

    class Meta:
        database = database
        table_name = "card_grant"
        primary_key = peewee.CompositeKey("token", "gift_card")


class RateCounter(peewee.Model):
    key = peewee.CharField(max_length=200)
    window = peewee.BigIntegerField()
    hits = peewee.IntegerField()

    class Meta:
        database = database
        table_name = "rate_counter"
        primary_key = peewee.CompositeKey("key", "window")


class ServerSecret(peewee.Model):
    purpose = peewee.CharField(max_length=30, primary_key=True)
    secret = peewee.CharField(max_length=128)

    class Meta:
        database = database
        table_name = "server_secret"


class Change(peewee.Model):
    id = peewee.AutoField()
    resource = peewee.CharField(max_length=20)
    resource_id = peewee.IntegerField()
    action = peewee.CharField(max_length=20)
    changes = peewee.TextField(null=True)
    actor_name = peewee.CharField(max_length=100, null=True)
    actor_role = peewee.CharField(max_length=60, null=True)
    token_id = peewee.IntegerField(null=True)
    date_created = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        database = database
        table_name = "change"
        indexes = ((("resource", "resource_id", "id"), False),)


#: The keys every process shares, made once, when the schema is.
SECRET_PURPOSES = ("csrf", "etag")


def apply(db: peewee.Database) -> None:
    db.create_tables([ApiToken, CardGrant, RateCounter, ServerSecret, Change])
    migrator = SchemaMigrator.from_database(db)
    migrate(
        migrator.add_column("transaction", "actor_name", peewee.CharField(max_length=100, null=True)),
        migrator.add_column("transaction", "actor_role", peewee.CharField(max_length=60, null=True)),
        migrator.add_column("transaction", "token_id", peewee.IntegerField(null=True)),
    )
    for purpose in SECRET_PURPOSES:
        ServerSecret.create(purpose=purpose, secret=secrets.token_hex(32))
