"""The peewee models: issuers, users, gift cards, products and the ledger.

Money is stored in minor units (cents) as integers, never as floats. Times
are stored as naive UTC and shown with their offset. A card's owner is one
column (``GiftCard.user``): the user's list of cards is read from it, so the
two views can never disagree.
"""
from __future__ import annotations

import datetime

import peewee

from .db import database


def utcnow() -> datetime.datetime:
    """Now, in UTC, without tzinfo (as stored), to the microsecond."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class BaseModel(peewee.Model):
    """Common columns: ``id``, ``date_created``, ``date_modified``."""

    id = peewee.AutoField()
    date_created = peewee.DateTimeField(default=utcnow)
    date_modified = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        database = database
        legacy_table_names = False

    def touch(self) -> None:
        self.date_modified = utcnow()


class Issuer(BaseModel):
    """A card programme: the issuer's currency, expiry policy and product restrictions."""

    name = peewee.CharField(max_length=50, unique=True)
    currency_code = peewee.CharField(max_length=3, default="USD")
    expires_after = peewee.CharField(max_length=20, null=True)
    product_code_restrictions = peewee.TextField(null=True)


class User(BaseModel):
    """A shopper registered by a shopper app."""

    user_id = peewee.CharField(max_length=50, unique=True)
    amazon_id = peewee.CharField(max_length=50, null=True)
    name = peewee.CharField(max_length=100, null=True)
    email = peewee.CharField(max_length=254, null=True)


class GiftCard(BaseModel):
    """One card: a code that holds a balance, linked to at most one user."""

    card_id = peewee.CharField(max_length=50, unique=True)
    user = peewee.ForeignKeyField(User, null=True, backref="gift_cards", on_delete="RESTRICT")
    issuer = peewee.ForeignKeyField(Issuer, backref="gift_cards", on_delete="RESTRICT")
    balance = peewee.BigIntegerField()
    initial_balance = peewee.BigIntegerField()
    currency_code = peewee.CharField(max_length=3)
    expiry_date = peewee.DateField(null=True)
    status = peewee.CharField(max_length=10, default="active")
    single_use = peewee.BooleanField(default=False)
    rechargeable = peewee.BooleanField(default=True)
    balance_max = peewee.BigIntegerField(null=True)
    recipient_email = peewee.CharField(max_length=254, null=True)
    reference = peewee.CharField(max_length=100, null=True)
    metadata = peewee.TextField(null=True)

    class Meta:
        constraints = [peewee.SQL("CHECK (balance >= 0)")]


class Product(BaseModel):
    """A product an issuer allows its cards to buy."""

    product_id = peewee.CharField(max_length=50, unique=True)
    name = peewee.CharField(max_length=200)
    price = peewee.BigIntegerField()
    issuer = peewee.ForeignKeyField(Issuer, backref="products", on_delete="RESTRICT")


class Transaction(peewee.Model):
    """One entry of a card's ledger. Append only: never updated, never deleted."""

    id = peewee.AutoField()
    gift_card = peewee.ForeignKeyField(GiftCard, backref="transactions", on_delete="RESTRICT")
    kind = peewee.CharField(max_length=10)
    amount = peewee.BigIntegerField()
    balance_after = peewee.BigIntegerField()
    product = peewee.ForeignKeyField(Product, null=True, on_delete="RESTRICT")
    user = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    order_reference = peewee.CharField(max_length=100, null=True)
    idempotency_key = peewee.CharField(max_length=255, null=True)
    refund_of = peewee.ForeignKeyField("self", null=True, backref="refunds", on_delete="RESTRICT")
    date_created = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        database = database
        legacy_table_names = False


class IdempotencyRecord(peewee.Model):
    """The first outcome of a money request sent with an ``Idempotency-Key``.

    ``key`` is unique, so two first attempts with one key are serialised by the
    database: the second waits for the first and then reads its outcome.
    ``fingerprint`` identifies the request (method, path, normalised body), so a
    key reused for a different request is refused. Only successful outcomes are
    stored: a refused request writes nothing, so its retry is decided afresh.
    """

    id = peewee.AutoField()
    key = peewee.CharField(max_length=255, unique=True)
    fingerprint = peewee.CharField(max_length=64)
    status = peewee.IntegerField(null=True)
    transaction = peewee.ForeignKeyField(Transaction, null=True, on_delete="RESTRICT")
    date_created = peewee.DateTimeField(default=utcnow)

    class Meta:
        database = database
        legacy_table_names = False


class SchemaVersion(peewee.Model):
    """Which migrations have been applied to this database."""

    version = peewee.IntegerField(primary_key=True)
    applied_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        database = database
        table_name = "schema_version"


class RowCount(peewee.Model):
    """How many rows a table holds, kept by triggers on PostgreSQL (where COUNT(*)
    reads the whole table): a table's shards add up to its row count. Writers
    add to the shard of their server connection, so concurrent inserts into one
    table rarely wait for each other's counter row."""

    table_name = peewee.CharField(max_length=63)
    shard = peewee.SmallIntegerField()
    rows = peewee.BigIntegerField()

    class Meta:
        database = database
        table_name = "row_count"
        primary_key = peewee.CompositeKey("table_name", "shard")


MODELS = [Issuer, User, GiftCard, Product, Transaction, IdempotencyRecord]
#: The tables whose rows PostgreSQL counts with triggers (the collections' tables).
COUNTED = (Issuer, User, GiftCard, Product, Transaction)
#: Every table the migrations create (MODELS, then the bookkeeping ones).
TABLES = [*MODELS, RowCount, SchemaVersion]
